import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

extension SlurmJobControl {
    /// Removes the launch's job directory on the cluster (`WORKDIR/PROJECT/NAME`, the code and the
    /// output), over the context's connection; a path that cannot be a job directory is refused.
    public func remove(_ launch: LaunchRecord, keepDirectory: Bool) async throws -> [String] {
        guard !keepDirectory, let directory = launch.runDirectory else { return [] }
        let parts = directory.split(separator: "/")
        guard parts.count >= 2, !parts.contains(".."), !parts.contains("."), !directory.hasPrefix("-"),
            !directory.hasPrefix("~")
        else { throw JobControlError.notRemovable(launch: launch.id, path: directory) }
        let quoted = TemplateFilters.shellQuote(directory)
        let result = try await jobs.session.run("test -e \(quoted) || exit 3; rm -rf -- \(quoted)")
        switch result.status {
        case .exited(0): return ["job directory \(jobs.session.location(directory))"]
        case .exited(3): return []
        default:
            throw SlurmError.remoteCommandFailed(
                host: jobs.session.name, command: "rm -rf -- \(directory)",
                detail: result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
