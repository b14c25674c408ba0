import Foundation
import MrunSupport

/// Finds each template in the first place that has it: `--templates DIR`, the context's
/// `templates_dir`, `$MRUN_HOME/templates`, then the built-in defaults. Overrides are per file.
public struct TemplateSet: Sendable {
    /// The templates mrun renders, by name; a file `NAME.stencil` (or `NAME`) overrides one.
    public enum Name: String, CaseIterable, Sendable {
        case dockerfile = "Dockerfile"
        case namespace = "namespace.yaml"
        case persistentVolumeClaim = "pvc.yaml"
        case secret = "secret.yaml"
        case job = "job.yaml"
        case sbatch = "sbatch.sh"
        /// mrun's per-node starter of a gang's processes.
        case gang = "gang.py"
        /// The point picker of a sweep run as one Indexed Job (`sweep_mode: indexed`).
        case sweepPoint = "sweep-point.py"
        /// The notifier a cluster job runs at its end (`notify`, `notify_from: job`).
        case notify = "notify.py"
        /// An ssh host's check and preparation, run before the code is shipped there.
        case sshProbe = "ssh-probe.sh"
        /// One launch (a sweep's point) on an ssh host.
        case sshRun = "ssh-run.sh"
        /// An ssh host's queue of points, detached.
        case sshRunner = "ssh-runner.sh"
        /// Starts an ssh host's runner and reports the process ids of the points it started.
        case sshStart = "ssh-start.sh"
        /// The state of launches on an ssh host (variable `directories`), for the job commands.
        case sshStatus = "ssh-status.sh"
        /// Cancels a launch on an ssh host (variables `directory`, `patience`, `patience_tenths`).
        case sshCancel = "ssh-cancel.sh"
        /// mrun's reader of mrunner experiment specifications (`mrun run --spec SPEC.py`), run here.
        case mrunnerSpec = "mrunner-spec.py"
        /// The compatibility module's `mrunner/experiment.py`.
        case mrunnerExperiment = "mrunner-experiment.py"
        /// The compatibility module's `mrunner/helpers/specification_helper.py`.
        case mrunnerSpecificationHelper = "mrunner-specification_helper.py"
        /// The compatibility module's `mrunner/helpers/client_helper.py`.
        case mrunnerClientHelper = "mrunner-client_helper.py"
    }

    /// A template's text and where it came from ("built-in" or a file path).
    public struct Source: Sendable, Equatable {
        public var text: String
        public var origin: String
    }

    public let searchPath: [URL]

    public init(searchPath: [URL]) {
        self.searchPath = searchPath
    }

    public func source(_ name: Name) throws -> Source {
        for directory in searchPath {
            for candidate in ["\(name.rawValue).stencil", name.rawValue] {
                let file = directory.appendingPathComponent(candidate)
                guard FileManager.default.fileExists(atPath: file.path) else { continue }
                do {
                    return Source(text: try FileText.read(file, role: "template"), origin: file.path)
                } catch {
                    throw TemplateError.unreadable(path: file.path, reason: "\(error)")
                }
            }
        }
        return Source(text: BuiltInTemplates.files[name.rawValue] ?? "", origin: "built-in \(name.rawValue)")
    }
}
