import MrunSupport

/// A named remote context: where and how experiments run. Stored as one YAML file per context.
public struct Context: Codable, Sendable, Equatable {
    public var name: String
    public var type: ContextType
    public var project: String?
    public var env: [String: String] = [:]
    public var neptune: Bool = true
    public var resources: Resources = Resources()
    public var storage: String?
    public var python: String?
    public var templatesDir: String?
    public var kubernetes = KubernetesSettings()
    public var slurm = SlurmSettings()
    public var ssh = SSHSettings()
    /// How many processes an experiment is, on how many nodes (see ``GangSettings``).
    public var gang = GangSettings()
    /// A local context's GPUs (device indexes) for a gang's processes; empty: nvidia-smi's.
    public var gpus: [String] = []
    /// Where to say that a launch ended: webhook URLs (secrets: a Slack webhook URL is a
    /// credential) and `command: ARGV` lines (``NotifyTargets``).
    public var notify: [String] = []
    /// The events notified: `end` (the default), `fail`, `start`.
    public var notifyOn: [String] = []
    /// Who sends them: `job` (the job itself, the default) or `here` (`mrun wait --notify`).
    public var notifyFrom: String?

    public init(name: String, type: ContextType) {
        self.name = name
        self.type = type
    }

    /// The context used when none is configured: runs experiments on this machine.
    public static let builtInLocal = Context(name: "local", type: .local)

    public static let defaultPython = "python3"
    public var pythonCommand: String { python ?? Self.defaultPython }

    private enum CodingKeys: String, CodingKey {
        case name, type, project, env, neptune, resources, storage, python, templatesDir, kubernetes, slurm, gang
        case gpus, notify, notifyOn, notifyFrom, ssh
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try values.decode(String.self, forKey: .name),
            type: try values.decode(ContextType.self, forKey: .type))
        project = try values.decodeIfPresent(String.self, forKey: .project)
        env = try values.decode([String: String].self, forKey: .env)
        neptune = try values.decode(Bool.self, forKey: .neptune)
        resources = try values.decode(Resources.self, forKey: .resources)
        storage = try values.decodeIfPresent(String.self, forKey: .storage)
        python = try values.decodeIfPresent(String.self, forKey: .python)
        templatesDir = try values.decodeIfPresent(String.self, forKey: .templatesDir)
        kubernetes = try values.decode(KubernetesSettings.self, forKey: .kubernetes)
        slurm = try values.decode(SlurmSettings.self, forKey: .slurm)
        gang = try values.decodeIfPresent(GangSettings.self, forKey: .gang) ?? GangSettings()
        gpus = try values.decodeIfPresent([String].self, forKey: .gpus) ?? []
        notify = try values.decodeIfPresent([String].self, forKey: .notify) ?? []
        notifyOn = try values.decodeIfPresent([String].self, forKey: .notifyOn) ?? []
        notifyFrom = try values.decodeIfPresent(String.self, forKey: .notifyFrom)
        ssh = try values.decodeIfPresent(SSHSettings.self, forKey: .ssh) ?? SSHSettings()
    }

    // Without gang keys, no `gang`: plans' JSON and stored launches stay as they were before gangs.
    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(name, forKey: .name)
        try values.encode(type, forKey: .type)
        try values.encodeIfPresent(project, forKey: .project)
        try values.encode(env, forKey: .env)
        try values.encode(neptune, forKey: .neptune)
        try values.encode(resources, forKey: .resources)
        try values.encodeIfPresent(storage, forKey: .storage)
        try values.encodeIfPresent(python, forKey: .python)
        try values.encodeIfPresent(templatesDir, forKey: .templatesDir)
        try values.encode(kubernetes, forKey: .kubernetes)
        try values.encode(slurm, forKey: .slurm)
        if gang != GangSettings() { try values.encode(gang, forKey: .gang) }
        if !gpus.isEmpty { try values.encode(gpus, forKey: .gpus) }
        // Webhook URLs are credentials: encoded forms (plans, the history) never hold them.
        if !notify.isEmpty { try values.encode(notify.map(NotifyTargets.redacted), forKey: .notify) }
        if !notifyOn.isEmpty { try values.encode(notifyOn, forKey: .notifyOn) }
        try values.encodeIfPresent(notifyFrom, forKey: .notifyFrom)
        // Only ssh contexts have it: other contexts' JSON stays as it was.
        if ssh != SSHSettings() { try values.encode(ssh, forKey: .ssh) }
    }
}

public struct KubernetesSettings: Codable, Sendable, Equatable {
    public var registryURL: String?
    public var baseImage: String?
    public var defaultPVCSize: String?
    public var kubeContext: String?
    public var namespace: String?
    public var backoffLimit: Int?
    /// Kueue's LocalQueue: the Job's `kueue.x-k8s.io/queue-name` label.
    public var queue: String?
    /// The pods' `priorityClassName`.
    public var priorityClass: String?
    /// The pods' `nodeSelector`: node label → value.
    public var nodeSelector: [String: String]?
    /// The pods' tolerations as written (``KubernetesToleration`` reads each).
    public var tolerations: [String]?
    /// How a sweep becomes Jobs, as written (``SweepMode`` reads it).
    public var sweepMode: String?

    /// `sweep_mode`: one Job per point, or one Indexed Job whose pods pick their point by index.
    public enum SweepMode: String, CaseIterable, Sendable {
        case jobs, indexed
    }

    /// The sweep mode, `jobs` when unset.
    public var parsedSweepMode: SweepMode { sweepMode.flatMap(SweepMode.init(rawValue:)) ?? .jobs }

    public static let defaultBaseImage = "python:3.11-slim"
    public static let defaultPVCSize = "40Gi"
    public static let defaultStorage = "/storage"
}

/// A gang: `nodes` x `procs_per_node` processes that train together, each with torchrun's
/// variables (RANK, WORLD_SIZE, MASTER_ADDR...). Unset keys take their defaults at planning.
public struct GangSettings: Codable, Sendable, Equatable {
    public var nodes: Int?
    public var procsPerNode: Int?
    /// `mrun`, `torchrun` or `none` (``Launcher``).
    public var launcher: String?
    public var masterPort: Int?

    public init() {}

    /// How the processes of a gang start.
    public enum Launcher: String, CaseIterable, Sendable, Codable {
        /// mrun's per-node starter starts each node's processes.
        case mrun
        /// One `torchrun` per node starts them.
        case torchrun
        /// One process per node, with the node's variables only.
        case none
    }

    public static let defaultMasterPort = 29500
}

/// A Slurm context's settings: how mrun reaches the cluster, and the job's sbatch options
/// (``SlurmJobOptions``, read as members of the settings: `settings.partition`).
@dynamicMemberLookup
public struct SlurmSettings: Codable, Sendable, Equatable {
    /// mrun runs on the login node: commands run here, not over ssh (nil when unset, i.e. false).
    public var loginNode: Bool?
    public var host: String?
    public var identityFile: String?
    public var sshConfig: String?
    public var workdir: String?
    public var job = SlurmJobOptions()

    public static let defaultWorkdir = "mrun"

    public init() {}

    public subscript<Value>(dynamicMember option: WritableKeyPath<SlurmJobOptions, Value>) -> Value {
        get { job[keyPath: option] }
        set { job[keyPath: option] = newValue }
    }

    private enum CodingKeys: String, CodingKey {
        case loginNode, host, identityFile, sshConfig, workdir
    }

    // One flat object, as before the job's options had a type of their own (stored contexts).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        loginNode = try container.decodeIfPresent(Bool.self, forKey: .loginNode)
        host = try container.decodeIfPresent(String.self, forKey: .host)
        identityFile = try container.decodeIfPresent(String.self, forKey: .identityFile)
        sshConfig = try container.decodeIfPresent(String.self, forKey: .sshConfig)
        workdir = try container.decodeIfPresent(String.self, forKey: .workdir)
        job = try SlurmJobOptions(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(loginNode, forKey: .loginNode)
        try container.encodeIfPresent(host, forKey: .host)
        try container.encodeIfPresent(identityFile, forKey: .identityFile)
        try container.encodeIfPresent(sshConfig, forKey: .sshConfig)
        try container.encodeIfPresent(workdir, forKey: .workdir)
        try job.encode(to: encoder)
    }
}

/// What a Slurm job is submitted with: the context's sbatch options as the plan's Slurm part
/// carries them too.
public struct SlurmJobOptions: Codable, Sendable, Equatable {
    public var partition: String?
    public var account: String?
    public var qos: String?
    public var time: String?
    public var ntasks: Int?
    public var cpusPerTask: Int?
    public var mem: String?
    public var gres: String?
    public var constraint: String?
    public var modules: [String] = []
    public var setup: [String] = []
    public var sbatchOptions: [String] = []
    /// Apptainer/Singularity image the experiment runs in.
    public var containerImage: String?
    /// `--requeue`: Slurm puts a job it preempted or whose node failed back in the queue.
    public var requeue: Bool?

    public init() {}
}
