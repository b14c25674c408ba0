import Foundation

/// Everything `mrun run` will do, fully rendered and nothing executed: the resolved context, the
/// experiment, the code to ship, the environment and every artefact. `--dry-run` prints it; a
/// backend executes it.
public struct ExperimentPlan: Codable, Sendable {
    public var context: Context
    public var experiment: Experiment
    public var snapshot: CodeSnapshot
    /// Every variable the experiment gets, secrets included (they encode and print redacted).
    public var environment: [EnvironmentVariable]
    public var storagePath: String?
    public var image: ImageSpec?
    public var kubernetes: KubernetesTarget?
    public var slurm: SlurmTarget?
    public var local: LocalTarget?
    public var artefacts: [Artefact]

    public var secrets: [EnvironmentVariable] { environment.filter(\.secret) }

    public func artefact(_ name: TemplateSet.Name) -> Artefact? {
        artefacts.first { $0.name == name.rawValue }
    }
}

public struct Experiment: Codable, Sendable, Equatable {
    /// Unique name of this launch, e.g. `train-k3x9q`: the Job name, the run directory.
    public var name: String
    /// Stable name from `--name` or the script, e.g. `train`: the image name.
    public var baseName: String
    public var project: String
    public var script: String
    public var args: [String]
    public var tags: [String]
    public var requirements: String?
    public var python: String
    /// The program and its first arguments: `[python3, train.py]`, or `[./train.py]` for an
    /// executable script with a shebang line.
    public var command: [String]
    /// `command` followed by `args`.
    public var argv: [String]
    /// `argv` as a shell would read it, for display.
    public var commandLine: String
    /// Neptune experiment parameters from `--config`, as JSON (also `MRUN_PARAMS`).
    public var parameters: String?
    /// SHA-256 over the code, requirements, base image and Dockerfile; the image tag.
    public var contentHash: String
    public var created: Date
}

public struct ImageSpec: Codable, Sendable, Equatable {
    public var base: String
    /// `<registry_url>/<project>/<base name>:<content hash>`.
    public var tag: String
    public var workdir: String
}

public struct KubernetesTarget: Codable, Sendable, Equatable {
    public var namespace: String
    public var claimName: String
    public var storageSize: String
    public var secretName: String
    public var backoffLimit: Int
    public var kubeContext: String?
}

public struct SlurmTarget: Codable, Sendable, Equatable {
    /// Empty with `loginNode`.
    public var host: String
    /// Commands run on this machine, the login node, without ssh.
    public var loginNode: Bool
    /// Remote directory the code is shipped to: `<workdir>/<project>/<experiment>`.
    public var jobDir: String
    public var output: String
    /// Private file next to the job holding the secret variables, sourced by the script.
    public var envFile: String
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
    public var modules: [String]
    public var setup: [String]
    public var sbatchOptions: [String]
    /// Apptainer/Singularity image the experiment runs in.
    public var containerImage: String?
}

public struct LocalTarget: Codable, Sendable, Equatable {
    /// Fresh directory holding the code copy, `plan.json` and `output.log`.
    public var runDirectory: String
    public var logFile: String
}

/// A rendered file: what it is, which template made it, and its text.
public struct Artefact: Codable, Sendable, Equatable {
    public var name: String
    public var template: String
    public var content: String
}
