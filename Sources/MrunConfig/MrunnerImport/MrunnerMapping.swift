import Foundation
import Yams
import MrunSupport

/// What became of one key of an mrunner context: the mrun keys it set, or why it was dropped.
public struct MrunnerMapping: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The mrun keys it set, as they read in a context file (`time: "1:00:00"`).
        case mapped(String)
        /// Nothing set, and why (`mrun submits with sbatch`).
        case dropped(String)
    }

    /// The mrunner key and its value as written; a secret's value reads `<redacted>`.
    public var source: String
    public var outcome: Outcome

    /// One line of `context import`'s report: `time: 60 -> time: "1:00:00"`.
    public var line: String {
        switch outcome {
        case .mapped(let target): return "\(source) -> \(target)"
        case .dropped(let reason): return "\(source) -> dropped: \(reason)"
        }
    }
}

/// The reasons and targets of mrunner's keys that need more than a rename, in one place so that
/// the README's table and the importer say the same.
enum MrunnerKeys {
    /// Keys mrunner's backends read that mrun has no use for, and why.
    static let dropped: [String: String] = [
        "user_id": "mrun records who launched each experiment in its history (mrun list, mrun show)",
        "google_project_id": "mrun pushes with docker's own login; run 'gcloud auth configure-docker' once",
        "registry_username": "mrun pushes with docker's own login; run 'docker login REGISTRY' once",
        "registry_password": "mrun pushes with docker's own login; run 'docker login REGISTRY' once",
        "log_output_path": "mrun writes the output to slurm-JOBID.out in the job directory (mrun logs ID)",
        "scratch_dir": "the code goes to workdir (mapped from storage_dir) on the cluster",
        "tags": "mrun has no context-wide tags; give them with 'mrun run --tag'",
        "paths_to_copy": "mrun ships the whole project directory; list what to leave out in .mrunignore",
        "exclude": "mrun leaves out what .gitignore and .mrunignore list; add these paths to .mrunignore",
        "requirements": "give the requirements file with 'mrun run --requirements FILE'",
        "cwd": "mrun ships the directory 'mrun run' is started in",
    ]

    /// Keys of one backend only in mrunner.
    static let slurmOnly: Set<String> = [
        "slurm_url", "partition", "account", "time", "ntasks", "modules_to_load", "venv", "after_module_load_cmd",
        "cmd_type", "sbatch_options", "singularity_container", "requirements_file", "log_output_path", "scratch_dir",
        "user_id",
    ]
    static let kubernetesOnly: Set<String> = [
        "registry_url", "base_image", "google_project_id", "registry_username", "registry_password",
        "default_pvc_size",
    ]

    /// Shown as `<redacted>` wherever a mapping is printed.
    static let secret: Set<String> = ["registry_password"]

    /// sbatch's `--time` from mrunner's minutes: `60` -> `1:00:00`, `1500` -> `1-01:00:00`.
    static func slurmTime(minutes: Int) -> String {
        let days = minutes / 1440
        let hours = minutes % 1440 / 60
        let rest = minutes % 60
        let clock = rest < 10 ? "0\(rest)" : "\(rest)"
        if days > 0 { return "\(days)-\(hours < 10 ? "0" : "")\(hours):\(clock):00" }
        return "\(hours):\(clock):00"
    }

    /// A shell line activating a virtualenv, the path double-quoted so `$HOME` still expands as it
    /// did in mrunner's script.
    static func activation(of venv: String) -> String {
        let plain = !venv.contains(where: { "\"`\\".contains($0) })
        let path = venv + "/bin/activate"
        let quoted = plain ? "\"\(path)\"" : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
        return "source \(quoted)"
    }
}
