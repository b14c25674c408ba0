/// One `/`-free piece of an ignore pattern, matched against one path component.
///
/// Matching follows git's `wildmatch` on raw bytes: `*` and `?` never cross `/` (a component has
/// none), `[...]` supports ranges, `!`/`^` negation and `[:class:]`, and `\` escapes the next byte.
/// Literal and `*suffix` pieces get a fast path because they are by far the most common
/// (`__pycache__`, `*.pyc`) and are checked against every path of the tree.
enum GlobSegment: Sendable, Equatable {
    case literal([UInt8])
    case suffix([UInt8])
    case wildcard([UInt8])

    /// Classifies `pattern`; `nil` when it is malformed, which git treats as never matching.
    init?(_ pattern: [UInt8]) {
        guard GlobSegment.isWellFormed(pattern) else { return nil }
        let isSpecial: (UInt8) -> Bool = { $0 == .asterisk || $0 == .question || $0 == .openBracket || $0 == .backslash }
        if !pattern.contains(where: isSpecial) {
            self = .literal(pattern)
        } else if pattern.first == .asterisk, !pattern.dropFirst().contains(where: isSpecial) {
            self = .suffix(Array(pattern.dropFirst()))
        } else {
            self = .wildcard(pattern)
        }
    }

    func matches(_ component: [UInt8]) -> Bool {
        switch self {
        case .literal(let literal):
            return component == literal
        case .suffix(let suffix):
            guard component.count >= suffix.count else { return false }
            return component[(component.count - suffix.count)...].elementsEqual(suffix)
        case .wildcard(let pattern):
            return GlobSegment.wildMatch(pattern, component)
        }
    }

    private static func isWellFormed(_ pattern: [UInt8]) -> Bool {
        var index = 0
        while index < pattern.count {
            switch pattern[index] {
            case .backslash:
                guard index + 1 < pattern.count else { return false }
                index += 2
            case .openBracket:
                guard let (_, next) = matchBracket(pattern, at: index, against: 0) else { return false }
                index = next
            default:
                index += 1
            }
        }
        return true
    }

    /// Greedy matcher with single-star backtracking; enough because a component contains no `/`.
    private static func wildMatch(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var patternIndex = 0
        var textIndex = 0
        var starPatternIndex: Int?
        var starTextIndex = 0
        while textIndex < text.count {
            if patternIndex < pattern.count {
                let byte = text[textIndex]
                switch pattern[patternIndex] {
                case .asterisk:
                    while patternIndex < pattern.count, pattern[patternIndex] == .asterisk { patternIndex += 1 }
                    starPatternIndex = patternIndex
                    starTextIndex = textIndex
                    continue
                case .question:
                    patternIndex += 1
                    textIndex += 1
                    continue
                case .openBracket:
                    guard let (matched, next) = matchBracket(pattern, at: patternIndex, against: byte) else {
                        return false
                    }
                    if matched {
                        patternIndex = next
                        textIndex += 1
                        continue
                    }
                case .backslash:
                    guard patternIndex + 1 < pattern.count else { return false }
                    if pattern[patternIndex + 1] == byte {
                        patternIndex += 2
                        textIndex += 1
                        continue
                    }
                case let literal:
                    if literal == byte {
                        patternIndex += 1
                        textIndex += 1
                        continue
                    }
                }
            }
            guard let resume = starPatternIndex else { return false }
            starTextIndex += 1
            textIndex = starTextIndex
            patternIndex = resume
        }
        while patternIndex < pattern.count, pattern[patternIndex] == .asterisk { patternIndex += 1 }
        return patternIndex == pattern.count
    }

    /// Matches the bracket expression starting at `start` (a `[`) against `byte`.
    ///
    /// A port of git's wildmatch bracket loop, including its quirks: a `]` right after `[` or `[!`
    /// is a member, and `-` is literal at either end. Returns whether `byte` matched and the index
    /// after the closing `]`, or `nil` when the expression is malformed.
    private static func matchBracket(_ pattern: [UInt8], at start: Int, against byte: UInt8) -> (Bool, Int)? {
        var index = start + 1
        guard index < pattern.count else { return nil }
        var negated = false
        if pattern[index] == .exclamation || pattern[index] == .caret {
            negated = true
            index += 1
        }
        var matched = false
        var previous: UInt8 = 0
        while true {
            guard index < pattern.count else { return nil }
            var current = pattern[index]
            if current == .backslash {
                index += 1
                guard index < pattern.count else { return nil }
                current = pattern[index]
                if byte == current { matched = true }
            } else if current == .dash, previous != 0, index + 1 < pattern.count,
                pattern[index + 1] != .closeBracket
            {
                index += 1
                var upper = pattern[index]
                if upper == .backslash {
                    index += 1
                    guard index < pattern.count else { return nil }
                    upper = pattern[index]
                }
                if byte >= previous && byte <= upper { matched = true }
                current = 0
            } else if current == .openBracket, index + 1 < pattern.count, pattern[index + 1] == .colon {
                let nameStart = index + 2
                guard let close = pattern[nameStart...].firstIndex(of: .closeBracket) else { return nil }
                if close - 1 >= nameStart, pattern[close - 1] == .colon {
                    guard let test = characterClass(pattern[nameStart..<(close - 1)]) else { return nil }
                    if test(byte) { matched = true }
                    index = close
                    current = 0
                } else if byte == current {
                    // Not a `[:class:]`, so the `[` is an ordinary member.
                    matched = true
                }
            } else if byte == current {
                matched = true
            }
            previous = current
            index += 1
            guard index < pattern.count else { return nil }
            if pattern[index] == .closeBracket { break }
        }
        return (matched != negated, index + 1)
    }

    private static func characterClass(_ name: ArraySlice<UInt8>) -> ((UInt8) -> Bool)? {
        let isUpper: (UInt8) -> Bool = { $0 >= 0x41 && $0 <= 0x5A }
        let isLower: (UInt8) -> Bool = { $0 >= 0x61 && $0 <= 0x7A }
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        let isPrint: (UInt8) -> Bool = { $0 >= 0x20 && $0 <= 0x7E }
        let isAlnum: (UInt8) -> Bool = { isUpper($0) || isLower($0) || isDigit($0) }
        switch String(decoding: name, as: UTF8.self) {
        case "alnum": return isAlnum
        case "alpha": return { isUpper($0) || isLower($0) }
        case "blank": return { $0 == 0x20 || $0 == 0x09 }
        case "cntrl": return { $0 < 0x20 || $0 == 0x7F }
        case "digit": return isDigit
        case "graph": return { isPrint($0) && $0 != 0x20 }
        case "lower": return isLower
        case "print": return isPrint
        case "punct": return { isPrint($0) && $0 != 0x20 && !isAlnum($0) }
        case "space": return { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
        case "upper": return isUpper
        case "xdigit": return { isDigit($0) || ($0 >= 0x41 && $0 <= 0x46) || ($0 >= 0x61 && $0 <= 0x66) }
        default: return nil
        }
    }
}

extension UInt8 {
    static let asterisk = UInt8(ascii: "*")
    static let question = UInt8(ascii: "?")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let backslash = UInt8(ascii: "\\")
    static let exclamation = UInt8(ascii: "!")
    static let caret = UInt8(ascii: "^")
    static let dash = UInt8(ascii: "-")
    static let colon = UInt8(ascii: ":")
    static let slash = UInt8(ascii: "/")
    static let space = UInt8(ascii: " ")
    static let hash = UInt8(ascii: "#")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
}
