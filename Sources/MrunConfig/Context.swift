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

    public static let defaultBaseImage = "python:3.11-slim"
    public static let defaultPVCSize = "40Gi"
    public static let defaultStorage = "/storage"
}

public struct SlurmSettings: Codable, Sendable, Equatable {
    /// mrun runs on the login node: commands run here, not over ssh (nil when unset, i.e. false).
    public var loginNode: Bool?
    public var host: String?
    public var identityFile: String?
    public var sshConfig: String?
    public var workdir: String?
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

    public static let defaultWorkdir = "mrun"
}
