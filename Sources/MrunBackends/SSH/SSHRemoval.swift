import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

extension SSHJobControl {
    /// Removes the launch's point directory on its host (`.../.mrun/points/NAME`: its script,
    /// output, exit code); the shipped code stays for the other launches of the experiment.
    public func remove(_ launch: LaunchRecord, keepDirectory: Bool) async throws -> [String] {
        guard !keepDirectory else { return [] }
        let placed = try placement(launch)
        let directory = placed.runDirectory
        let parent = (directory as NSString).deletingLastPathComponent
        guard parent.hasSuffix("/.mrun/points"), !directory.contains("/../"), !directory.hasSuffix("/..") else {
            throw JobControlError.notRemovable(launch: launch.id, path: directory)
        }
        let quoted = TemplateFilters.shellQuote(directory)
        let result = try await session(placed.host).run("test -e \(quoted) || exit 3; rm -rf -- \(quoted)", input: [])
        switch result.status {
        case .exited(0): return ["point directory \(placed.host):\(directory)"]
        case .exited(3): return []
        default:
            throw SlurmError.remoteCommandFailed(
                host: placed.host, command: "rm -rf -- \(directory)",
                detail: CodeShipper.lastLine(result.standardError, status: result.status))
        }
    }
}
