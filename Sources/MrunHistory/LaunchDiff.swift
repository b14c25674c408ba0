import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// What differs between two launches in what they ran: the context, the command, the parameters,
/// the code, the git commit and the image. Ids, names, times and states are left out: they differ
/// between any two launches and say nothing about why results differ.
public struct LaunchDiff: Sendable, Equatable {
    /// One value that differs; nil on a side that has no value.
    public struct Change: Sendable, Equatable {
        public var key: String
        public var old: String?
        public var new: String?

        public init(key: String, old: String?, new: String?) {
            self.key = key
            self.old = old
            self.new = new
        }
    }

    public var from: String
    public var to: String
    /// Context keys in the context file's spelling (`registry_url`, `env.NAME`), in reference order.
    public var context: [Change] = []
    /// The script and the arguments after `--`.
    public var command: [Change] = []
    public var parameters: [Change] = []
    public var filesAdded: [String] = []
    public var filesRemoved: [String] = []
    public var filesChanged: [String] = []
    /// The commit, with `(dirty)` when the work tree had changes.
    public var git: Change?
    public var imageDigest: Change?

    public var isEmpty: Bool {
        context.isEmpty && command.isEmpty && parameters.isEmpty && filesAdded.isEmpty && filesRemoved.isEmpty
            && filesChanged.isEmpty && git == nil && imageDigest == nil
    }

    public init(_ a: LaunchRecord, _ b: LaunchRecord) {
        from = a.id
        to = b.id
        context = Self.changes(Self.flatten(a.context), Self.flatten(b.context), rank: Self.contextRank)
        if a.script != b.script { command.append(Change(key: "script", old: a.script, new: b.script)) }
        // A sweep point's own `--NAME VALUE` arguments show as its parameters, not twice.
        let (argsA, argsB) = Self.ownArguments(a, b)
        if argsA != argsB {
            command.append(Change(key: "args", old: Self.shellLine(argsA), new: Self.shellLine(argsB)))
        }
        parameters = Self.changes(a.parameters, b.parameters)
        for (path, hash) in b.files.sorted(by: { $0.key < $1.key }) {
            switch a.files[path] {
            case nil: filesAdded.append(path)
            case hash: break
            default: filesChanged.append(path)
            }
        }
        filesRemoved = a.files.keys.filter { b.files[$0] == nil }.sorted()
        let gitA = Self.gitText(a)
        let gitB = Self.gitText(b)
        if gitA != gitB { git = Change(key: "git", old: gitA, new: gitB) }
        if a.imageDigest != b.imageDigest {
            imageDigest = Change(key: "image digest", old: a.imageDigest, new: b.imageDigest)
        }
    }

    /// The diff as lines to print: a heading, then one section per kind of difference.
    public var text: String {
        var lines = ["launch \(from) → \(to)"]
        if isEmpty {
            lines.append("  same context, command, parameters, code, git commit and image")
            return lines.joined(separator: "\n") + "\n"
        }
        func section(_ title: String, _ changes: [Change]) {
            guard !changes.isEmpty else { return }
            lines.append("\(title):")
            for change in changes {
                lines.append("  \(change.key): \(change.old ?? "(unset)") → \(change.new ?? "(unset)")")
            }
        }
        section("context", context)
        section("command", command)
        section("parameters", parameters)
        if !(filesAdded.isEmpty && filesRemoved.isEmpty && filesChanged.isEmpty) {
            lines.append("files:")
            lines +=
                filesAdded.map { "  + \($0)" } + filesRemoved.map { "  - \($0)" }
                + filesChanged.map { "  ~ \($0)" }
        }
        section("git", git.map { [$0] } ?? [])
        section("image", imageDigest.map { [$0] } ?? [])
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Helpers

    /// The keys whose values differ, ordered by `rank`, then by name.
    package static func changes(
        _ old: [String: String], _ new: [String: String], rank: (String) -> Int = { _ in 0 }
    ) -> [Change] {
        Set(old.keys).union(new.keys)
            .filter { old[$0] != new[$0] }
            .sorted { (rank($0), $0) < (rank($1), $1) }
            .map { Change(key: $0, old: old[$0], new: new[$0]) }
    }

    /// A context key's place in the context reference, for `registry_url` or `env.NAME` alike.
    package static func contextRank(_ key: String) -> Int {
        let base = key.split(separator: ".", maxSplits: 1).first.map(String.init) ?? key
        return ContextKey.allCases.firstIndex { $0.rawValue == base } ?? ContextKey.allCases.count
    }

    /// The context as `key: value` pairs; `env` one pair per variable.
    package static func flatten(_ context: Context) -> [String: String] {
        var pairs: [String: String] = [:]
        for key in ContextKey.allCases {
            guard let value = context.value(of: key) else { continue }
            switch value {
            case .string(let text): pairs[key.rawValue] = text
            case .integer(let number): pairs[key.rawValue] = String(number)
            case .boolean(let flag): pairs[key.rawValue] = flag ? "true" : "false"
            case .list(let items): pairs[key.rawValue] = "[" + items.joined(separator: ", ") + "]"
            case .resources(let resources): pairs[key.rawValue] = resources.description
            case .map(let map):
                for (name, text) in map { pairs["\(key.rawValue).\(name)"] = text }
            }
        }
        return pairs
    }

    /// The arguments to compare: without the points' own `--NAME VALUE` when both launches are
    /// sweep points whose inputs were recorded, else all of them.
    static func ownArguments(_ a: LaunchRecord, _ b: LaunchRecord) -> ([String], [String]) {
        guard let inputsA = a.inputs, let inputsB = b.inputs, inputsA.point != nil, inputsB.point != nil else {
            return (a.args, b.args)
        }
        return (inputsA.request.arguments, inputsB.request.arguments)
    }

    package static func shellLine(_ args: [String]) -> String {
        args.isEmpty ? "(none)" : args.map(TemplateFilters.shellQuote).joined(separator: " ")
    }

    package static func gitText(_ launch: LaunchRecord) -> String? {
        launch.gitCommit.map { $0 + (launch.gitDirty == true ? " (dirty)" : "") }
    }
}

extension HistoryStore {
    /// What differs between launches `a` and `b` (see ``LaunchDiff``).
    public func diff(_ a: LaunchRecord, _ b: LaunchRecord) -> LaunchDiff {
        LaunchDiff(a, b)
    }
}
