import Foundation
import Subprocess
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// Local sweeps through the real `mrun` binary.
@Suite(.serialized) struct SweepRunTests {
    /// Prints its arguments, MRUN_PARAMS and name, and when it started and ended.
    static let experiment = """
        import json, os, sys, time
        start = time.time()
        time.sleep(float(os.environ.get("X_SLEEP", "0")))
        print(json.dumps({"argv": sys.argv[1:], "params": json.loads(os.environ["MRUN_PARAMS"]),
            "name": os.environ["MRUN_EXPERIMENT"], "start": start, "end": time.time()}), flush=True)
        sys.exit(3 if "--fail" in sys.argv and sys.argv[sys.argv.index("--fail") + 1] == "yes" else 0)
        """

    struct Report {
        var index: Int
        var argv: [String]
        var params: [String: Any]
        var name: String
        var interval: ClosedRange<Double>
    }

    /// The JSON lines the points printed, with the index of the point that printed them
    /// (`[3] {...}` when run in parallel, else their order).
    func reports(_ output: String, prefixed: Bool) throws -> [Report] {
        var reports: [Report] = []
        for line in output.split(separator: "\n") {
            var text = Substring(line)
            var index = reports.count
            if prefixed, text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                index = Int(text[text.index(after: text.startIndex)..<close]) ?? -1
                text = text[text.index(close, offsetBy: 2)...]
            }
            guard text.hasPrefix("{"),
                let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let start = object["start"] as? Double, let end = object["end"] as? Double
            else { continue }
            reports.append(
                Report(
                    index: index, argv: object["argv"] as? [String] ?? [],
                    params: object["params"] as? [String: Any] ?? [:],
                    name: object["name"] as? String ?? "", interval: start...end))
        }
        return reports.sorted { $0.index < $1.index }
    }

    /// The most points that ran at the same moment.
    func mostAtOnce(_ reports: [Report]) -> Int {
        reports.map { report in reports.filter { $0.interval.contains(report.interval.lowerBound) }.count }.max() ?? 0
    }

    func checkPoints(_ reports: [Report], sweepID: String) {
        let expected: [(lr: String, batch: String)] = [("0.1", "32"), ("0.1", "64"), ("0.01", "32"), ("0.01", "64")]
        #expect(reports.map(\.index) == [0, 1, 2, 3])
        for (report, point) in zip(reports, expected) {
            #expect(report.argv == ["--epochs", "3", "--lr", point.lr, "--batch", point.batch])
            #expect(report.params["lr"] as? Double == Double(point.lr))
            #expect(report.params["batch"] as? Int == Int(point.batch))
            #expect(report.params.count == 2)
            #expect(report.name == "exp-\(sweepID)-\(report.index)")
        }
    }

    func sweepID(_ output: String) throws -> String {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("Sweep ") })
        return String(line.dropFirst("Sweep ".count).prefix { $0 != ":" })
    }

    @Test func sequentialSweepRunsEveryPointWithItsParameters() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.experiment, to: "exp.py")
        let result = try await CLI.run(
            ["run", "exp.py", "--grid", "lr=0.1,0.01", "--grid", "batch=32,64", "--", "--epochs", "3"],
            sandbox: sandbox,
            environment: ["X_SLEEP": "0.3"])
        #expect(result.status == 0, "\(result.standardError)")
        let id = try sweepID(result.standardOutput)
        let reports = try reports(result.standardOutput, prefixed: false)
        checkPoints(reports, sweepID: id)
        #expect(mostAtOnce(reports) == 1, "one after another")
        #expect(result.standardError.hasSuffix("mrun: sweep \(id): all 4 points finished\n"))
        for index in 0..<4 {
            let log = sandbox.store.runsDirectory.appendingPathComponent("exp-\(id)-\(index)/output.log")
            #expect(try sandbox.read(log).contains("\"name\": \"exp-\(id)-\(index)\""))
        }
    }

    @Test func parallelSweepRunsTwoAtOnceAndPrefixesOutput() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.experiment, to: "exp.py")
        let result = try await CLI.run(
            [
                "run", "exp.py", "--grid", "lr=0.1,0.01", "--grid", "batch=32,64", "--parallel", "2", "--", "--epochs",
                "3",
            ],
            sandbox: sandbox, environment: ["X_SLEEP": "1.5"])
        #expect(result.status == 0, "\(result.standardError)")
        let id = try sweepID(result.standardOutput)
        let reports = try reports(result.standardOutput, prefixed: true)
        checkPoints(reports, sweepID: id)
        #expect(mostAtOnce(reports) == 2, "two at once, never more")
        let lines = result.standardOutput.split(separator: "\n").dropFirst()
        #expect(lines.allSatisfy { $0.hasPrefix("[") }, "every line of a point is prefixed: \(result.standardOutput)")
        for index in 0..<4 {
            #expect(result.standardError.contains("[\(index)] mrun: running exp-\(id)-\(index) in "))
        }
    }

    @Test func aFailedPointDoesNotStopTheOthersAndSetsTheStatus() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.experiment, to: "exp.py")
        let result = try await CLI.run(["run", "exp.py", "--zip", "fail=no,yes,no"], sandbox: sandbox)
        #expect(result.status == 3)
        let id = try sweepID(result.standardOutput)
        #expect(try reports(result.standardOutput, prefixed: false).count == 3)
        #expect(
            result.standardError.hasSuffix("mrun: sweep \(id): 2 of 3 points finished; failed: 1 (exit status 3)\n"))
    }

    @Test func specFileDryRunAsJSON() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.experiment, to: "exp.py")
        try sandbox.write(
            "script: exp.py\nargs: [--epochs, 3]\nname: spec sweep\ngrid:\n  lr: [0.1, 0.01]\nzip:\n  seed: [1, 2]\n",
            to: "sweep.yaml")
        let result = try await CLI.run(
            ["run", "--spec", "sweep.yaml", "--dry-run", "--output", "json"], sandbox: sandbox,
            environment: ["NEPTUNE_API_TOKEN": "tok-sweep-secret"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardOutput.contains("tok-sweep-secret"))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let points = try #require(object["points"] as? [[String: Any]])
        let id = try #require(object["id"] as? String)
        #expect(points.map { $0["name"] as? String } == (0..<4).map { "spec-sweep-\(id)-\($0)" })
        #expect(points[3]["args"] as? [String] == ["--seed", "2", "--lr", "0.01"])
        let experiment = (object["plan"] as? [String: Any])?["experiment"] as? [String: Any]
        #expect(experiment?["args"] as? [String] == ["--epochs", "3", "--seed", "1", "--lr", "0.1"])
        #expect(!FileManager.default.fileExists(atPath: sandbox.store.runsDirectory.path))
    }

    @Test(arguments: [
        (["--grid", "lr"], "error: --grid: 'lr' is not NAME=VALUE,VALUE,...; write e.g. --grid lr=0.1,0.01"),
        (
            ["--zip", "a=1,2", "--zip", "b=1"],
            "error: --zip: zipped lists must have the same length, but a has 2 values, b has 1 value; use --grid to cross lists instead"
        ),
        (["--limit", "2"], "error: --limit: applies to sweeps; add --grid, --zip or --spec"),
        (
            ["--grid", "lr=1", "--max-parallel", "2"],
            "error: --max-parallel: does not apply to local contexts; use --parallel K to run K points at once here"
        ),
        (
            ["--spec", "bad.yaml"],
            "error: bad.yaml:1:1: unknown key 'gird' (did you mean 'grid'?); known: script, args, name, tags, grid, zip, limit, shuffle, seed, max_parallel, parallel"
        ),
    ])
    func badSweepIsOneLineAndRunsNothing(arguments: [String], message: String) async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.experiment, to: "exp.py")
        try sandbox.write("gird: {lr: [1]}\n", to: "bad.yaml")
        let result = try await CLI.run(["run", "exp.py"] + arguments, sandbox: sandbox)
        #expect(result.status == 1)
        #expect(result.standardError == message + "\n")
        #expect(!FileManager.default.fileExists(atPath: sandbox.store.runsDirectory.path))
    }

    /// `kill -INT` of mrun stops the running points and starts no more.
    @Test(arguments: [1, 2])
    func interruptStopsTheSweep(parallel: Int) async throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            """
            import signal, sys, time
            def stop(*_):
                print("interrupted", flush=True)
                sys.exit(130)
            signal.signal(signal.SIGINT, stop)
            print("ready", flush=True)
            time.sleep(30)
            """, to: "long.py")
        let start = ContinuousClock.now
        let outcome = try await Subprocess.run(
            .path(.init(try CLI.binary.path)),
            arguments: ["run", "long.py", "--grid", "n=1,2,3,4", "--parallel", String(parallel)],
            environment: .custom(
                Dictionary(
                    uniqueKeysWithValues: sandbox.environment().map {
                        (Environment.Key(stringLiteral: $0.key), $0.value)
                    })),
            workingDirectory: .init(sandbox.project.path), input: .none, output: .sequence,
            error: .string(limit: 1 << 20)
        ) { execution in
            var seen = ""
            for try await chunk in execution.standardOutput {
                seen += chunk.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                if seen.components(separatedBy: "ready").count - 1 == parallel && !seen.contains("SENT") {
                    try execution.send(signal: .interrupt)
                    seen += "SENT"
                }
            }
            return seen
        }
        #expect(outcome.terminationStatus == .exited(130))
        #expect(outcome.closureResult.components(separatedBy: "interrupted").count - 1 == parallel)
        #expect(ContinuousClock.now - start < .seconds(20))
        let summary = "\(4 - parallel) (interrupted)\n"
        #expect(outcome.standardError.hasSuffix(summary), "\(outcome.standardError)")
    }
}
