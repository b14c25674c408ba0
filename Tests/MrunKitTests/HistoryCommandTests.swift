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

/// `diff`, `rerun`, `wait`, `cancel` and launch lookups through the real `mrun` binary, on local
/// launches.
@Suite(.serialized) struct HistoryCommandTests {
    typealias Support = HistoryCLITests

    /// Waits until the history holds a running launch named like `pattern`; returns it.
    static func running(_ pattern: String, in sandbox: Sandbox) async throws -> LaunchRecord {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(30))
        while clock.now < deadline {
            let store = try Support.history(sandbox)
            if let launch = try store.list().first(where: {
                $0.state == .running && $0.experimentName.hasPrefix(pattern)
            }
            ) {
                return launch
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no running launch named \(pattern)*")
        throw CancellationError()
    }

    @Test func diffShowsExactlyTheChangedFileAndParameter() async throws {
        let sandbox = try Support.project()
        let first = try await CLI.run(["run", "exp.py", "--grid", "lr=0.1", "--", "--epochs", "3"], sandbox: sandbox)
        #expect(first.status == 0, "\(first.standardError)")
        try sandbox.write("def helper():\n    return 'v2'\n", to: "lib.py")
        let second = try await CLI.run(["run", "exp.py", "--grid", "lr=0.2", "--", "--epochs", "3"], sandbox: sandbox)
        #expect(second.status == 0, "\(second.standardError)")
        let a = try #require(try Support.history(sandbox).launches(sweep: Support.sweepID(first.standardOutput)).first)
        let b = try #require(try Support.history(sandbox).launches(sweep: Support.sweepID(second.standardOutput)).first)
        let diff = try await CLI.run(["diff", a.id, b.experimentName], sandbox: sandbox)
        #expect(diff.status == 0, "\(diff.standardError)")
        #expect(diff.standardOutput == "launch \(a.id) → \(b.id)\nparameters:\n  lr: 0.1 → 0.2\nfiles:\n  ~ lib.py\n")
        let same = try await CLI.run(["diff", a.id, a.id], sandbox: sandbox)
        #expect(same.standardOutput.hasSuffix("same context, command, parameters, code, git commit and image\n"))
    }

    @Test func rerunReproducesArgumentsAndParameters() async throws {
        let sandbox = try Support.project()
        let sweep = try await CLI.run(
            ["run", "exp.py", "--zip", "seed=7", "--grid", "lr=0.1,1e-3", "--tag", "t1", "--", "--epochs", "3"],
            sandbox: sandbox)
        #expect(sweep.status == 0, "\(sweep.standardError)")
        let points = try Support.history(sandbox).launches(sweep: Support.sweepID(sweep.standardOutput))
        let original = try #require(points.last)
        let originalReport = try #require(Support.reports(sweep.standardOutput).last)

        try sandbox.write("def helper():\n    return 'v2'\n", to: "lib.py")
        let rerun = try await CLI.run(["rerun", String(original.id.prefix(6))], sandbox: sandbox)
        #expect(rerun.status == 0, "\(rerun.standardError)")
        #expect(rerun.standardError.contains("launching \(original.id) (\(original.experimentName)) again"))
        #expect(
            rerun.standardError.contains(
                "mrun: warning: the code changed since launch \(original.id) (its content hash differs): ~ lib.py"))
        let report = try #require(Support.reports(rerun.standardOutput).first)
        #expect(report["argv"] as? [String] == ["--epochs", "3", "--seed", "7", "--lr", "1e-3"])
        #expect(report["argv"] as? [String] == originalReport["argv"] as? [String])
        #expect(report["params"] as? NSDictionary == originalReport["params"] as? NSDictionary)
        #expect(report["helper"] as? String == "v2", "the code as it is now")

        let again = try #require(try Support.history(sandbox).list().first)
        #expect(again.id != original.id && again.inputs?.rerunOf == original.id)
        #expect(again.args == original.args && again.parameters == original.parameters)
        #expect(again.parameters["seed"] == "7" && again.parameters.count == 2)
        #expect(again.tags == original.tags && again.contextName == original.contextName)
        #expect(again.script == original.script && again.codeHash != original.codeHash)

        // --env values are not recorded: a rerun asks for them.
        let withEnv = try await CLI.run(["run", "exp.py", "--name", "envy", "--env", "X_EXIT=0"], sandbox: sandbox)
        #expect(withEnv.status == 0)
        let missing = try await CLI.run(["rerun", "envy-*"], sandbox: sandbox)
        #expect(missing.status == 1)
        #expect(
            missing.standardError
                == "error: the launch had --env X_EXIT, whose values the history does not keep; give them again:"
                + " --env X_EXIT=VALUE\n")
        let given = try await CLI.run(["rerun", "envy-*", "--env", "X_EXIT=6"], sandbox: sandbox)
        #expect(given.status == 6, "the experiment's status: \(given.standardError)")
    }

    @Test func waitReturnsTheJobsStatus() async throws {
        let sandbox = try Support.project()
        let done = try await CLI.run(["run", "exp.py", "--name", "done"], sandbox: sandbox)
        #expect(done.status == 0)
        async let background = CLI.run(
            ["run", "exp.py", "--name", "slow"], sandbox: sandbox, environment: ["X_SLEEP": "1.5", "X_EXIT": "5"])
        let slow = try await Self.running("slow-", in: sandbox)
        let wait = try await CLI.run(["wait", "done-*", slow.id], sandbox: sandbox)
        #expect(wait.status == 5, "the failed job's status: \(wait.standardError)")
        let lines = wait.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("\(slow.id) (\(slow.experimentName)): FAILED, exit code 5"), "\(wait.standardOutput)")
        #expect(lines.contains { $0.hasSuffix(": COMPLETED, exit code 0") })
        #expect(try await background.status == 5)
        let completed = try await CLI.run(["wait", "done-*"], sandbox: sandbox)
        #expect(completed.status == 0)
    }

    @Test func cancelStopsALocalLaunch() async throws {
        let sandbox = try Support.project()
        async let background = CLI.run(
            ["run", "exp.py", "--name", "long"], sandbox: sandbox, environment: ["X_SLEEP": "60"])
        let long = try await Self.running("long-", in: sandbox)
        let status = try await CLI.run(["status", long.experimentName], sandbox: sandbox)
        #expect(status.standardOutput.contains("State      RUNNING\n"), "\(status.standardOutput)")
        let start = ContinuousClock.now
        let cancel = try await CLI.run(["cancel", long.id], sandbox: sandbox)
        #expect(cancel.status == 0, "\(cancel.standardError)")
        #expect(
            cancel.standardOutput
                == "Cancelled job \(long.jobId ?? "") (\(long.experimentName), launch \(long.id)): CANCELLED, signal 15\n"
        )
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(try await background.status == 143, "mrun run ends with the experiment's status")
        let after = try #require(try Support.history(sandbox).launch(id: long.id))
        #expect(after.state == .cancelled && after.exitCode == 143)
        let list = try await CLI.run(["list", "--state", "cancelled"], sandbox: sandbox)
        #expect(list.standardOutput.contains("\(long.id)  \(long.experimentName)  local    cancelled (143)"))
        let again = try await CLI.run(["cancel", long.id], sandbox: sandbox)
        #expect(again.standardOutput.contains("had already ended: CANCELLED"))
    }

    @Test func launchesAreFoundByPrefixNameAndPattern() async throws {
        let sandbox = try Support.project()
        for name in ["alpha", "beta", "beta"] {
            let run = try await CLI.run(["run", "exp.py", "--name", name, "--", name], sandbox: sandbox)
            #expect(run.status == 0, "\(run.standardError)")
        }
        let launches = try Support.history(sandbox).list()
        let alpha = try #require(launches.first { $0.experimentName.hasPrefix("alpha-") })
        let prefix = try await CLI.run(["status", String(alpha.id.prefix(4))], sandbox: sandbox)
        #expect(prefix.standardOutput.hasPrefix("Launch     \(alpha.id) (\(alpha.experimentName))\n"))
        #expect(prefix.standardOutput.contains("State      COMPLETED, exit code 0\n"), "\(prefix.standardOutput)")
        let pattern = try await CLI.run(["logs", "alpha-*"], sandbox: sandbox)
        #expect(Support.reports(pattern.standardOutput).first?["argv"] as? [String] == ["alpha"])
        let byName = try await CLI.run(["show", alpha.experimentName, "--output", "json"], sandbox: sandbox)
        #expect(byName.standardOutput.contains("\"id\" : \"\(alpha.id)\""))
        let byPid = try await CLI.run(["show", alpha.jobId ?? ""], sandbox: sandbox)
        #expect(byPid.standardOutput.hasPrefix("Launch        \(alpha.id)\n"), "\(byPid.standardError)")

        let ambiguous = try await CLI.run(["status", "beta-*"], sandbox: sandbox)
        #expect(ambiguous.status == 1)
        #expect(ambiguous.standardError.hasPrefix("error: 'beta-*' matches several launches: "))
        #expect(ambiguous.standardError.hasSuffix("; name one of them by its id\n"))
        let unknown = try await CLI.run(["logs", "gamma-*"], sandbox: sandbox)
        #expect(
            unknown.standardError
                == "error: no launch matches 'gamma-*'; use an id, an id prefix, an experiment or job name,"
                + " or a name pattern such as 'train-*'\n")
        let listed = try await CLI.run(["list", "--output", "json"], sandbox: sandbox)
        let objects = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]])
        #expect(objects.compactMap { $0["id"] as? String } == launches.map(\.id))
    }
}
