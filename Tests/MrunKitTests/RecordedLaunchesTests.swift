import Foundation
import Synchronization
import Testing

@testable import MrunKit
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport

/// The one way backends record launches: a batch recorded before anything starts, then what
/// happened to each.
@Suite struct RecordedLaunchesTests {
    static func recorder(_ store: HistoryStore, fixture: PlanFixture) -> LaunchRecorder {
        LaunchRecorder(
            store: store, user: "ada", git: nil,
            inputs: LaunchInputs(request: PlanFixture.request, host: fixture.sandbox.host()),
            warn: TestEnvironment.warn)
    }

    @Test func aSweepsPointsAreRecordedThenStartedOrFailedEachByItsOffset() async throws {
        let history = try HistoryFixture()
        let store = try history.store()
        let fixture = try PlanFixture()
        let spec = SweepSpec(grid: [try SweepAxis.parse("seed=1,2,3", flag: "--grid")])
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: spec, context: PlanFixture.kubernetes)

        let recorded = await RecordedLaunches.record(
            sweep.plans, points: sweep.points, sweepId: sweep.id, by: Self.recorder(store, fixture: fixture)
        ) { $0.imageDigest = "sha256:beef" }
        #expect(recorded.records.count == 3)
        let before = try store.launches(sweep: sweep.id)
        #expect(before.map(\.state) == [.submitted, .submitted, .submitted])
        #expect(before.allSatisfy { $0.jobId == nil && $0.imageDigest == "sha256:beef" })
        #expect(before.map(\.sweepIndex) == [0, 1, 2])

        await recorded.started([0: "job-0", 2: "job-2", 7: "not a point"], state: .running)
        await recorded.failed(at: [1])
        let after = try store.launches(sweep: sweep.id)
        #expect(after.map(\.state) == [.running, .failed, .running])
        #expect(after.map(\.jobId) == ["job-0", nil, "job-2"])
    }

    /// A sweep's points recorded in parts of 4, 8, 16 and 32: a point's id is given only once its
    /// launch is in the history, and the parts join in the points' order.
    @Test func aSweepRecordedInPartsGivesEachIdOnceItsLaunchIsStored() async throws {
        let history = try HistoryFixture()
        let store = try history.store()
        let fixture = try PlanFixture()
        let spec = SweepSpec(grid: [
            try SweepAxis.parse("seed=" + (0..<60).map(String.init).joined(separator: ","), flag: "--grid")
        ])
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: spec, context: PlanFixture.kubernetes)
        let recorder = Self.recorder(store, fixture: fixture)
        let chunks = ChunkedLaunches.record(
            sweep.plans, points: sweep.points, sweepId: sweep.id, by: recorder, first: 4)
        let stored = try await withThrowingTaskGroup(of: (Int, String?, Bool).self) { group in
            for offset in stride(from: 59, through: 0, by: -1) {
                group.addTask {
                    let id = await chunks.id(at: offset)
                    let present = try id.map { try store.launch(id: $0) != nil } ?? false
                    return (offset, id, present)
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = ($1.1, $1.2) }
        }
        #expect(stored.count == 60 && stored.values.allSatisfy { $0.0 != nil && $0.1 })
        let all = await chunks.all()
        #expect(all.records.map(\.id) == (0..<60).map { stored[$0]?.0 })
        #expect(all.records.map(\.sweepIndex) == Array(0..<60))
        #expect(try store.launches(sweep: sweep.id).count == 60)

        let unrecorded = ChunkedLaunches.record(sweep.plans, by: nil, first: 4)
        #expect(await unrecorded.id(at: 10) == nil)
        #expect(await unrecorded.all().records.isEmpty)
    }

    @Test func withoutARecorderNothingIsRecordedAndNothingFails() async throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: .builtInLocal)
        let recorded = await RecordedLaunches.record([plan], by: nil)
        #expect(recorded.records.isEmpty && recorded.firstID == nil)
        await recorded.started(jobIds: ["42"], state: .running)
        await recorded.finished(state: .completed, exitCode: 0)
    }

    /// While another process holds SQLite's write lock, sixteen recorder writes wait for it (more
    /// than this machine's cores, the threads of Swift's cooperative pool). The holder lets go
    /// only once a task started after the writes has run (or after 30 s): that task can run only
    /// if the waiting writes left the pool's threads free.
    @Test func recorderWritesWaitWithoutHoldingTheCooperativePool() async throws {
        let history = try HistoryFixture()
        let store = try history.store()
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: .builtInLocal)
        let locked = history.home.appendingPathComponent("locked").path
        let release = history.home.appendingPathComponent("release").path
        let holder = Task {
            try await SystemProcessRunner().run(
                [
                    "python3", "-c",
                    """
                    import os, sqlite3, sys, time
                    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
                    connection.execute("BEGIN IMMEDIATE")
                    open(sys.argv[2], "w").close()
                    deadline = time.monotonic() + 30
                    while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline:
                        time.sleep(0.01)
                    connection.execute("COMMIT")
                    """,
                    history.file.path, locked, release,
                ], environment: nil, workingDirectory: nil)
        }
        while !FileManager.default.fileExists(atPath: locked) { try await Task.sleep(for: .milliseconds(10)) }

        let events = EventLog()
        let recorder = Self.recorder(store, fixture: fixture)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let record = recorder.launch(plan)
                    #expect(await recorder.record([record]))
                    events.append("write")
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            group.addTask {
                events.append("probe")
                FileManager.default.createFile(atPath: release, contents: nil)
            }
            try await group.waitForAll()
        }
        let result = try await holder.value
        #expect(result.status == .exited(0), "the lock holder failed: \(result.standardError)")
        #expect(events.first == "probe")
        #expect(try store.list().count == 16)
    }
}

/// What happened first, across tasks.
private final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    func append(_ event: String) { events.withLock { $0.append(event) } }
    var first: String? { events.withLock { $0.first } }
}
