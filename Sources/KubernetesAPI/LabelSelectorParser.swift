import MrunSupport

/// A selector the API server would refuse with 400 BadRequest. `message` is worded as
/// kube-apiserver words it, so a fake server can return it as the Status message.
public struct LabelSelectorError: UserFacingError, Equatable {
    public var selector: String
    public var message: String

    public var description: String {
        "invalid label selector \(quoted: selector): \(message)"
    }
}

extension Kubernetes.LabelSelector {
    /// Parses the query-string form with kube-apiserver's grammar and checks keys and values:
    /// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`, joined by `,`.
    public init(parsing text: String) throws(LabelSelectorError) {
        var lexer = SelectorLexer(text)
        var parser = SelectorParser(tokens: lexer.tokens())
        do {
            self.init(requirements: try parser.parse())
        } catch {
            throw LabelSelectorError(selector: text, message: error.message)
        }
    }
}

private enum SelectorToken: Equatable {
    case identifier, `in`, notIn, equals, doubleEquals, notEquals, doesNotExist
    case greaterThan, lessThan, openPar, closedPar, comma, end, error
}

private struct SelectorLexer {
    private let bytes: [UInt8]
    private var position = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    private static let keywords: [String: SelectorToken] = [
        "in": .in, "notin": .notIn, "=": .equals, "==": .doubleEquals, "!=": .notEquals, "!": .doesNotExist,
        ">": .greaterThan, "<": .lessThan, "(": .openPar, ")": .closedPar, ",": .comma,
    ]

    private static func isSpecial(_ byte: UInt8) -> Bool { "=!(),><".utf8.contains(byte) }
    private static func isWhitespace(_ byte: UInt8) -> Bool { " \t\r\n".utf8.contains(byte) }

    mutating func tokens() -> [(SelectorToken, String)] {
        var tokens: [(SelectorToken, String)] = []
        while true {
            let token = next()
            tokens.append(token)
            if token.0 == .end { return tokens }
        }
    }

    private mutating func next() -> (SelectorToken, String) {
        while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
        guard position < bytes.count else { return (.end, "") }
        return Self.isSpecial(bytes[position]) ? special() : word()
    }

    /// The longest run of symbols that is an operator, so `!=` is one token and `=(` two.
    private mutating func special() -> (SelectorToken, String) {
        var end = position
        var longest: (SelectorToken, String, Int)?
        while end < bytes.count, Self.isSpecial(bytes[end]) {
            end += 1
            let literal = String(decoding: bytes[position..<end], as: UTF8.self)
            if let token = Self.keywords[literal] {
                longest = (token, literal, end)
            } else if longest != nil {
                break
            }
        }
        guard let (token, literal, after) = longest else {
            let found = String(decoding: bytes[position..<end], as: UTF8.self)
            position = end
            return (.error, "error expected: keyword found \(quoted: found)")
        }
        position = after
        return (token, literal)
    }

    private mutating func word() -> (SelectorToken, String) {
        let start = position
        while position < bytes.count, !Self.isSpecial(bytes[position]), !Self.isWhitespace(bytes[position]) {
            position += 1
        }
        let literal = String(decoding: bytes[start..<position], as: UTF8.self)
        if let keyword = Self.keywords[literal] { return (keyword, literal) }
        return (.identifier, literal)
    }
}

private struct SelectorParseError: Error {
    var message: String
}

/// kube-apiserver's recursive-descent parser (k8s.io/apimachinery/pkg/labels), whose error texts
/// it keeps. `in`/`notin` are words where a value is expected: `x in (in)` is legal.
private struct SelectorParser {
    typealias Requirement = Kubernetes.LabelSelector.Requirement

    let tokens: [(SelectorToken, String)]
    var position = 0

    private enum Context { case keyAndOperator, values }

    private func lookahead(_ context: Context) -> (SelectorToken, String) {
        let (token, literal) = tokens[min(position, tokens.count - 1)]
        if context == .values, token == .in || token == .notIn { return (.identifier, literal) }
        return (token, literal)
    }

    private mutating func consume(_ context: Context) -> (SelectorToken, String) {
        let item = lookahead(context)
        position += 1
        return item
    }

    mutating func parse() throws(SelectorParseError) -> [Requirement] {
        var requirements: [Requirement] = []
        while true {
            let (token, literal) = lookahead(.values)
            switch token {
            case .identifier, .doesNotExist:
                do {
                    requirements.append(try parseRequirement())
                } catch {
                    throw SelectorParseError(message: "unable to parse requirement: \(error.message)")
                }
                let (after, afterLiteral) = consume(.values)
                switch after {
                case .end:
                    return requirements
                case .comma:
                    let (next, nextLiteral) = lookahead(.values)
                    if next != .identifier && next != .doesNotExist {
                        throw SelectorParseError(
                            message: "found \(quoted: nextLiteral), expected: identifier after ','")
                    }
                default:
                    throw SelectorParseError(message: "found \(quoted: afterLiteral), expected: ',' or 'end of string'")
                }
            case .end:
                return requirements
            default:
                throw SelectorParseError(
                    message: "found \(quoted: literal), expected: !, identifier, or 'end of string'")
            }
        }
    }

    private mutating func parseRequirement() throws(SelectorParseError) -> Requirement {
        var (token, key) = consume(.values)
        var negated = false
        if token == .doesNotExist {
            negated = true
            (token, key) = consume(.values)
        }
        guard token == .identifier else {
            throw SelectorParseError(message: "found \(quoted: key), expected: identifier")
        }
        try SelectorValidation.checkKey(key)
        let (next, _) = lookahead(.values)
        if negated { return .doesNotExist(key) }
        if next == .end || next == .comma { return .exists(key) }

        let (operatorToken, operatorLiteral) = consume(.keyAndOperator)
        let op: Kubernetes.LabelSelector.Operator
        switch operatorToken {
        case .in: op = .in
        case .notIn: op = .notIn
        case .equals, .doubleEquals: op = .equals
        case .notEquals: op = .notEquals
        case .greaterThan: op = .greaterThan
        case .lessThan: op = .lessThan
        default:
            throw SelectorParseError(
                message: "found \(quoted: operatorLiteral), expected: in, notin, =, ==, !=, gt, lt")
        }
        let values = op == .in || op == .notIn ? try parseValueSet() : [try parseExactValue()]
        let requirement = Requirement(key: key, operator: op, values: values)
        try SelectorValidation.checkValues(of: requirement)
        return requirement
    }

    /// `(a,b)`, sorted and without duplicates as the server's set is; `()` and stray commas
    /// stand for the empty value, as they do there.
    private mutating func parseValueSet() throws(SelectorParseError) -> [String] {
        let (open, openLiteral) = consume(.values)
        guard open == .openPar else { throw SelectorParseError(message: "found \(quoted: openLiteral) expected: '('") }
        let (first, firstLiteral) = lookahead(.values)
        switch first {
        case .identifier, .comma:
            let values = try parseIdentifierList()
            if consume(.values).0 != .closedPar {
                throw SelectorParseError(message: "found \(quoted: firstLiteral), expected: ')'")
            }
            return Array(Set(values)).sorted()
        case .closedPar:
            _ = consume(.values)
            return [""]
        default:
            throw SelectorParseError(message: "found \(quoted: firstLiteral), expected: ',', ')' or identifier")
        }
    }

    private mutating func parseIdentifierList() throws(SelectorParseError) -> [String] {
        var values: [String] = []
        while true {
            let (token, literal) = consume(.values)
            switch token {
            case .identifier:
                values.append(literal)
                let (next, nextLiteral) = lookahead(.values)
                switch next {
                case .comma: continue
                case .closedPar: return values
                default: throw SelectorParseError(message: "found \(quoted: nextLiteral), expected: ',' or ')'")
                }
            case .comma:
                if values.isEmpty { values.append("") }
                let (next, _) = lookahead(.values)
                if next == .closedPar {
                    values.append("")
                    return values
                }
                if next == .comma {
                    _ = consume(.values)
                    values.append("")
                }
            default:
                throw SelectorParseError(message: "found \(quoted: literal), expected: ',', or identifier")
            }
        }
    }

    private mutating func parseExactValue() throws(SelectorParseError) -> String {
        let (next, _) = lookahead(.values)
        if next == .end || next == .comma { return "" }
        let (token, literal) = consume(.values)
        guard token == .identifier else {
            throw SelectorParseError(message: "found \(quoted: literal), expected: identifier")
        }
        return literal
    }
}

/// The label syntax rules the server applies to a parsed selector.
private enum SelectorValidation {
    static func checkKey(_ key: String) throws(SelectorParseError) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty || prefix.count > 253 || !isDNSSubdomain(prefix) {
                throw invalidKey(key, "the prefix before '/' must be a lowercase DNS subdomain (e.g. 'example.com')")
            }
        default:
            throw invalidKey(key, "a key is an optional DNS subdomain prefix and '/' followed by a name")
        }
        if name.isEmpty || name.count > 63 || !isLabelName(name) {
            throw invalidKey(
                key,
                "the name part must be at most 63 characters: alphanumerics, '-', '_' or '.',"
                    + " starting and ending with an alphanumeric character")
        }
    }

    static func checkValues(of requirement: Kubernetes.LabelSelector.Requirement) throws(SelectorParseError) {
        for value in requirement.values where !value.isEmpty && (value.count > 63 || !isLabelName(value[...])) {
            throw SelectorParseError(
                message: "invalid label value: \"\(value)\": at key: \"\(requirement.key)\": a valid label value"
                    + " is empty or at most 63 characters: alphanumerics, '-', '_' or '.',"
                    + " starting and ending with an alphanumeric character")
        }
        switch requirement.operator {
        case .in, .notIn:
            if requirement.values.isEmpty {
                throw SelectorParseError(message: "for 'in', 'notin' operators, values set can't be empty")
            }
        case .greaterThan, .lessThan:
            if requirement.values.count != 1 || requirement.values.first.flatMap({ Int64($0) }) == nil {
                throw SelectorParseError(message: "for 'Gt', 'Lt' operators, the value must be an integer")
            }
        case .equals, .notEquals, .exists, .doesNotExist:
            return
        }
    }

    private static func invalidKey(_ key: String, _ why: String) -> SelectorParseError {
        SelectorParseError(message: "invalid label key \"\(key)\": \(why)")
    }

    private static func isAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber)
    }

    private static func isLabelName(_ text: Substring) -> Bool {
        guard let first = text.first, let last = text.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        return text.allSatisfy { isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    private static func isDNSSubdomain(_ text: Substring) -> Bool {
        text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            let lowerAlphanumeric = { (c: Character) in c.isASCII && (c.isLowercase || c.isNumber) }
            return lowerAlphanumeric(first) && lowerAlphanumeric(last)
                && label.allSatisfy { lowerAlphanumeric($0) || $0 == "-" }
        }
    }
}
