import MrunSupport
import MrunConfig
import MrunTemplates

/// Decides which paths of a project are left out of a code snapshot, with git's `.gitignore` semantics.
///
/// Precedence, highest first: the root `.mrunignore`, then `.gitignore` files from the deepest
/// directory up to the root, then ``defaultPatterns``. Within one source the last matching pattern
/// wins. A path inside an ignored directory is ignored whatever later patterns say, as in git.
public struct IgnoreRules: Sendable {
    /// Patterns applied before any ignore file, with the lowest precedence.
    public static let defaultPatterns = [".git/", "__pycache__/", "*.pyc", ".DS_Store"]

    private var defaults: IgnorePatternList
    /// Sorted by directory depth, so later lists are the more specific ones.
    private var ignoreFiles: [IgnorePatternList] = []
    private var overrides: IgnorePatternList?

    /// Starts with `defaultPatterns` (pass `[]` for none) and no ignore files.
    public init(defaultPatterns: [String] = IgnoreRules.defaultPatterns) {
        let text = defaultPatterns.joined(separator: "\n")
        defaults = IgnorePatternList(parsing: Array(text.utf8), directory: [])
    }

    /// Adds the patterns of a `.gitignore` found in `directory` (relative to the root, `/`-separated,
    /// `""` for the root); they apply to that directory and below.
    public mutating func addIgnoreFile(contents: String, directory: String) {
        addIgnoreFile(contents: Array(contents.utf8), directory: IgnoreRules.normalized(directory).joined)
    }

    /// Sets the root `.mrunignore` patterns, which take precedence over every other source.
    public mutating func setOverrides(contents: String) { setOverrides(contents: Array(contents.utf8)) }

    /// Whether `path` (relative to the root, `/`-separated) is left out, either itself or because one
    /// of its parent directories is.
    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        let components = IgnoreRules.normalized(path).components
        var prefix: [UInt8] = []
        for (index, component) in components.enumerated() {
            if !prefix.isEmpty { prefix.append(.slash) }
            let nameStart = prefix.count
            prefix.append(contentsOf: component)
            let isLast = index == components.count - 1
            if isExcluded(prefix, nameStart: nameStart, isDirectory: isLast ? isDirectory : true) { return true }
        }
        return false
    }

    mutating func addIgnoreFile(contents: [UInt8], directory: [UInt8]) {
        let list = IgnorePatternList(parsing: contents, directory: directory)
        let position = ignoreFiles.lastIndex { $0.depth <= list.depth } ?? -1
        ignoreFiles.insert(list, at: position + 1)
    }

    /// Removes the most recently added, deepest ignore file; the tree walk calls this when it leaves
    /// the directory, so sibling directories' rules never pile up.
    mutating func removeDeepestIgnoreFile() { _ = ignoreFiles.popLast() }

    mutating func setOverrides(contents: [UInt8]) { overrides = IgnorePatternList(parsing: contents, directory: []) }

    /// Whether the rules exclude `path` itself (relative, `/`-joined, its basename starting at
    /// `nameStart`), without looking at its parents: the walk never enters an excluded directory.
    func isExcluded(_ path: [UInt8], nameStart: Int, isDirectory: Bool) -> Bool {
        let target = MatchTarget(path: path, nameStart: nameStart, isDirectory: isDirectory)
        if let decision = overrides?.decision(for: target) { return decision }
        for list in ignoreFiles.reversed() where list.contains(path) {
            if let decision = list.decision(for: target) { return decision }
        }
        return defaults.decision(for: target) ?? false
    }

    private static func normalized(_ path: String) -> (components: [ArraySlice<UInt8>], joined: [UInt8]) {
        let components = Array(path.utf8).split(separator: .slash)
        return (components, Array(components.joined(separator: [.slash])))
    }
}

struct MatchTarget {
    let path: [UInt8]
    let nameStart: Int
    let isDirectory: Bool
}

/// The patterns of one ignore file, relative to the directory holding it.
struct IgnorePatternList: Sendable {
    /// Relative to the root, `/`-joined, empty for the root itself.
    let directory: [UInt8]
    let depth: Int
    let patterns: [IgnorePattern]

    init(parsing contents: [UInt8], directory: [UInt8]) {
        self.directory = directory
        depth = directory.isEmpty ? 0 : directory.reduce(1) { $1 == .slash ? $0 + 1 : $0 }
        var body = contents[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        patterns = body.split(separator: .newline).compactMap { IgnorePattern(line: $0) }
    }

    func contains(_ path: [UInt8]) -> Bool {
        if directory.isEmpty { return true }
        return path.count > directory.count && path[directory.count] == .slash && path.starts(with: directory)
    }

    /// `true` to exclude, `false` to include, `nil` when no pattern matches.
    func decision(for target: MatchTarget) -> Bool? {
        let relative = directory.isEmpty ? target.path[...] : target.path[(directory.count + 1)...]
        for pattern in patterns.reversed() where pattern.matches(relative, target: target) { return !pattern.isNegated }
        return nil
    }
}

/// One line of an ignore file.
struct IgnorePattern: Sendable, Equatable {
    enum Scope: Sendable, Equatable {
        /// No `/` in the pattern: matches a basename at any depth.
        case basename(GlobPattern)
        /// Matched against the whole path relative to the ignore file's directory; the leading `/`
        /// is removed, and `literalPrefix` counts the wildcard-free bytes at the start.
        case anchored(pattern: [UInt8], literalPrefix: Int)
    }

    let isNegated: Bool
    let isDirectoryOnly: Bool
    let scope: Scope

    /// Parses one line the way git does; `nil` for blank lines and comments.
    init?(line: ArraySlice<UInt8>) {
        var text = line
        if let nul = text.firstIndex(of: 0) { text = text[..<nul] }
        if text.last == .carriageReturn { text = text.dropLast() }
        guard let first = text.first, first != .hash else { return nil }
        text = IgnorePattern.trimmingTrailingSpaces(text)
        isNegated = text.first == .exclamation
        if isNegated { text = text.dropFirst() }
        isDirectoryOnly = text.last == .slash
        if isDirectoryOnly { text = text.dropLast() }
        guard !text.isEmpty else { return nil }

        if !text.contains(.slash) {
            scope = .basename(GlobPattern(Array(text)))
        } else {
            // A leading `/` only anchors, which any `/` already does.
            let pattern = Array(text.first == .slash ? text.dropFirst() : text)
            scope = .anchored(pattern: pattern, literalPrefix: GlobPattern.literalPrefixLength(pattern))
        }
    }

    func matches(_ relative: ArraySlice<UInt8>, target: MatchTarget) -> Bool {
        if isDirectoryOnly && !target.isDirectory { return false }
        switch scope {
        case .basename(let glob): return glob.matchesName(target.path[target.nameStart...])
        case .anchored(let pattern, let literalPrefix):
            return IgnorePattern.matchPathname(pattern, literalPrefix: literalPrefix, relative)
        }
    }

    /// Port of git's `match_pathname`. Comparing the literal prefix first is not just a shortcut:
    /// the wildcard part then starts mid-component, which is why git lets `a**/b` match `ab`.
    private static func matchPathname(_ pattern: [UInt8], literalPrefix: Int, _ name: ArraySlice<UInt8>) -> Bool {
        guard literalPrefix > 0 else { return GlobPattern.wildMatch(pattern[...], name, pathname: true) }
        guard literalPrefix <= name.count, name.prefix(literalPrefix).elementsEqual(pattern.prefix(literalPrefix))
        else { return false }
        if literalPrefix == pattern.count { return literalPrefix == name.count }
        return GlobPattern.wildMatch(pattern[literalPrefix...], name.dropFirst(literalPrefix), pathname: true)
    }

    /// Git's rule: trailing spaces go unless escaped with `\`; tabs and escaped spaces stay.
    private static func trimmingTrailingSpaces(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var firstTrailingSpace: Int?
        var index = text.startIndex
        while index < text.endIndex {
            switch text[index] {
            case .space: if firstTrailingSpace == nil { firstTrailingSpace = index }
            case .backslash:
                index += 1
                guard index < text.endIndex else { return text }
                firstTrailingSpace = nil
            default: firstTrailingSpace = nil
            }
            index += 1
        }
        guard let cut = firstTrailingSpace else { return text }
        return text[..<cut]
    }
}
