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

    public init(name: String, type: ContextType) {
        self.name = name
        self.type = type
    }

    /// The context used when none is configured: runs experiments on this machine.
    public static let builtInLocal = Context(name: "local", type: .local)

    public static let defaultPython = "python3"
    public var pythonCommand: String { python ?? Self.defaultPython }
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

    public static let defaultBaseImage = "python:3.11-slim"
    public static let defaultPVCSize = "40Gi"
    public static let defaultStorage = "/storage"
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
    public var nodes: Int?
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

    public init() {}
}
