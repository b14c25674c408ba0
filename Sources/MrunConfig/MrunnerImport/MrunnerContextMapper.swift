import Foundation
import Yams
import MrunSupport

/// Turns one mrunner context into an mrun context, key by key, with a ``MrunnerMapping`` per key.
struct MrunnerContextMapper {
    var entry: MrunnerConfigFile.Entry
    var document: YAMLDocument
    /// The name the context gets in mrun (the `--prefix` applied).
    var name: String

    private var context: Context
    private var mappings: [MrunnerMapping] = []
    /// The mrunner key that set each mrun key, for messages about the result.
    private var origins: [ContextKey: Node] = [:]
    /// Shell lines before the run, in mrunner's order: after `module load`, then the venv, then pip.
    private var setup: [String: String] = [:]

    init(entry: MrunnerConfigFile.Entry, document: YAMLDocument, name: String) throws(ConfigError) {
        self.entry = entry
        self.document = document
        self.name = name
        let typePair = entry.pairs.first { $0.key == "backend_type" || $0.key == "type" }
        guard let typePair else {
            throw document.failure(
                at: entry.node, "context \(quoted: entry.name): missing 'backend_type' (kubernetes or slurm)")
        }
        let typeName = try document.configScalar(typePair.value, key: typePair.key)
        guard let type = ContextType(rawValue: typeName), type != .ssh else {
            throw document.failure(
                at: typePair.value,
                "context \(quoted: entry.name): \(typePair.key) \(quoted: typeName) is not one of mrunner's"
                    + " backends (kubernetes, slurm)")
        }
        context = Context(name: name, type: type)
    }

    /// The context and what became of each key; a value mrun refuses is an error naming its line.
    mutating func map() throws(ConfigError) -> (Context, [MrunnerMapping]) {
        guard Context.isValidName(name) else {
            throw document.failure(
                at: entry.node,
                "context \(quoted: entry.name): \(ConfigError.invalidContextName(name).description);"
                    + " import it under another name with --prefix")
        }
        for pair in entry.pairs { try map(pair.key, pair.value) }
        let lines = ["after_module_load_cmd", "venv", "requirements_file"].compactMap { setup[$0] }
        if !lines.isEmpty { context.apply(.setup, .list(lines)) }
        if let problem = context.problem() {
            let node = problem.key.flatMap { origins[$0] } ?? entry.node
            throw document.failure(at: node, "context \(quoted: entry.name): \(problem.message)")
        }
        return (context, mappings)
    }

    private func node(for key: String) -> Node? {
        entry.pairs.first { $0.key == key }?.value
    }

    private mutating func map(_ key: String, _ node: Node) throws(ConfigError) {
        let type = context.type
        if MrunnerKeys.slurmOnly.contains(key) && type != .slurm
            || MrunnerKeys.kubernetesOnly.contains(key) && type != .kubernetes
        {
            let owner = MrunnerKeys.slurmOnly.contains(key) ? "slurm" : "kubernetes"
            return drop(key, node, "a \(owner) key; mrunner's \(type.rawValue) backend does not read it")
        }
        if let reason = MrunnerKeys.dropped[key] { return drop(key, node, reason) }
        switch key {
        case "backend_type", "type":
            note(key, node, "type: \(context.type.rawValue)")
        case "context_name", "name":
            let own = try text(key, node)
            let differs = own != entry.name
            note(key, node, "name: \(name)" + (differs ? " (mrunner uses the name under 'contexts:')" : ""))
        case "storage_dir", "storage":
            let path = try text(key, node)
            // mrunner's paths went through a shell; mrun's are quoted, so `$SCRATCH` would be a name.
            if path.contains("$") {
                return drop(
                    key, node,
                    "mrun does not expand $VARIABLES in storage or workdir; write the path out"
                        + " ('mrun context edit \(name)')")
            }
            try set(.storage, .string(path), key: key, node: node)
            var target = "storage: \(path)"
            // mrunner's Slurm backend ships the code under STORAGE_DIR/mrunner_scratch.
            if type == .slurm {
                try set(.workdir, .string(path + "/mrunner_scratch"), key: key, node: node)
                target += ", workdir: \(path)/mrunner_scratch"
            }
            note(key, node, target)
        case "project": try plain(.project, key, node)
        case "neptune":
            let flag = try boolean(key, node)
            try set(.neptune, .boolean(flag), key: key, node: node)
            note(key, node, "neptune: \(flag)")
        case "env":
            guard let mapping = node.mapping else { throw failure(node, "\(key): must map names to values") }
            var env: [String: String] = [:]
            for (name, value) in mapping {
                env[try text(key, name)] = value.scalar?.string ?? ""
            }
            try set(.env, .map(env), key: key, node: node)
            note(key, node, "env: \(env.keys.sorted().joined(separator: ", ")) (values kept)")
        case "resources": try resources(key, node)
        case "cpu", "gpu": try resource(key, node)
        case "mem" where type == .slurm: try plain(.mem, key, node)
        case "mem": try resource(key, node)
        case "nodes": try integer(.nodes, key, node)
        case "ntasks": try integer(.ntasks, key, node)
        case "slurm_url": try plain(.host, key, node)
        case "partition": try plain(.partition, key, node)
        case "account": try plain(.account, key, node)
        case "time": try time(key, node)
        case "modules_to_load":
            let modules = try list(key, node).flatMap { $0.split(separator: " ").map(String.init) }
            try set(.modules, .list(modules), key: key, node: node)
            note(key, node, "modules: [\(modules.joined(separator: ", "))]")
        case "after_module_load_cmd":
            let line = try text(key, node)
            if !line.isEmpty { setup[key] = line }
            note(key, node, "setup: \(line)")
        case "venv":
            let line = MrunnerKeys.activation(of: try text(key, node))
            setup[key] = line
            note(key, node, "setup: \(line)")
        case "requirements_file":
            let line = "pip install -r \(try text(key, node))"
            setup[key] = line
            note(key, node, "setup: \(line) (run before each job, as mrunner did)")
        case "cmd_type":
            let kind = try text(key, node)
            if kind == "sbatch" { return note(key, node, "nothing to set: mrun submits with sbatch") }
            drop(key, node, "mrun submits with sbatch (srun runs inside the job, for gangs); the job is the same")
        case "sbatch_options":
            let options = try list(key, node)
            try set(.sbatchOptions, .list(options), key: key, node: node)
            note(key, node, "sbatch_options: [\(options.joined(separator: ", "))]")
        case "singularity_container": try plain(.containerImage, key, node)
        case "registry_url":
            let url = try text(key, node)
            try set(.registryURL, .string(url), key: key, node: node)
            note(key, node, "registry_url: \(url)")
        case "base_image": try plain(.baseImage, key, node)
        case "default_pvc_size":
            // mrunner appended 'i' (40G meant 40Gi).
            var size = try text(key, node)
            if let last = size.last, "KMGTPE".contains(last) { size += "i" }
            try set(.defaultPVCSize, .string(size), key: key, node: node)
            note(key, node, "default_pvc_size: \(size)")
        default:
            drop(key, node, "not a key mrunner's backends read")
        }
    }

    // MARK: Keys

    private mutating func plain(_ target: ContextKey, _ key: String, _ node: Node) throws(ConfigError) {
        let value = try text(key, node)
        try set(target, .string(value), key: key, node: node)
        note(key, node, "\(target.rawValue): \(value)")
    }

    private mutating func integer(_ target: ContextKey, _ key: String, _ node: Node) throws(ConfigError) {
        let value = try text(key, node)
        guard let number = Int(value) else {
            throw failure(node, "\(key): must be a whole number, got \(quoted: value)")
        }
        try set(target, .integer(number), key: key, node: node)
        note(key, node, "\(target.rawValue): \(number)")
    }

    /// mrunner's `time` is minutes when it is a number (its `--time` option); sbatch's forms pass as they are.
    private mutating func time(_ key: String, _ node: Node) throws(ConfigError) {
        let value = try text(key, node)
        let converted = Int(value).map { MrunnerKeys.slurmTime(minutes: $0) } ?? value
        try set(.time, .string(converted), key: key, node: node)
        note(key, node, "time: \"\(converted)\"" + (converted == value ? "" : " (mrunner's minutes)"))
    }

    private mutating func resources(_ key: String, _ node: Node) throws(ConfigError) {
        var parsed = Resources()
        do {
            if let mapping = node.mapping {
                for (name, value) in mapping {
                    try parsed.set(try text(key, name).lowercased(), try text(key, value))
                }
            } else {
                parsed = try Resources.parse(try text(key, node))
            }
        } catch let error as ResourcesError {
            throw failure(node, "\(key): \(error.description)")
        } catch let error as ConfigError {
            throw error
        } catch {
            throw failure(node, "\(key): \(error)")
        }
        if context.type == .kubernetes, let memory = parsed.memory { parsed.memory = binary(memory) }
        context.resources.take(parsed)
        origins[.resources] = node
        note(key, node, "resources: \(context.resources.description)")
    }

    /// `cpu`, `mem` and `gpu` at the top, which mrunner's Slurm backend reads (and `--cpu` set).
    private mutating func resource(_ key: String, _ valueNode: Node) throws(ConfigError) {
        let node = valueNode
        var value = try text(key, node)
        var single = Resources()
        // mrunner asked sbatch for cpu / ntasks cores per task.
        if key == "cpu", context.type == .slurm,
            let tasks = self.node(for: "ntasks").flatMap({ Int($0.scalar?.string ?? "") }),
            tasks > 1, let cpus = Int(value)
        {
            let perTask = max(1, cpus / tasks)
            try set(.cpusPerTask, .integer(perTask), key: key, node: node)
            return note(key, node, "cpus_per_task: \(perTask) (\(cpus) CPUs over ntasks \(tasks), as mrunner asked)")
        }
        if key == "mem", context.type == .kubernetes { value = binary(value) }
        do {
            try single.set(key, value)
        } catch {
            throw failure(node, "\(key): \(error.description)")
        }
        context.resources.take(single)
        origins[.resources] = node
        note(key, node, "resources: \(context.resources.description)")
    }

    /// mrunner sent Kubernetes `8G` as `8Gi`.
    private func binary(_ memory: String) -> String {
        guard let last = memory.last, "KMGTPE".contains(last) else { return memory }
        return memory + "i"
    }

    // MARK: Helpers

    private mutating func set(_ key: ContextKey, _ value: ContextValue, key source: String, node: Node)
        throws(ConfigError)
    {
        guard key.appliesTo.contains(context.type) else {
            throw failure(node, "\(source): has no place in a \(context.type.rawValue) context")
        }
        context.apply(key, value)
        origins[key] = node
    }

    private mutating func note(_ key: String, _ node: Node, _ target: String) {
        mappings.append(MrunnerMapping(source: shown(key, node), outcome: .mapped(target)))
    }

    private mutating func drop(_ key: String, _ node: Node, _ reason: String) {
        mappings.append(MrunnerMapping(source: shown(key, node), outcome: .dropped(reason)))
    }

    /// `key: value` as written, on one line; secrets and env values are never shown.
    private func shown(_ key: String, _ node: Node) -> String {
        if MrunnerKeys.secret.contains(key) { return "\(key): <redacted>" }
        if key == "env", let mapping = node.mapping {
            return "env: {\(mapping.map { "\($0.key.scalar?.string ?? ""): <redacted>" }.joined(separator: ", "))}"
        }
        return "\(key): \(Self.flow(node))"
    }

    static func flow(_ node: Node) -> String {
        if let scalar = node.scalar { return scalar.string }
        if let sequence = node.sequence { return "[" + sequence.map(flow).joined(separator: ", ") + "]" }
        if let mapping = node.mapping {
            return "{" + mapping.map { "\(flow($0.key)): \(flow($0.value))" }.joined(separator: ", ") + "}"
        }
        return ""
    }

    private func text(_ key: String, _ node: Node) throws(ConfigError) -> String {
        guard let scalar = node.scalar else {
            throw failure(node, "\(key): must be a single value, not \(node.sequence != nil ? "a list" : "a mapping")")
        }
        if MrunnerConfigFile.isNull(node) { throw failure(node, "\(key): has no value; give one or remove the key") }
        return scalar.string
    }

    private func boolean(_ key: String, _ node: Node) throws(ConfigError) -> Bool {
        switch try text(key, node).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw failure(node, "\(key): must be true or false")
        }
    }

    /// A list, or mrunner's space-separated string.
    private func list(_ key: String, _ node: Node) throws(ConfigError) -> [String] {
        guard let sequence = node.sequence else { return [try text(key, node)] }
        var items: [String] = []
        for item in sequence { items.append(try text(key, item)) }
        return items
    }

    private func failure(_ node: Node, _ message: String) -> ConfigError {
        document.failure(at: node, "context \(quoted: entry.name): \(message)")
    }
}

extension Resources {
    /// Takes every resource set in `other`: mrunner's later keys win, as its `--cpu` did.
    mutating func take(_ other: Resources) {
        cpu = other.cpu ?? cpu
        memory = other.memory ?? memory
        gpu = other.gpu ?? gpu
        tpu = other.tpu ?? tpu
    }
}
