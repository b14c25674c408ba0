import MrunSupport

/// Builds a context from `mrun context add` flags: `--KEY VALUE` or `--KEY=VALUE` for every key of
/// the context reference, in mrunner's underscore spelling or with dashes, plus `--neptune` /
/// `--no-neptune` and `--from-file FILE`. A true/false key given alone (`--login_node`) is true.
/// Repeating a list or env flag adds an item.
public enum ContextFlags {
    public struct Parsed: Sendable, Equatable {
        public var fromFile: String?
        public var values: [(key: ContextKey, flag: String, text: String)] = []

        public static func == (lhs: Parsed, rhs: Parsed) -> Bool {
            lhs.fromFile == rhs.fromFile && lhs.values.map(\.flag) == rhs.values.map(\.flag)
                && lhs.values.map(\.text) == rhs.values.map(\.text)
        }
    }

    static var flagNames: [String] {
        ContextKey.allCases.map { "--" + $0.rawValue } + ["--from-file", "--no-neptune"]
    }

    public static func parse(_ arguments: [String]) throws(ConfigError) -> Parsed {
        var parsed = Parsed()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else {
                throw .invalidFlag(flag: argument, message: "unexpected argument; flags look like --registry_url URL")
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            let spelled = name.replacingOccurrences(of: "-", with: "_")
            if spelled == "no_neptune" {
                parsed.values.append((.neptune, "--\(name)", "false"))
                continue
            }
            // `--login_node` alone, or followed by its value (`--login_node true`).
            if let key = ContextKey(rawValue: spelled), key.shape == .boolean, inlineValue == nil {
                let next = index < arguments.count ? arguments[index].lowercased() : ""
                let given = ["true", "false", "yes", "no", "on", "off"].contains(next)
                if given { index += 1 }
                parsed.values.append((key, "--\(name)", given ? next : "true"))
                continue
            }
            func value() throws(ConfigError) -> String {
                if let inlineValue { return inlineValue }
                guard index < arguments.count else {
                    throw .invalidFlag(flag: "--\(name)", message: "needs a value")
                }
                index += 1
                return arguments[index - 1]
            }
            if spelled == "from_file" {
                parsed.fromFile = try value()
                continue
            }
            guard let key = ContextKey(rawValue: spelled) else {
                throw .invalidFlag(
                    flag: "--\(name)",
                    message: "unknown flag\(Suggestion.hint(for: "--" + spelled, in: flagNames));"
                        + " see 'mrun context add --help'")
            }
            parsed.values.append((key, "--\(name)", try value()))
        }
        return parsed
    }

    /// Applies the flags to `base` (a context read with `--from-file`) or to a new context.
    public static func context(from parsed: Parsed, base: Context?) throws(ConfigError) -> Context {
        let flagValue = { (key: ContextKey) in parsed.values.last(where: { $0.key == key })?.text }
        let typeName = flagValue(.type) ?? base?.type.rawValue
        guard let typeName else {
            throw .invalidFlag(flag: "--type", message: "required: local, kubernetes, slurm or ssh")
        }
        let typeNames = ContextType.allCases.map(\.rawValue)
        guard let type = ContextType(rawValue: typeName) else {
            throw .invalidFlag(
                flag: "--type",
                message: "must be one of \(typeNames.joined(separator: ", ")), got \(quoted: typeName)"
                    + Suggestion.hint(for: typeName, in: typeNames))
        }
        guard let name = flagValue(.name) ?? base?.name else {
            throw .invalidFlag(flag: "--name", message: "required, e.g. --name gke.sandbox")
        }
        guard Context.isValidName(name) else { throw .invalidContextName(name) }
        var context = base ?? Context(name: name, type: type)
        context.name = name
        context.type = type
        var lists: [ContextKey: [String]] = [:]
        // Mapping flags add to the base's mapping, entry by entry.
        var maps: [ContextKey: [String: String]] = [
            .env: context.env, .nodeSelector: context.kubernetes.nodeSelector ?? [:],
        ]
        for (key, flag, text) in parsed.values where key != .name && key != .type {
            guard key.appliesTo.contains(type) else {
                let owners = ContextType.allCases.filter { key.appliesTo.contains($0) }.map(\.rawValue)
                throw .invalidFlag(
                    flag: flag,
                    message: "applies to \(owners.joined(separator: "/")) contexts, not \(type.rawValue) ones")
            }
            switch key.shape {
            case .string:
                guard !text.isEmpty else { throw .invalidFlag(flag: flag, message: "needs a value") }
                context.apply(key, .string(text))
            case .integer:
                guard let number = Int(text) else {
                    throw .invalidFlag(flag: flag, message: "must be a whole number, got \(quoted: text)")
                }
                context.apply(key, .integer(number))
            case .boolean:
                switch text.lowercased() {
                case "true", "yes", "on": context.apply(key, .boolean(true))
                case "false", "no", "off": context.apply(key, .boolean(false))
                default: throw .invalidFlag(flag: flag, message: "must be true or false, got \(quoted: text)")
                }
            case .stringList:
                lists[key, default: []].append(text)
            case .stringMap:
                // A node selector's label is checked with the rest of the context, by its own rules.
                guard let equals = text.firstIndex(of: "="),
                    key != .env || Context.isValidEnvironmentName(String(text[..<equals]))
                else {
                    let form = key == .env ? "NAME=VALUE" : "LABEL=VALUE (e.g. cloud.google.com/gke-nodepool=gpu)"
                    throw .invalidFlag(flag: flag, message: "\(quoted: text) is not \(form)")
                }
                maps[key, default: [:]][String(text[..<equals])] = String(text[text.index(after: equals)...])
            case .resources:
                do {
                    context.apply(key, .resources(try Resources.parse(text)))
                } catch {
                    throw .invalidFlag(flag: flag, message: error.description)
                }
            }
        }
        for (key, map) in maps { context.apply(key, .map(map)) }
        for (key, items) in lists {
            // `--hosts gpu1,gpu2` and `--gpus 0,1` list several at once; a lone `--gpus` value on an
            // ssh context is its scalar form (`auto`, `0`).
            let split =
                key == .hosts || key == .gpus ? items.flatMap { $0.split(separator: ",").map(String.init) } : items
            if key == .gpus, type == .ssh, items.count == 1, split.count == 1 {
                context.apply(key, .string(split[0]))
            } else {
                context.apply(key, .list(split))
            }
        }
        if let problem = context.problem() {
            let flag = problem.key.map { "--\($0.rawValue)" } ?? "context \(quoted: name)"
            throw .invalidFlag(flag: flag, message: problem.message)
        }
        return context
    }
}

extension ContextFlags {
    /// `mrun run --set KEY=VALUE`: any context key for one launch, over the context's own, read
    /// and checked as `context add` reads its flags (a list's value replaces the list; lists and
    /// mappings take one item each time). The context's name and type stay.
    public static func overriding(_ context: Context, with settings: [String]) throws(ConfigError) -> Context {
        guard !settings.isEmpty else { return context }
        var arguments: [String] = []
        for setting in settings {
            guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
                throw .invalidFlag(
                    flag: "--set", message: "\(quoted: setting) is not KEY=VALUE (e.g. --set partition=long)")
            }
            let key = setting[..<equals].replacingOccurrences(of: "-", with: "_")
            if key == ContextKey.name.rawValue || key == ContextKey.type.rawValue {
                throw .invalidFlag(
                    flag: "--set \(key)", message: "the context's \(key) cannot change for one launch; use --context")
            }
            arguments.append("--\(key)=\(setting[setting.index(after: equals)...])")
        }
        do {
            return try Self.context(from: try parse(arguments), base: context)
        } catch .invalidFlag(let flag, let message) {
            throw .invalidFlag(flag: "--set " + flag.dropFirst(2), message: message)
        }
    }
}
