import MrunSupport
import MrunConfig
import MrunTemplates

/// Git's `wildmatch`, on raw bytes, plus the fast paths git takes for the most common patterns.
///
/// A faithful port rather than a cleaner reimplementation: git's quirks (how `**` glued to other
/// characters behaves, what an unterminated `[` does) decide which files a user sees ignored by
/// `git status`, and a snapshot must agree with that.
enum GlobPattern: Sendable, Equatable {
    case literal([UInt8])
    /// `*` followed by a wildcard-free suffix, such as `*.pyc`.
    case suffix([UInt8])
    case wildcard([UInt8])

    init(_ pattern: [UInt8]) {
        let literalLength = GlobPattern.literalPrefixLength(pattern)
        if literalLength == pattern.count {
            self = .literal(pattern)
        } else if pattern.first == .asterisk, GlobPattern.literalPrefixLength(pattern.dropFirst()) == pattern.count - 1
        {
            self = .suffix(Array(pattern.dropFirst()))
        } else {
            self = .wildcard(pattern)
        }
    }

    /// Matches a basename (git's `match_basename`; the name contains no `/`).
    func matchesName(_ name: ArraySlice<UInt8>) -> Bool {
        switch self {
        case .literal(let literal): return name.elementsEqual(literal)
        case .suffix(let suffix): return name.count >= suffix.count && name.suffix(suffix.count).elementsEqual(suffix)
        case .wildcard(let pattern): return GlobPattern.wildMatch(pattern[...], name, pathname: false)
        }
    }

    /// Number of leading bytes free of `*`, `?`, `[` and `\` (git's `simple_length`).
    static func literalPrefixLength<Bytes: Collection>(_ pattern: Bytes) -> Int where Bytes.Element == UInt8 {
        var length = 0
        for byte in pattern {
            if byte == .asterisk || byte == .question || byte == .openBracket || byte == .backslash { break }
            length += 1
        }
        return length
    }

    /// Whether `pattern` matches all of `text`; with `pathname`, wildcards do not match `/` except
    /// in `**` components, as for git's `WM_PATHNAME`.
    static func wildMatch(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>, pathname: Bool) -> Bool {
        dowild(pattern, from: pattern.startIndex, text, from: text.startIndex, pathname: pathname) == .match
    }

    private enum Outcome { case match, noMatch, abortAll, abortToDoubleStar }

    /// Port of git's `dowild`. A zero byte stands for "past the end", as in C; paths never contain
    /// NUL and pattern lines are cut at one.
    private static func dowild(
        _ pattern: ArraySlice<UInt8>, from patternStart: Int, _ text: ArraySlice<UInt8>, from textStart: Int,
        pathname: Bool
    ) -> Outcome {
        func patternByte(_ index: Int) -> UInt8 { index < pattern.endIndex ? pattern[index] : 0 }
        func textByte(_ index: Int) -> UInt8 { index < text.endIndex ? text[index] : 0 }
        var p = patternStart
        var t = textStart
        while p < pattern.endIndex {
            let patternChar = pattern[p]
            var textChar = textByte(t)
            if textChar == 0 && patternChar != .asterisk { return .abortAll }
            switch patternChar {
            case .backslash:
                p += 1
                if textChar != patternByte(p) { return .noMatch }
            case .question: if pathname && textChar == .slash { return .noMatch }
            case .asterisk:
                var matchSlash = !pathname
                p += 1
                if patternByte(p) == .asterisk {
                    let beforeStars = p - 2
                    while patternByte(p) == .asterisk { p += 1 }
                    let next = patternByte(p)
                    let startsComponent = beforeStars < patternStart || pattern[beforeStars] == .slash
                    let endsComponent =
                        next == 0 || next == .slash || (next == .backslash && patternByte(p + 1) == .slash)
                    if !pathname {
                        matchSlash = true
                    } else if startsComponent && endsComponent {
                        // `**/` may match no directory at all: try the rest right here.
                        if next == .slash, dowild(pattern, from: p + 1, text, from: t, pathname: pathname) == .match {
                            return .match
                        }
                        matchSlash = true
                    } else {
                        matchSlash = false
                    }
                }
                if patternByte(p) == 0 {
                    if !matchSlash && text[t...].contains(.slash) { return .noMatch }
                    return .match
                }
                if !matchSlash && patternByte(p) == .slash {
                    // A single `*` before `/` consumes exactly the rest of this component.
                    guard let slash = text[t...].firstIndex(of: .slash) else { return .noMatch }
                    t = slash
                    break
                }
                while textChar != 0 {
                    let literal = patternByte(p)
                    if !isSpecial(literal) {
                        // Skip ahead to the next occurrence of the literal that follows the star.
                        textChar = textByte(t)
                        while textChar != 0 && (matchSlash || textChar != .slash) && textChar != literal {
                            t += 1
                            textChar = textByte(t)
                        }
                        if textChar != literal { return .noMatch }
                    }
                    let outcome = dowild(pattern, from: p, text, from: t, pathname: pathname)
                    if outcome != .noMatch {
                        if !matchSlash || outcome != .abortToDoubleStar { return outcome }
                    } else if !matchSlash && textChar == .slash {
                        return .abortToDoubleStar
                    }
                    t += 1
                    textChar = textByte(t)
                }
                return .abortAll
            case .openBracket:
                guard let (matched, next) = matchBracket(pattern, at: p, against: textChar) else { return .abortAll }
                if !matched || (pathname && textChar == .slash) { return .noMatch }
                p = next - 1
            default: if textChar != patternChar { return .noMatch }
            }
            p += 1
            t += 1
        }
        return t < text.endIndex ? .noMatch : .match
    }

    private static func isSpecial(_ byte: UInt8) -> Bool {
        byte == .asterisk || byte == .question || byte == .openBracket || byte == .backslash
    }

    /// Matches the bracket expression starting at `start` (a `[`) against `byte`.
    ///
    /// A port of git's wildmatch bracket loop, including its quirks: a `]` right after `[` or `[!`
    /// is a member, and `-` is literal at either end. Returns whether `byte` matched and the index
    /// after the closing `]`, or `nil` when the expression is malformed.
    private static func matchBracket(_ pattern: ArraySlice<UInt8>, at start: Int, against byte: UInt8) -> (Bool, Int)? {
        var index = start + 1
        guard index < pattern.endIndex else { return nil }
        var negated = false
        if pattern[index] == .exclamation || pattern[index] == .caret {
            negated = true
            index += 1
        }
        var matched = false
        var previous: UInt8 = 0
        while true {
            guard index < pattern.endIndex else { return nil }
            var current = pattern[index]
            if current == .backslash {
                index += 1
                guard index < pattern.endIndex else { return nil }
                current = pattern[index]
                if byte == current { matched = true }
            } else if current == .dash, previous != 0, index + 1 < pattern.endIndex, pattern[index + 1] != .closeBracket
            {
                index += 1
                var upper = pattern[index]
                if upper == .backslash {
                    index += 1
                    guard index < pattern.endIndex else { return nil }
                    upper = pattern[index]
                }
                if byte >= previous && byte <= upper { matched = true }
                current = 0
            } else if current == .openBracket, index + 1 < pattern.endIndex, pattern[index + 1] == .colon {
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
            guard index < pattern.endIndex else { return nil }
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
