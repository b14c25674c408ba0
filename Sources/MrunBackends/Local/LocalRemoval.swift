import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

extension LocalJobControl {
    /// Removes the launch's run directory, `$MRUN_HOME/runs/NAME` (or `NAME.N`); any other path
    /// is refused, so that a damaged record can never name a directory of the user's.
    public func remove(_ launch: LaunchRecord, keepDirectory: Bool) async throws -> [String] {
        guard !keepDirectory, let directory = launch.runDirectory,
            FileManager.default.fileExists(atPath: directory)
        else { return [] }
        let url = URL(fileURLWithPath: directory).standardizedFileURL
        guard url.deletingLastPathComponent().lastPathComponent == "runs",
            url.lastPathComponent.hasPrefix(launch.experimentName)
        else { throw JobControlError.notRemovable(launch: launch.id, path: directory) }
        try FileManager.default.removeItem(at: url)
        return ["run directory \(directory)"]
    }
}
