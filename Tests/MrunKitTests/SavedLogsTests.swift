import FakeKubernetes
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

/// The saved copies of ended launches' output: plain or gzipped, capped keeping head and tail,
/// private, and what `mrun logs` shows once the cluster has deleted the job.
@Suite struct SavedLogsTests {
    func store(_ sandbox: Sandbox, limit: Int = SavedLogs.defaultLimit, compressAbove: Int = 64) -> SavedLogs {
        SavedLogs(home: sandbox.mrunHome, runner: SystemProcessRunner(), limit: limit, compressAbove: compressAbove)
    }

    @Test func aShortLogIsKeptAsItIsAndALongOneGzipped() async throws {
        let sandbox = try Sandbox()
        let logs = store(sandbox)
        let short = try await logs.save(Array("one line\n".utf8), of: "0123abcd")
        #expect(short.lastPathComponent == "0123abcd.log")
        let mode = try FileManager.default.attributesOfItem(atPath: short.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try await logs.read("0123abcd") == Array("one line\n".utf8))

        var long: [UInt8] = Array((0..<2000).map { "line \($0) \u{00e9}\n" }.joined().utf8)
        long += [0xff, 0x00, 0x0a]
        let gz = try await logs.save(long, of: "0123abcd")
        #expect(gz.lastPathComponent == "0123abcd.log.gz")
        #expect(!FileManager.default.fileExists(atPath: short.path), "the plain copy is replaced")
        let onDisk = try Data(contentsOf: gz)
        #expect(onDisk.prefix(2) == Data([0x1f, 0x8b]) && onDisk.count < long.count / 4, "\(onDisk.count) bytes")
        #expect(try await logs.read("0123abcd") == long, "byte for byte, invalid UTF-8 included")
        let left = try FileManager.default.contentsOfDirectory(atPath: logs.directory.path)
        #expect(left == ["0123abcd.log.gz"], "no temporary file is left: \(left)")
    }

    @Test func aLogOverTheCapKeepsItsHeadAndTail() async throws {
        let sandbox = try Sandbox()
        let logs = store(sandbox, limit: 100, compressAbove: 1 << 20)
        let text = Array((0..<100).map { String(format: "%03d\n", $0) }.joined().utf8)
        try await logs.save(text, of: "0123abce")
        let kept = String(decoding: try #require(try await logs.read("0123abce")), as: UTF8.self)
        #expect(kept.hasPrefix("000\n001\n"))
        #expect(kept.hasSuffix("098\n099\n"))
        #expect(kept.contains("[mrun: 300 bytes of this log are left out here"), "\(kept)")
        #expect(!kept.contains("050\n"))
    }

    @Test func onlyLaunchIDsNameFiles() async throws {
        let sandbox = try Sandbox()
        let error = await thrownError(SavedLogsError.self) {
            try await store(sandbox).save([1], of: "../../etc/x")
        }
        #expect(error == .badID("../../etc/x"))
    }

    @Test func theTailIsTheLastLines() {
        #expect(JobService.tail(Array("a\nb\nc\n".utf8), lines: 2) == Array("b\nc\n".utf8))
        #expect(JobService.tail(Array("a\nb\nc".utf8), lines: 2) == Array("b\nc".utf8))
        #expect(JobService.tail(Array("a\n".utf8), lines: 5) == Array("a\n".utf8))
    }

    /// A Kubernetes Job's output, saved when `list` saw it end and when `cancel` deleted its pods,
    /// is what `mrun logs` prints after the Job is gone, saying so.
    @Test func kubernetesLogsOutliveTheirJobs() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let recorder = try project.recorder()
            let cluster = server.controller
            let finished = try project.plan(name: "finished")
            let cancelled = try project.plan(name: "cancelled")
            #expect(await project.run(finished, recorder: recorder).status == 0)
            #expect(await project.run(cancelled, recorder: recorder).status == 0)
            let done = try await cluster.run(
                job: finished.experiment.name, namespace: "proj", lines: ["epoch 1", "done"], exitCode: 0)
            #expect(done.status?.phase == .succeeded)
            let pod = try await cluster.createPod(forJob: cancelled.experiment.name, namespace: "proj")
            let podName = try #require(pod.metadata.name)
            try await cluster.start(pod: podName, namespace: "proj")
            try await cluster.log(pod: podName, namespace: "proj", "halfway\n")
            let launches = try recorder.store.list()
            let byName = Dictionary(uniqueKeysWithValues: launches.map { ($0.experimentName, $0) })
            let first = try #require(byName[finished.experiment.name])
            let second = try #require(byName[cancelled.experiment.name])

            let list = try await CLI.run(["list"], sandbox: project.sandbox, environment: project.variables)
            #expect(list.status == 0, "\(list.standardError)")
            let logs = SavedLogs(home: project.sandbox.mrunHome, runner: SystemProcessRunner())
            #expect(logs.file(of: first.id) != nil, "saved when list saw it end")
            #expect(logs.file(of: second.id) == nil, "still running")
            let cancel = try await CLI.run(
                ["cancel", second.id], sandbox: project.sandbox, environment: project.variables)
            #expect(cancel.status == 0, "\(cancel.standardError)")

            _ = try await cluster.delete(
                Kubernetes.Job.self, namespace: "proj", name: finished.experiment.name, policy: .background)
            let gone = await cluster.all(Kubernetes.Job.self, namespace: "proj")
            #expect(gone.isEmpty, "both Jobs are gone")
            for (launch, expected) in [(first, "epoch 1\ndone\n"), (second, "halfway\n")] {
                let shown = try await CLI.run(
                    ["logs", launch.id], sandbox: project.sandbox, environment: project.variables)
                #expect(shown.status == 0, "\(shown.standardError)")
                #expect(shown.standardOutput == expected, "\(shown.standardOutput)")
                #expect(shown.standardError.contains("its output as mrun saved it"), "\(shown.standardError)")
            }
        }
    }
}

/// `mrun logs --sweep S --failed`: the failed points' last lines, one after another.
@Suite struct SweepTailTests {
    @Test func theFailedPointsTailsOneAfterAnother() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            "import sys\nseed = int(sys.argv[sys.argv.index('--seed') + 1])\n"
                + "for i in range(30):\n    print('seed', seed, 'line', i)\nsys.exit(seed % 2)\n", to: "exp.py")
        let run = try await CLI.run(
            ["--context", "local", "run", "exp.py", "--grid", "seed=1,2,3,4"], sandbox: sandbox)
        #expect(run.status == 1, "the first failure's status")
        let sweepLine = try #require(run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Sweep ") })
        let sweep = String(sweepLine.dropFirst("Sweep ".count).prefix { $0 != ":" })
        let tails = try await CLI.run(["logs", "--sweep", sweep, "--failed", "--tail", "2"], sandbox: sandbox)
        #expect(tails.status == 0, "\(tails.standardError)")
        let lines = tails.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 7, "\(tails.standardOutput)")
        #expect(
            lines[0].hasPrefix("==> exp-\(sweep)-0 (launch ")
                && lines[0].hasSuffix(", point 0): FAILED, exit code 1 <=="))
        #expect(lines[1...2] == ["seed 1 line 28", "seed 1 line 29"])
        #expect(lines[3].contains("point 2): FAILED, exit code 1 <=="))
        #expect(lines[4...5] == ["seed 3 line 28", "seed 3 line 29"])
        let bad = try await CLI.run(["logs", "--failed", "abc"], sandbox: sandbox)
        #expect(bad.status != 0 && bad.standardError.contains("--failed goes with --sweep S"), "\(bad.standardError)")
    }
}

/// `mrun rerun --failed SWEEP`: exactly the points whose latest launch failed, as new launches of
/// the same sweep; `list --sweep` shows each point's latest attempt and the count.
@Suite struct RerunFailedTests {
    @Test func aSixPointSweepWithTwoFailuresRelaunchesExactlyTwo() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            "import os, sys\nseed = int(sys.argv[sys.argv.index('--seed') + 1])\n"
                + "fix = os.path.exists('fixed')\nprint('seed', seed, 'fixed' if fix else '')\n"
                + "sys.exit(0 if fix or seed % 3 else 4)\n", to: "exp.py")
        let run = try await CLI.run(
            ["--context", "local", "run", "exp.py", "--grid", "seed=1,2,3,4,5,6"], sandbox: sandbox)
        #expect(run.status == 4)
        let sweepLine = try #require(run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Sweep ") })
        let sweep = String(sweepLine.dropFirst("Sweep ".count).prefix { $0 != ":" })
        try sandbox.write("", to: "fixed")
        let rerun = try await CLI.run(["rerun", "--failed", sweep], sandbox: sandbox)
        #expect(rerun.status == 0, "\(rerun.standardError)")
        #expect(
            rerun.standardError.contains("launched again 2 points of sweep \(sweep) (failed): 2, 5"),
            "\(rerun.standardError)")
        let history = try HistoryStore(home: sandbox.mrunHome)
        let launches = try history.launches(sweep: sweep)
        #expect(launches.count == 8)
        let byPoint = Dictionary(grouping: launches) { $0.sweepIndex ?? -1 }
        #expect(byPoint.filter { $0.value.count == 2 }.keys.sorted() == [2, 5])
        for index in [2, 5] {
            let attempts = (byPoint[index] ?? []).sorted { $0.created < $1.created }
            #expect(attempts.map(\.state) == [.failed, .completed], "point \(index)")
        }
        let list = try await CLI.run(["list", "--sweep", sweep], sandbox: sandbox)
        let rows = list.standardOutput.split(separator: "\n")
        #expect(rows.count == 7, "header and one row per point: \(list.standardOutput)")
        #expect(rows[0].hasSuffix("ATTEMPTS"))
        #expect(rows.filter { $0.hasSuffix("  2") }.count == 2 && rows.filter { $0.hasSuffix("  1") }.count == 4)
        #expect(rows.dropFirst().allSatisfy { $0.contains("completed") }, "\(list.standardOutput)")
        let again = try await CLI.run(["rerun", "--failed", sweep], sandbox: sandbox)
        #expect(again.standardOutput.contains("nothing to launch again"), "\(again.standardOutput)")
        let bad = try await CLI.run(["rerun", "--state", "failed,sleepy", sweep], sandbox: sandbox)
        #expect(
            bad.status != 0 && bad.standardError.contains("--state: 'sleepy' is not a state"), "\(bad.standardError)")
    }

    /// Points the cluster ended (preempted, their node failed) are not the experiment's failures
    /// in the history, but `rerun --failed` takes them; `--state` names them, and LOST.
    @Test func preemptedAndNodeFailedPointsAreRerunByFailed() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            "import os, sys\nsys.exit(0 if os.path.exists('fixed') else 4)\n", to: "exp.py")
        let run = try await CLI.run(
            ["--context", "local", "run", "exp.py", "--grid", "seed=1,2,3,4"], sandbox: sandbox)
        #expect(run.status == 4)
        let sweepLine = try #require(run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Sweep ") })
        let sweep = String(sweepLine.dropFirst("Sweep ".count).prefix { $0 != ":" })
        let history = try HistoryStore(home: sandbox.mrunHome)
        // What a Slurm refresh records for PREEMPTED, NODE_FAIL and a lost ssh point.
        try await history.pool.write { db in
            for (index, state) in [(0, JobState.preempted), (1, .nodeFail), (3, .unknown)] {
                try db.execute(
                    sql: "UPDATE \(LaunchRecord.databaseTableName) SET state = ? WHERE sweepIndex = ?",
                    arguments: [state.rawValue, index])
            }
        }
        #expect(JobState.preempted.isFinal && JobState.nodeFail.isFailure && !JobState.cancelled.isFailure)
        let list = try await CLI.run(["list", "--sweep", sweep], sandbox: sandbox)
        #expect(list.standardOutput.contains(" preempted ") && list.standardOutput.contains(" node_fail "))
        try sandbox.write("", to: "fixed")
        let preempted = try await CLI.run(["rerun", "--state", "PREEMPTED,lost", sweep], sandbox: sandbox)
        #expect(preempted.status == 0, "\(preempted.standardError)")
        #expect(
            preempted.standardError.contains("launched again 2 points of sweep \(sweep)")
                && preempted.standardError.contains(": 0, 3"), "\(preempted.standardError)")
        let failed = try await CLI.run(["rerun", "--failed", sweep], sandbox: sandbox)
        #expect(failed.status == 0, "\(failed.standardError)")
        #expect(failed.standardError.contains(": 1, 2"), "node_fail and failed: \(failed.standardError)")
        let latest = Dictionary(grouping: try history.launches(sweep: sweep)) { $0.sweepIndex ?? -1 }
            .mapValues { $0.max { $0.created < $1.created }?.state }
        #expect(latest.values.allSatisfy { $0 == .completed }, "\(latest)")
    }
}
