import FakeKubernetes
import Foundation
import GRDB
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// The pieces of the history commands that need no process or cluster.
@Suite struct HistoryJobsUnitTests {
    @Test func aVersionOneHistoryIsUpgradedKeepingItsLaunches() throws {
        let history = try HistoryFixture()
        try FileManager.default.createDirectory(at: history.home, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: history.file.path)
        try HistorySchema.migrator.migrate(queue, upTo: "v1")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO manifest (codeHash, files) VALUES ('c1', '{\"a.py\": \"11\"}')")
            try db.execute(
                sql: """
                    INSERT INTO launch (id, experimentName, project, created, user, contextName, context, backend,
                        contentHash, codeHash, script, args, parameters, tags, state, updated)
                    VALUES ('old00001', 'train-aaaaa', 'p', '2026-01-01 10:00:00.000', 'ada', 'local',
                        '{"name": "local", "type": "local"}', 'local', 'h1', 'c1', 'a.py', '[]', '{}', '[]',
                        'completed', '2026-01-01 10:00:01.000')
                    """)
        }
        try queue.close()
        let store = try history.store()
        let launches = try store.list()
        #expect(launches.map(\.id) == ["old00001"])
        #expect(launches[0].inputs == nil && launches[0].sweepIndex == nil && launches[0].files == ["a.py": "11"])
        #expect(try store.read { db in try db.tableExists("sweep") })
        #expect(try store.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") } == HistorySchema.version)
    }

    @Test func refreshLeavesLaunchesThatEndedMeanwhileAlone() throws {
        let history = try HistoryFixture()
        let store = try history.store()
        let ended = HistoryFixture.launch(name: "a-aaaaa", jobId: "1", state: .completed)
        let open = HistoryFixture.launch(name: "b-bbbbb", jobId: "2", state: .running)
        try store.record([ended, open])
        let changed = try store.refresh([ended.id: (.unknown, nil), open.id: (.failed, 3)])
        #expect(changed == 1)
        #expect(try store.launch(id: ended.id)?.state == .completed)
        let after = try store.launch(id: open.id)
        #expect(after?.state == .failed && after?.exitCode == 3)
    }

    @Test func slurmArrayRangesAndStates() {
        #expect(SweepRendering.ranges([0, 1, 2, 3]) == "0-3")
        #expect(SweepRendering.ranges([2, 5, 6, 7, 9]) == "2,5-7,9")
        #expect(SlurmJobs.range("12_[1-3%1]", contains: "12_2"))
        #expect(SlurmJobs.range("12_[1,3%1]", contains: "12_3"))
        #expect(!SlurmJobs.range("12_[1,3%1]", contains: "12_2"))
        #expect(!SlurmJobs.range("13_[1-3]", contains: "12_2"))
        let held = SlurmJobs.held(
            "JobId=508 ArrayJobId=508 ArrayTaskId=2-3%1 ArrayTaskThrottle=1 JobName=x JobState=PENDING ExitCode=0:0")
        #expect(held?.id == "508_[2-3%1]" && held?.state == .submitted)
        let task = SlurmJobs.held("JobId=509 ArrayJobId=508 ArrayTaskId=0 JobName=x JobState=FAILED ExitCode=2:0")
        #expect(task?.id == "508_0" && task?.exitCode == 2)
        #expect(held?.shownState == "PENDING" && task?.state == .failed)
        var cancelled = SlurmJob(id: "7", name: "x", slurmState: "CANCELLED")
        cancelled.exitCode = 0
        cancelled.signal = 15
        #expect(SlurmJobControl.status(cancelled).exitCode == 143)
        #expect(SlurmJobControl.status(cancelled).waitStatus == 143)
    }

    @Test func localOutcomes() {
        #expect(LocalBackend<StandardStreamsSink>.outcome(.exited(0)) == (.completed, 0))
        #expect(LocalBackend<StandardStreamsSink>.outcome(.exited(3)) == (.failed, 3))
        #expect(LocalBackend<StandardStreamsSink>.outcome(.exited(130)) == (.cancelled, 130))
        #expect(LocalBackend<StandardStreamsSink>.outcome(.signalled(SIGTERM)) == (.cancelled, 143))
        #expect(LocalBackend<StandardStreamsSink>.outcome(.signalled(SIGSEGV)) == (.failed, 139))
    }

    @Test func missingEnvironmentValuesAreNamed() throws {
        var request = RunRequest(script: "train.py", arguments: ["--epochs", "3"])
        request.environment = ["TOKEN=secret-value", "MODE=fast"]
        let host = HostEnvironment(
            variables: [:], homeDirectory: URL(fileURLWithPath: "/nonexistent/home"),
            currentDirectory: URL(fileURLWithPath: "/nonexistent/project"))
        let inputs = LaunchInputs(request: request, host: host)
        #expect(inputs.environmentNames == ["TOKEN", "MODE"])
        let encoded = String(decoding: try JSONEncoder().encode(inputs), as: UTF8.self)
        #expect(!encoded.contains("secret-value"))
        #expect(throws: RelaunchError.environmentNeeded(names: ["MODE"])) {
            try inputs.request(environment: ["TOKEN=other"])
        }
        let again = try inputs.request(environment: ["TOKEN=t", "MODE=m"])
        #expect(again.arguments == ["--epochs", "3"] && again.script == "train.py")
    }
}
