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

/// A local sweep through the binary, one point after another, is recorded point by point: each
/// point's launch is written as it starts and ended as it ends, before the next one starts.
@Suite(.serialized) struct LocalSweepHistoryTests {
    /// Prints its name and what the history holds of its sweep while it runs, and its arguments.
    static let experiment = """
        import json, os, sqlite3, sys
        name = os.environ["MRUN_EXPERIMENT"]
        db = sqlite3.connect(os.path.join(os.environ["MRUN_HOME"], "history.sqlite"), timeout=30)
        rows = db.execute("SELECT sweepIndex, state FROM launch WHERE sweepId = ? ORDER BY sweepIndex",
            (name.split("-")[1],)).fetchall()
        db.close()
        print(json.dumps({"name": name, "seen": rows, "argv": sys.argv[1:]}), flush=True)
        """

    @Test func twelveSequentialPointsAreRecordedOneByOne() async throws {
        let sandbox = try HistoryCLITests.project()
        try sandbox.write(Self.experiment, to: "exp.py")
        let run = try await CLI.run(
            ["run", "exp.py", "--grid", "a=1,2,3", "--grid", "b=x,y,z,w", "--", "--epochs", "1"], sandbox: sandbox)
        #expect(run.status == 0, "\(run.standardError)")
        let id = try HistoryCLITests.sweepID(run.standardOutput)
        let reports = HistoryCLITests.reports(run.standardOutput)
        #expect(reports.compactMap { $0["name"] as? String } == (0..<12).map { "exp-\(id)-\($0)" }, "in order")
        // While point N runs, the history holds points 0…N: the earlier ones ended, N not yet.
        for (index, report) in reports.enumerated() {
            let seen = (report["seen"] as? [[Any]]) ?? []
            #expect(seen.compactMap { $0.first as? Int } == Array(0...index), "point \(index) saw \(seen)")
            let states = seen.compactMap { $0.last as? String }
            #expect(states.dropLast().allSatisfy { $0 == "completed" }, "point \(index) saw \(states)")
            // Recorded before it started; its process id (and `running`) may come a moment later.
            #expect(["submitted", "running"].contains(states.last ?? ""), "point \(index) saw \(states)")
        }

        let history = try HistoryCLITests.history(sandbox)
        let points = try history.launches(sweep: id).sorted { ($0.sweepIndex ?? -1) < ($1.sweepIndex ?? -1) }
        #expect(points.map(\.sweepIndex) == Array(0..<12))
        #expect(points.map(\.experimentName) == (0..<12).map { "exp-\(id)-\($0)" })
        #expect(points.allSatisfy { $0.state == .completed && $0.exitCode == 0 && $0.backend == .local })
        #expect(Set(points.compactMap(\.jobId)).count == 12, "each point its own process")
        #expect(Set(points.compactMap(\.runDirectory)).count == 12, "each point its own run directory")
        #expect(points[7].parameters == ["a": "2", "b": "w"])
        #expect(points[7].args == ["--epochs", "1", "--a", "2", "--b", "w"])
        #expect(points.allSatisfy { $0.inputs?.point != nil && $0.sweepId == id })
        let record = try #require(try history.sweep(id))
        #expect(record.points.count == 12 && record.parallel == 1)

        // Every point is a launch of its own for the commands.
        let list = try await CLI.run(["list", "--sweep", id], sandbox: sandbox)
        #expect(list.status == 0, "\(list.standardError)")
        #expect(list.standardOutput.split(separator: "\n").filter { $0.contains("exp-\(id)-") }.count == 12)
        let status = try await CLI.run(["status", "exp-\(id)-11"], sandbox: sandbox)
        #expect(status.status == 0, "\(status.standardError)")
    }
}
