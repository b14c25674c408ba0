import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// The history of launches on the real Slurm test bed: recorded at submission, refreshed by
/// `list` from the cluster, followed and controlled by launch id, name or job id.
extension SlurmTests {
    @Suite struct HistoryOnSlurm {
        static let script = """
            import sys, time
            time.sleep(float(sys.argv[2]))
            print("bye", flush=True)
            sys.exit(int(sys.argv[1]))
            """

        @Test func listReflectsCompletedFailedAndCancelledJobs() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write(Self.script, to: "exit.py")
            let (_, completed) = try await slurm.submit(["exit.py", "--name", "ok", "--", "0", "0"])
            let (_, failed) = try await slurm.submit(["exit.py", "--name", "bad", "--", "3", "0"])
            let (longRun, long) = try await slurm.submit(["exit.py", "--name", "long", "--", "0", "600"])

            let history = try HistoryStore(home: slurm.sandbox.mrunHome)
            let recorded = try history.list()
            #expect(recorded.compactMap(\.jobId).sorted() == [completed, failed, long].sorted())
            #expect(recorded.allSatisfy { $0.backend == .slurm && $0.contextName == "tb" })
            let longLaunch = try #require(try history.launch(jobId: long, context: "tb"))
            #expect(longRun.standardOutput.contains("Launch: \(longLaunch.id)\n"))
            #expect(longLaunch.runDirectory?.hasSuffix("/\(longLaunch.experimentName)") == true)

            #expect(try await slurm.waitFor(long, ["RUNNING"]) == "RUNNING")
            let cancel = try await slurm.mrun(["cancel", longLaunch.experimentName])
            #expect(cancel.status == 0, "\(cancel.standardError)")
            #expect(
                cancel.standardOutput.hasPrefix(
                    "Cancelled job \(long) (\(longLaunch.experimentName), launch \(longLaunch.id)): CANCELLED"))
            let failedLaunch = try #require(try history.launch(jobId: failed, context: "tb"))
            let waitFailed = try await slurm.mrun(["wait", String(failedLaunch.id.prefix(5))])
            #expect(waitFailed.status == 3, "the job's status: \(waitFailed.standardOutput)\(waitFailed.standardError)")
            let waitCompleted = try await slurm.mrun(["wait", completed])
            #expect(waitCompleted.status == 0, "\(waitCompleted.standardError)")

            let list = try await CLI.run(["list", "--output", "json"], sandbox: slurm.sandbox)
            #expect(list.status == 0, "\(list.standardError)")
            let rows = try #require(
                try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]])
            let states = Dictionary(
                uniqueKeysWithValues: rows.compactMap { row in
                    (row["jobId"] as? String).map { ($0, (row["state"] as? String, row["exitCode"] as? Int)) }
                })
            #expect(states[completed]?.0 == "completed" && states[completed]?.1 == 0, "\(states)")
            #expect(states[failed]?.0 == "failed" && states[failed]?.1 == 3, "\(states)")
            #expect(states[long]?.0 == "cancelled", "\(states)")
            let onlyFailed = try await slurm.mrun(["list", "--state", "failed"])
            let lines = onlyFailed.standardOutput.split(separator: "\n")
            #expect(lines.count == 2 && lines[1].contains(" \(failed) "), "\(onlyFailed.standardOutput)")

            // The launch id, its prefix and the job id all name the launch.
            let status = try await slurm.mrun(["status", failed])
            #expect(status.standardOutput.hasPrefix("Launch     \(failedLaunch.id) (\(failedLaunch.experimentName))\n"))
            #expect(status.standardOutput.contains("State      FAILED, exit code 3\n"), "\(status.standardOutput)")
            let logs = try await slurm.mrun(["logs", failedLaunch.id])
            #expect(logs.standardOutput == "bye\n", "\(logs.standardError)")
            let show = try await slurm.mrun(["show", failedLaunch.experimentName])
            #expect(show.standardOutput.contains("Job           \(failed)\n"), "\(show.standardOutput)")
            try await slurm.cleanUp()
        }

        @Test func resumeSubmitsOnlyTheCancelledPoint() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write(Self.script, to: "exit.py")
            let run = try await slurm.mrun(
                ["run", "exit.py", "--zip", "n=0,1,2", "--max-parallel", "1", "--", "0", "600"])
            #expect(run.status == 0, "\(run.standardError)")
            let sweep = try HistoryCLITests.sweepID(run.standardOutput)
            let history = try HistoryStore(home: slurm.sandbox.mrunHome)
            let points = try history.launches(sweep: sweep)
            try #require(points.count == 3)
            let array = try #require(points[0].jobId?.split(separator: "_").first.map(String.init))

            let cancel = try await slurm.mrun(["cancel", points[2].id])
            #expect(cancel.status == 0, "\(cancel.standardError)")
            #expect(cancel.standardOutput.contains("Cancelled job \(array)_2 "), "\(cancel.standardOutput)")
            let resume = try await slurm.mrun(["resume", sweep])
            #expect(resume.status == 0, "\(resume.standardError)")
            #expect(resume.standardError.contains("resuming sweep \(sweep): 1 of 3 points (2)"))
            let submitted = try #require(
                resume.standardOutput.split(separator: "\n").first { $0.hasPrefix("Submitted job array ") })
            let again = try #require(submitted.split(separator: " ").dropFirst(3).first.map(String.init))
            #expect(submitted == "Submitted job array \(again) (exit-\(sweep), 1 point: \(again)_2)")
            let nothing = try await slurm.mrun(["resume", sweep])
            #expect(nothing.standardOutput.contains("nothing to resume"), "\(nothing.standardOutput)")

            let after = try history.launches(sweep: sweep)
            #expect(after.map(\.jobId) == ["\(array)_0", "\(array)_1", "\(array)_2", "\(again)_2"])
            #expect(after.map(\.experimentName) == ["0", "1", "2", "2"].map { "exit-\(sweep)-\($0)" })
            // The whole sweep: the newest launch of each point.
            let stop = try await slurm.mrun(["cancel", "--sweep", sweep])
            #expect(stop.status == 0, "\(stop.standardError)")
            for job in ["\(array)_0", "\(array)_1", "\(again)_2"] {
                #expect(stop.standardOutput.contains("Cancelled job \(job) "), "\(stop.standardOutput)")
            }
            let list = try await slurm.mrun(["list", "--sweep", sweep, "--state", "cancelled"])
            // Each point's latest launch, point 2's second attempt among them.
            let rows = list.standardOutput.split(separator: "\n")
            #expect(rows.count == 4, "\(list.standardOutput)")
            #expect(rows.contains { $0.contains("\(again)_2") && $0.hasSuffix("  2") }, "\(list.standardOutput)")
            try await slurm.cleanUp()
        }
    }
}
