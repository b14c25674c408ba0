import MrunSupport

/// The rules each context value obeys, checked wherever a context comes from (a file, `context add`
/// flags, an edit): values reach ssh, a shell on the cluster, an sbatch script or a manifest, so a
/// context file from a colleague must not be able to add a line or an option to any of them.
extension Context {
    /// The whole numbers' ranges: what sbatch and the Kubernetes API take (32-bit counts).
    static func range(of key: ContextKey) -> ClosedRange<Int>? {
        switch key {
        case .backoffLimit: return 0...Int(Int32.max)
        case .nodes, .ntasks, .cpusPerTask, .maxPerHost: return 1...Int(Int32.max)
        // A node's processes are counted by its starter; 4096 is past any machine's GPUs or cores.
        case .procsPerNode: return 1...4096
        case .masterPort: return 1...65535
        default: return nil
        }
    }

    /// The first value with a character no key may hold: control characters anywhere (a newline
    /// would end an `#SBATCH` line or a shell word), except in `setup`, which is shell code, and in
    /// `env` values, which are always quoted.
    func controlCharacterProblem() -> Problem? {
        for key in ContextKey.allCases where key != .setup && key != .env {
            let texts: [String]
            switch value(of: key) {
            case .string(let text): texts = [text]
            case .list(let items): texts = items
            default: texts = []
            }
            if let text = texts.first(where: { MessageQuoting.firstControl(in: $0) != nil }) {
                return Problem(
                    key: key,
                    message: "\(key.rawValue): \(quoted: text) holds a control character (a newline or the like);"
                        + " write the value on one line")
            }
        }
        return nil
    }

    func integerProblem(of keys: [ContextKey] = ContextKey.allCases) -> Problem? {
        for key in keys {
            guard let range = Self.range(of: key), case .integer(let number)? = value(of: key), !range.contains(number)
            else { continue }
            let bound = number < range.lowerBound ? "\(range.lowerBound) or more" : "at most \(range.upperBound)"
            return Problem(key: key, message: "\(key.rawValue) must be \(bound), got \(number)")
        }
        return nil
    }

    /// The first problem with the gang's keys, which `mrun run`'s flags may also set.
    public func gangKeysProblem() -> Problem? {
        integerProblem(of: [.nodes, .procsPerNode, .masterPort]) ?? gangProblem()
    }

    /// A gang the context's backend can start: a launcher mrun knows, and one node on this machine.
    func gangProblem() -> Problem? {
        if let launcher = gang.launcher, GangSettings.Launcher(rawValue: launcher) == nil {
            let known = GangSettings.Launcher.allCases.map(\.rawValue).joined(separator: ", ")
            return Problem(key: .launcher, message: "launcher must be one of \(known), got \(quoted: launcher)")
        }
        if type == .ssh, let nodes = gang.nodes, nodes > 1 {
            return Problem(
                key: .nodes, message: "nodes must be 1 on an ssh context (a point runs on one host), got \(nodes)")
        }
        if let bad = gpus.first(where: { Int($0).map { $0 < 0 || $0 > 4095 } ?? true }) {
            return Problem(
                key: .gpus, message: "gpus: \(quoted: bad) is not a GPU index; list them as numbers, e.g. [0, 1]")
        }
        if let twice = gpus.first(where: { gpu in gpus.filter { Int($0) == Int(gpu) }.count > 1 }) {
            return Problem(key: .gpus, message: "gpus: \(twice) is listed twice; each GPU once")
        }
        if type == .local, let nodes = gang.nodes, nodes > 1 {
            return Problem(
                key: .nodes,
                message: "nodes must be 1 on a local context (it is this one machine), got \(nodes);"
                    + " use procs_per_node for several processes")
        }
        return nil
    }

    func kubernetesProblem() -> Problem? {
        if let url = kubernetes.registryURL,
            let problem = DockerReference.problem(registry: DockerReference.registryPrefix(url))
        {
            return Problem(key: .registryURL, message: "registry_url \(problem)")
        }
        if let image = kubernetes.baseImage, let problem = DockerReference.problem(image: image) {
            return Problem(key: .baseImage, message: "base_image \(problem)")
        }
        if let namespace = kubernetes.namespace, let problem = DNSLabel.problem(namespace) {
            return Problem(key: .namespace, message: "namespace \(quoted: namespace) \(problem)")
        }
        // Without a namespace the project names it; a project Kubernetes would refuse fails here,
        // not at the API server after a build.
        if kubernetes.namespace == nil, let project, let problem = DNSLabel.problem(project) {
            return Problem(
                key: .project,
                message: "project \(quoted: project) becomes the namespace and \(problem);"
                    + " or set namespace to a valid one")
        }
        return nil
    }

    func slurmProblem() -> Problem? {
        if let host = slurm.host {
            do {
                _ = try SSHDestination(parsing: host)
            } catch {
                return Problem(key: .host, message: error.description)
            }
        }
        // Names sbatch takes as one word each (comma lists allowed).
        let words: [(ContextKey, String?)] = [
            (.partition, slurm.partition), (.account, slurm.account), (.qos, slurm.qos), (.gres, slurm.gres),
        ]
        for case (let key, let value?) in words {
            if value.isEmpty || value.contains(where: \.isWhitespace) || value.hasPrefix("-") {
                return Problem(
                    key: key,
                    message: "\(key.rawValue) must be a Slurm name (no spaces, not starting with '-'),"
                        + " got \(quoted: value)")
            }
        }
        if let time = slurm.time, let problem = SlurmGrammar.timeProblem(time) {
            return Problem(key: .time, message: "time \(quoted: time) \(problem)")
        }
        if let memory = slurm.mem, let problem = SlurmGrammar.memoryProblem(memory) {
            return Problem(key: .mem, message: "mem \(quoted: memory) \(problem)")
        }
        return nil
    }
}

/// sbatch's own grammar for `--time` and `--mem`, so that a value sbatch would refuse (or read as
/// something else) fails when the context is written.
enum SlurmGrammar {
    /// `--time`: minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes,
    /// days-hours:minutes:seconds, or UNLIMITED / INFINITE.
    static func timeProblem(_ text: String) -> String? {
        let usage =
            "is not a Slurm time; use MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS,"
            + " DAYS-HOURS:MINUTES, DAYS-HOURS:MINUTES:SECONDS or UNLIMITED (e.g. 1:00:00 or 2-00:00:00)"
        if ["unlimited", "infinite"].contains(text.lowercased()) { return nil }
        var rest = Substring(text)
        var hasDays = false
        if let dash = rest.firstIndex(of: "-") {
            guard isNumber(rest[..<dash]) else { return usage }
            hasDays = true
            rest = rest[rest.index(after: dash)...]
        }
        let fields = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(fields.count), fields.allSatisfy(isNumber) else { return usage }
        // In every form but a bare number of minutes, the fields after the first count below 60.
        let bounded = hasDays ? fields.dropFirst() : (fields.count > 1 ? fields.dropFirst() : [])
        if bounded.contains(where: { (Int($0) ?? 60) >= 60 }) {
            return "has minutes or seconds of 60 or more; write e.g. 1:30:00 for an hour and a half"
        }
        if hasDays, let hours = Int(fields[0]), hours >= 24 {
            return "has 24 hours or more after the days; write the days before the '-' (e.g. 2-00:00:00)"
        }
        return nil
    }

    /// `--mem`: a whole number with an optional unit K, M (the default), G or T.
    static func memoryProblem(_ text: String) -> String? {
        var digits = Substring(text)
        if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        guard isNumber(digits) else {
            return "is not a Slurm memory size; use a whole number with an optional unit K, M, G or T (e.g. 8G or 512M)"
        }
        return nil
    }

    /// One to nine digits: Slurm reads these fields into 32-bit integers.
    private static func isNumber(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 9 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
