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

/// Many writers at once, as when a sweep launches in parallel: every record must land.
@Suite struct HistoryConcurrencyTests {
    /// Runs `body` on its own thread, so a blocking SQLite wait holds that thread only and never
    /// starves Swift's small cooperative pool (two threads on a two-core machine).
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    @Test func twentyStoresWritingAtOnceLoseNothing() async throws {
        let history = try HistoryFixture()
        let writers = 20
        let perWriter = 50
        // Each writer opens its own store (own pool, own connections) on a file that does not
        // exist yet, so creating and migrating it races too.
        let written = try await withThrowingTaskGroup(of: [String].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    try await Self.onThread {
                        let store = try history.store()
                        var ids: [String] = []
                        for index in 0..<perWriter {
                            let launch = HistoryFixture.launch(
                                name: "w\(writer)-\(index)", files: ["train.py": "\(index % 5)"],
                                sweepId: "writer-\(writer)")
                            try store.record(launch)
                            ids.append(launch.id)
                        }
                        return ids
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let stored = try history.store().list()
        #expect(written.count == writers * perWriter)
        #expect(Set(stored.map(\.id)) == Set(written))
        #expect(try history.store().list(sweep: "writer-7").count == perWriter)
        // Five distinct code snapshots: five manifests, shared by a thousand launches.
        #expect(try history.store().read { db in try CodeManifest.fetchCount(db) } == 5)
    }

    /// Python's own SQLite writes into the same WAL database while mrun's stores write: proof that
    /// separate processes, not just separate connections, can share the history.
    @Test func pythonProcessesAndStoresWriteTogether() async throws {
        let history = try HistoryFixture()
        _ = try history.store()
        let processes = 4
        let swiftWriters = 4
        let perWriter = 100
        let sync = URL(fileURLWithPath: history.scratch.path)
        // Only the keys every version of mrun wrote: the rest read back as their defaults.
        let contextJSON = #"{"name": "local", "type": "local"}"#
        let runner = SystemProcessRunner()

        let (pythonIDs, swiftIDs) = try await withThrowingTaskGroup(of: (python: [String], swift: [String]).self) {
            group in
            for process in 0..<processes {
                group.addTask {
                    let result = try await runner.run(
                        [
                            "python3", "-c", Self.pythonWriter, history.file.path, sync.path, "\(process)",
                            "\(perWriter)", contextJSON,
                        ], environment: nil, workingDirectory: nil)
                    #expect(result.status == .exited(0), "python writer failed: \(result.standardError)")
                    return (result.standardOutput.split(separator: "\n").map(String.init), [])
                }
            }
            for writer in 0..<swiftWriters {
                group.addTask {
                    try await Self.onThread {
                        let store = try history.store()
                        try Self.waitForPython(count: processes, in: sync)
                        var ids: [String] = []
                        for index in 0..<perWriter {
                            let launch = HistoryFixture.launch(name: "swift-\(writer)-\(index)")
                            try store.record(launch)
                            ids.append(launch.id)
                        }
                        return ([], ids)
                    }
                }
            }
            var python: [String] = []
            var swift: [String] = []
            for try await ids in group {
                python += ids.python
                swift += ids.swift
            }
            return (python, swift)
        }
        #expect(pythonIDs.count == processes * perWriter && swiftIDs.count == swiftWriters * perWriter)
        let stored = try history.store().list()
        #expect(Set(stored.map(\.id)) == Set(pythonIDs + swiftIDs))
        #expect(stored.count == pythonIDs.count + swiftIDs.count)
        // In insertion order the two sides alternate: they really wrote at the same time.
        let order = try history.store().read { db in
            try String.fetchAll(db, sql: "SELECT id FROM launch ORDER BY rowid")
        }
        let switches = zip(order, order.dropFirst()).filter { $0.hasPrefix("py") != $1.hasPrefix("py") }.count
        #expect(switches >= 2, "python and mrun wrote one after the other, not together")
        let fromPython = try history.store().find(pythonIDs[0])
        #expect(fromPython.context == .builtInLocal && fromPython.files == ["py.py": "00"])
    }

    /// Blocks until every Python writer has started, then releases them all at once, so both sides
    /// really write at the same time instead of one finishing before the other starts.
    static func waitForPython(count: Int, in directory: URL) throws {
        let deadline = Date().addingTimeInterval(60)
        while (0..<count).contains(where: {
            !FileManager.default.fileExists(atPath: directory.appendingPathComponent("ready-\($0)").path)
        }) {
            guard Date() < deadline else { throw CocoaError(.fileNoSuchFile) }
            Thread.sleep(forTimeInterval: 0.01)
        }
        try Data().write(to: directory.appendingPathComponent("go"))
    }

    /// Inserts launches with Python's standard `sqlite3`, one immediate transaction each, and
    /// prints their ids. Arguments: database, sync directory, writer number, count, context JSON.
    static let pythonWriter = #"""
        import os, sqlite3, sys, time
        path, sync, writer, count, context = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        open(os.path.join(sync, "ready-" + writer), "w").close()
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(sync, "go")):
            if time.time() > deadline:
                sys.exit("never told to go")
            time.sleep(0.005)
        for index in range(count):
            launch = "py%s%05d" % (writer, index)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT OR IGNORE INTO manifest (codeHash, files) VALUES ('py', '{\"py.py\":\"00\"}')")
            db.execute(
                "INSERT INTO launch (id, experimentName, project, created, user, contextName, context, backend,"
                " contentHash, codeHash, script, args, parameters, tags, state, updated)"
                " VALUES (?, ?, 'demo', '2027-01-15 08:00:00.000', 'py', 'local', ?, 'local', 'py', 'py', 'py.py',"
                " '[]', '{}', '[]', 'submitted', '2027-01-15 08:00:00.000')",
                (launch, "python-" + launch, context))
            db.execute("COMMIT")
            print(launch, flush=True)
        """#
}
