import MrunSupport
import MrunConfig
import MrunTemplates

/// What the user asked `mrun run` for, before anything is resolved.
public struct RunRequest: Codable, Sendable, Equatable {
    public var script: String
    /// Everything after `--`, untouched.
    public var arguments: [String] = []
    public var requirements: String?
    public var baseImage: String?
    public var name: String?
    public var project: String?
    public var tags: [String] = []
    /// `--env NAME=VALUE` items, in order.
    public var environment: [String] = []
    /// `--config neptune.yaml`.
    public var neptuneConfig: String?
    public var templatesDir: String?
    /// `--resources "cpu=4 mem=8G"`, merged over the context's.
    public var resources: String?
    /// `--nodes`, `--procs_per_node`, `--launcher`, `--master_port`, over the context's.
    public var gang = GangSettings()
    /// `--notify` targets beside the context's: secrets, so never recorded with the inputs.
    public var notify: [String] = []
    /// `--skip-unreachable`: on an ssh context, run on the hosts that answer (nil: not given, so
    /// requests stored before it read unchanged).
    public var skipUnreachable: Bool?
    /// Launched from a Python spec (mrunner's): its job gets mrun's mrunner compatibility module
    /// unless the project has its own, and `PYTHONPATH` from the spec's `python_path`.
    public var mrunner: MrunnerSpecSettings?

    public init(
        script: String, arguments: [String] = [], requirements: String? = nil, baseImage: String? = nil,
        name: String? = nil, project: String? = nil, tags: [String] = [], environment: [String] = [],
        neptuneConfig: String? = nil, templatesDir: String? = nil, resources: String? = nil,
        gang: GangSettings = GangSettings()
    ) {
        self.script = script
        self.arguments = arguments
        self.requirements = requirements
        self.baseImage = baseImage
        self.name = name
        self.project = project
        self.tags = tags
        self.environment = environment
        self.neptuneConfig = neptuneConfig
        self.templatesDir = templatesDir
        self.resources = resources
        self.gang = gang
    }
}

extension RunRequest {
    /// Refuses flag values that could never make a launch, before anything is read or built.
    public func validate() throws(ConfigError) {
        if let baseImage, let problem = DockerReference.problem(image: baseImage) {
            throw .invalidFlag(flag: "--base_image", message: problem)
        }
        if let name {
            let usable = name.unicodeScalars.contains {
                $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0)
            }
            if MessageQuoting.firstControl(in: name) != nil || !usable {
                throw .invalidFlag(
                    flag: "--name",
                    message:
                        "\(quoted: name) cannot name an experiment; give letters or digits, e.g. --name resnet-baseline"
                )
            }
        }
    }
}
