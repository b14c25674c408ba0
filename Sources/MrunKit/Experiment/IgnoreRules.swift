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
        addIgnoreFile(contents: Array(contents.utf8), directory: IgnoreRules.components(of: directory))
    }

    /// Sets the root `.mrunignore` patterns, which take precedence over every other source.
    public mutating func setOverrides(contents: String) {
        overrides = IgnorePatternList(parsing: Array(contents.utf8), directory: [])
    }

    /// Whether `path` (relative to the root, `/`-separated) is left out, either itself or because one
    /// of its parent directories is.
    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        let components = IgnoreRules.components(of: path)
        guard !components.isEmpty else { return false }
        for parentCount in 1..<components.count
        where isExcluded(Array(components[..<parentCount]), isDirectory: true) {
            return true
        }
        return isExcluded(components, isDirectory: isDirectory)
    }

    mutating func addIgnoreFile(contents: [UInt8], directory: [[UInt8]]) {
        let list = IgnorePatternList(parsing: contents, directory: directory)
        let position = ignoreFiles.lastIndex { $0.directory.count <= directory.count } ?? -1
        ignoreFiles.insert(list, at: position + 1)
    }

    /// Removes the most recently added, deepest ignore file; the tree walk calls this when it leaves
    /// the directory, so sibling directories' rules never pile up.
    mutating func removeDeepestIgnoreFile() {
        _ = ignoreFiles.popLast()
    }

    mutating func setOverrides(contents: [UInt8]) {
        overrides = IgnorePatternList(parsing: contents, directory: [])
    }

    /// Whether the rules exclude `components` itself, without looking at its parents (the walk never
    /// enters an excluded directory, so it has already checked them).
    func isExcluded(_ components: [[UInt8]], isDirectory: Bool) -> Bool {
        if let decision = overrides?.decision(for: components, isDirectory: isDirectory) {
            return decision
        }
        for list in ignoreFiles.reversed() where list.contains(components) {
            if let decision = list.decision(for: components, isDirectory: isDirectory) {
                return decision
            }
        }
        return defaults.decision(for: components, isDirectory: isDirectory) ?? false
    }

    private static func components(of path: String) -> [[UInt8]] {
        path.utf8.split(separator: .slash).map { Array($0) }
    }
}

/// The patterns of one ignore file, relative to the directory holding it.
struct IgnorePatternList: Sendable {
    let directory: [[UInt8]]
    let patterns: [IgnorePattern]

    init(parsing contents: [UInt8], directory: [[UInt8]]) {
        self.directory = directory
        var body = contents[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        patterns = body.split(separator: .newline, omittingEmptySubsequences: true).compactMap {
            IgnorePattern(line: $0)
        }
    }

    func contains(_ components: [[UInt8]]) -> Bool {
        components.count > directory.count && components.starts(with: directory)
    }

    /// `true` to exclude, `false` to include, `nil` when no pattern matches.
    func decision(for components: [[UInt8]], isDirectory: Bool) -> Bool? {
        let relative = components[directory.count...]
        for pattern in patterns.reversed() where pattern.matches(relative, isDirectory: isDirectory) {
            return !pattern.isNegated
        }
        return nil
    }
}

/// One line of an ignore file.
struct IgnorePattern: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case glob(GlobSegment)
        /// A whole `**` component: any number of directories.
        case anyDirectories
    }

    enum Scope: Sendable, Equatable {
        /// No `/` in the pattern: matches a basename at any depth.
        case basename(GlobSegment)
        /// Matched component by component against the path relative to the ignore file.
        case anchored([Piece])
    }

    let isNegated: Bool
    let isDirectoryOnly: Bool
    let scope: Scope

    /// Parses one line the way git does; `nil` for blanks, comments and malformed patterns.
    init?(line: ArraySlice<UInt8>) {
        var text = line
        if text.last == .carriageReturn { text = text.dropLast() }
        guard let first = text.first, first != .hash else { return nil }
        text = IgnorePattern.trimmingTrailingSpaces(text)
        isNegated = text.first == .exclamation
        if isNegated { text = text.dropFirst() }
        isDirectoryOnly = text.last == .slash
        if isDirectoryOnly { text = text.dropLast() }
        guard !text.isEmpty else { return nil }

        let pieces = IgnorePattern.splitOnSlashes(text)
        if pieces.count == 1 {
            guard let glob = GlobSegment(pieces[0]) else { return nil }
            scope = .basename(glob)
            return
        }
        // A leading `/` only anchors; it is not an empty first component.
        let anchoredPieces = pieces.first?.isEmpty == true ? Array(pieces.dropFirst()) : pieces
        var compiled: [Piece] = []
        for piece in anchoredPieces {
            if piece == [.asterisk, .asterisk] {
                // `a/**/**/b` means the same as `a/**/b`; collapsing keeps the matcher linear-ish.
                if compiled.last != .anyDirectories { compiled.append(.anyDirectories) }
            } else {
                guard let glob = GlobSegment(piece) else { return nil }
                compiled.append(.glob(glob))
            }
        }
        guard !compiled.isEmpty else { return nil }
        scope = .anchored(compiled)
    }

    func matches(_ relative: ArraySlice<[UInt8]>, isDirectory: Bool) -> Bool {
        if isDirectoryOnly && !isDirectory { return false }
        switch scope {
        case .basename(let glob):
            guard let name = relative.last else { return false }
            return glob.matches(name)
        case .anchored(let pieces):
            return IgnorePattern.match(pieces[...], relative)
        }
    }

    /// `**` matches zero or more components, except at the end, where git's `/**` means "everything
    /// inside", so at least one: `build/**` ignores `build/x` but not `build` itself.
    private static func match(_ pieces: ArraySlice<Piece>, _ components: ArraySlice<[UInt8]>) -> Bool {
        guard let piece = pieces.first else { return components.isEmpty }
        switch piece {
        case .anyDirectories:
            let rest = pieces.dropFirst()
            if rest.isEmpty { return !components.isEmpty }
            var tail = components
            while true {
                if match(rest, tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        case .glob(let glob):
            guard let component = components.first, glob.matches(component) else { return false }
            return match(pieces.dropFirst(), components.dropFirst())
        }
    }

    /// Git's rule: trailing spaces go unless escaped with `\`; tabs and escaped spaces stay.
    private static func trimmingTrailingSpaces(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var firstTrailingSpace: Int?
        var index = text.startIndex
        while index < text.endIndex {
            switch text[index] {
            case .space:
                if firstTrailingSpace == nil { firstTrailingSpace = index }
            case .backslash:
                index += 1
                guard index < text.endIndex else { return text }
                firstTrailingSpace = nil
            default:
                firstTrailingSpace = nil
            }
            index += 1
        }
        guard let cut = firstTrailingSpace else { return text }
        return text[..<cut]
    }

    /// Splits on `/`, treating `\/` as a separator too (wildmatch would match it against a `/`).
    private static func splitOnSlashes(_ text: ArraySlice<UInt8>) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var current: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == .backslash, index + 1 < text.endIndex {
                if text[index + 1] == .slash {
                    pieces.append(current)
                    current = []
                } else {
                    current.append(byte)
                    current.append(text[index + 1])
                }
                index += 2
                continue
            }
            if byte == .slash {
                pieces.append(current)
                current = []
            } else {
                current.append(byte)
            }
            index += 1
        }
        pieces.append(current)
        return pieces
    }
}
