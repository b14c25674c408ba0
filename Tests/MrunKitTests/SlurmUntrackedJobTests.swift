import Foundation
import Testing

@testable import MrunKit
@testable import MrunBackends
@testable import MrunHistory

/// Jobs submitted to the real Slurm test bed without mrun, so the history holds none of them:
/// `status`, `logs`, `wait` and `cancel` follow them by job id through the context's control.
extension SlurmTests {
    @Suite struct UntrackedJobs {
        @Test func jobsTheHistoryDoesNotHoldAreFollowedByTheirIDs() async throws {
            let slurm = try await SlurmSandbox()
            let directory = slurm.workdir
            let submit = { (name: String, command: String) async throws -> String in
                let result = try await slurm.testbed.remote(
                    "mkdir -p '\(directory)' && sbatch --parsable -J \(name) -o '\(directory)/\(name)-%j.out'"
                        + " --wrap '\(command)'")
                try #require(result.status == 0, "sbatch: \(result.error)")
                return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let short = try await submit("by-hand", "sleep 2; echo hello; sleep 1")
            let long = try await submit("by-hand-long", "sleep 600")

            // Asked before it ends, while Slurm holds the job and says where its output goes.
            let status = try await slurm.mrun(["status", short])
            #expect(
                status.standardOutput.hasPrefix("Job        \(short) (by-hand)\nState      "),
                "\(status.standardOutput)\(status.standardError)")
            #expect(status.standardOutput.contains("/\(directory)/by-hand-\(short).out\n"), "\(status.standardOutput)")
            let logs = try await slurm.mrun(["logs", "-f", short])
            #expect(logs.standardOutput == "hello\n", "\(logs.standardError)")
            #expect(
                logs.standardError.hasSuffix("mrun: job \(short) COMPLETED, exit code 0\n"), "\(logs.standardError)")
            let wait = try await slurm.mrun(["wait", short])
            #expect(wait.status == 0, "\(wait.standardError)")
            #expect(wait.standardOutput == "Job \(short) (by-hand): COMPLETED, exit code 0\n")

            let cancel = try await slurm.mrun(["cancel", long])
            #expect(cancel.status == 0, "\(cancel.standardError)")
            #expect(
                cancel.standardOutput.hasPrefix("Cancelled job \(long) (by-hand-long): CANCELLED"),
                "\(cancel.standardOutput)")
            let again = try await slurm.mrun(["cancel", long])
            #expect(
                again.standardOutput.hasPrefix("Job \(long) had already ended: CANCELLED"), "\(again.standardOutput)")
            #expect(try HistoryStore(home: slurm.sandbox.mrunHome).list().isEmpty, "mrun recorded none of them")

            // A history that cannot be opened costs a warning, not the answer.
            try Data("not a database".utf8).write(
                to: slurm.sandbox.mrunHome.appendingPathComponent(HistoryStore.fileName))
            let direct = try await slurm.mrun(["status", long])
            #expect(direct.status == 0, "\(direct.standardError)")
            #expect(
                direct.standardOutput.hasPrefix("Job        \(long) (by-hand-long)\nState      CANCELLED"),
                "\(direct.standardOutput)")
            #expect(
                direct.standardError.hasSuffix("; asking Slurm about job \(long) directly\n"), "\(direct.standardError)"
            )
            try await slurm.cleanUp()
        }
    }
}
