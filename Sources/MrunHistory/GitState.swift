import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// The git commit a project was at when launched, and whether it had changes on top.
public struct GitState: Codable, Sendable, Equatable {
    /// Full hex id of `HEAD`.
    public var commit: String
    /// Whether `git status --porcelain` listed anything: modified, staged or untracked files.
    public var dirty: Bool

    public init(commit: String, dirty: Bool) {
        self.commit = commit
        self.dirty = dirty
    }

    /// The state of the work tree containing `directory`; nil when it is not inside a git work tree,
    /// the repository has no commit yet, or git is not installed.
    ///
    /// Provenance is a best effort: a launch must not fail because git is missing or broken, so
    /// every failure is nil rather than an error.
    public static func detect(in directory: String, runner: any ProcessRunning) async -> GitState? {
        // Git refuses repositories owned by another user ("dubious ownership") and says so on
        // stderr with a non-zero exit: that is "unknown" too.
        guard
            let head = try? await runner.run(
                ["git", "rev-parse", "--verify", "-q", "HEAD"],
                environment: nil, workingDirectory: directory),
            head.status.succeeded
        else { return nil }
        let commit = head.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard commit.count >= 40, commit.allSatisfy(\.isHexDigit) else { return nil }
        guard
            let status = try? await runner.run(
                ["git", "status", "--porcelain"],
                environment: nil, workingDirectory: directory),
            status.status.succeeded
        else { return nil }
        return GitState(commit: commit, dirty: !status.standardOutput.isEmpty)
    }
}
