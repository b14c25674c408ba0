import Crypto
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

/// The history through the real `mrun` binary: every local launch recorded, and the commands
/// that read it (`list`, `show`, `status`, `logs`, `wait`, `cancel`, `diff`, `rerun`, `resume`).
@Suite(.serialized) struct HistoryCLITests {
    /// Prints its arguments, MRUN_PARAMS and name as JSON, then sleeps `X_SLEEP` seconds, blocks
    /// while `X_BLOCK_FILE` exists for the point whose `n` is `X_BLOCK_AT`, and exits `X_EXIT`.
    static let experiment = """
        import json, os, sys, time
        from lib import helper
        params = json.loads(os.environ.get("MRUN_PARAMS") or "{}")
        print(json.dumps({"argv": sys.argv[1:], "params": params, "name": os.environ["MRUN_EXPERIMENT"],
            "helper": helper()}), flush=True)
        if str(params.get("n")) == os.environ.get("X_BLOCK_AT"):
            print("blocking", flush=True)
            while os.path.exists(os.environ["X_BLOCK_FILE"]):
                time.sleep(0.1)
        time.sleep(float(os.environ.get("X_SLEEP", "0")))
        sys.exit(int(os.environ.get("X_EXIT", "0")))
        """

    static func project() throws -> Sandbox {
        let sandbox = try Sandbox()
        try sandbox.write(experiment, to: "exp.py")
        try sandbox.write("def helper():\n    return 'v1'\n", to: "lib.py")
        return sandbox
    }

    static func history(_ sandbox: Sandbox) throws -> HistoryStore {
        try HistoryStore(home: sandbox.mrunHome)
    }

    /// The JSON objects the experiment printed, in order.
    static func reports(_ output: String) -> [[String: Any]] {
        output.split(separator: "\n").compactMap { line in
            guard let start = line.firstIndex(of: "{") else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line[start...].utf8))) as? [String: Any]
        }
    }

    static func sweepID(_ output: String) throws -> String {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("Sweep ") })
        return String(line.dropFirst("Sweep ".count).prefix { $0 != ":" })
    }

    static func git(_ arguments: [String], in directory: URL) async throws {
        let result = try await SlurmTestbed.shell(
            ["git", "-C", directory.path, "-c", "user.name=Test", "-c", "user.email=test@example.com"] + arguments)
        try #require(result.status == 0, "git \(arguments): \(result.error)")
    }

    @Test func everyLocalLaunchIsRecorded() async throws {
        let sandbox = try Self.project()
        try await Self.git(["init", "-q"], in: sandbox.project)
        try await Self.git(["add", "."], in: sandbox.project)
        try await Self.git(["commit", "-q", "-m", "first"], in: sandbox.project)
        let head = try await SlurmTestbed.shell(["git", "-C", sandbox.project.path, "rev-parse", "HEAD"])
        let token = "tok-\(UUID().uuidString)"
        let added = try await CLI.run(
            ["context", "add", "--name", "here", "--type", "local", "--env", "API_TOKEN=\(token)"], sandbox: sandbox)
        try #require(added.status == 0, "\(added.standardError)")

        let run = try await CLI.run(
            ["--context", "here", "run", "exp.py", "--tag", "base", "--env", "X_MODE=fast", "--", "--epochs", "3"],
            sandbox: sandbox)
        #expect(run.status == 0, "\(run.standardError)")
        let failed = try await CLI.run(
            ["run", "exp.py", "--name", "broken"], sandbox: sandbox, environment: ["X_EXIT": "3"])
        #expect(failed.status == 3, "the experiment's own status: \(failed.standardError)")

        let launches = try Self.history(sandbox).list()
        try #require(launches.count == 2)
        let first = launches[1]
        #expect(run.standardError.contains("(launch \(first.id))"))
        #expect(first.state == .completed && first.exitCode == 0)
        #expect(first.contextName == "here" && first.backend == .local)
        #expect(first.context.env == ["API_TOKEN": EnvironmentVariable.redacted])
        #expect(first.jobId.flatMap { Int32($0) } != nil, "the process id: \(first.jobId ?? "nil")")
        #expect(first.runDirectory == sandbox.store.runsDirectory.appendingPathComponent(first.experimentName).path)
        #expect(first.args == ["--epochs", "3"] && first.tags == ["base"] && first.script == "exp.py")
        #expect(first.gitCommit == head.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(first.gitDirty == false)
        #expect(Set(first.files.keys) == ["exp.py", "lib.py"])
        #expect(
            first.files["lib.py"] == HexEncoding.hex(SHA256.hash(data: Data("def helper():\n    return 'v1'\n".utf8))))
        #expect(first.inputs?.directory == sandbox.project.path)
        #expect(first.inputs?.environmentNames == ["X_MODE"])
        let second = launches[0]
        #expect(second.experimentName.hasPrefix("broken-") && second.state == .failed && second.exitCode == 3)

        let sweep = try await CLI.run(
            ["run", "exp.py", "--grid", "lr=0.1,0.01", "--grid", "batch=32,64"], sandbox: sandbox)
        #expect(sweep.status == 0, "\(sweep.standardError)")
        let id = try Self.sweepID(sweep.standardOutput)
        let points = try Self.history(sandbox).launches(sweep: id)
        #expect(points.map(\.sweepIndex) == [0, 1, 2, 3])
        #expect(points.map(\.experimentName) == (0..<4).map { "exp-\(id)-\($0)" })
        #expect(points.allSatisfy { $0.state == .completed && $0.exitCode == 0 && $0.jobId != nil })
        #expect(points[2].parameters == ["lr": "0.01", "batch": "32"])
        #expect(points[2].args == ["--lr", "0.01", "--batch", "32"])
        let record = try #require(try Self.history(sandbox).sweep(id))
        #expect(record.points.count == 4 && record.name == "exp-\(id)")

        let bytes = try Data(contentsOf: sandbox.mrunHome.appendingPathComponent(HistoryStore.fileName))
        #expect(bytes.range(of: Data(token.utf8)) == nil, "the context's token is not in the history")
        #expect(bytes.range(of: Data("fast".utf8)) == nil, "--env values are not in the history")
        let show = try await CLI.run(["show", first.id, "--output", "json"], sandbox: sandbox)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(show.standardOutput.utf8)) as? [String: Any])
        #expect((object["files"] as? [String: String])?.keys.sorted() == ["exp.py", "lib.py"])
        #expect(object["gitCommit"] as? String == first.gitCommit)
        #expect(!(show.standardOutput + show.standardError).contains(token))
    }

    @Test func interruptedSweepIsResumedWithoutDuplicates() async throws {
        let sandbox = try Self.project()
        let block = sandbox.root.appendingPathComponent("block")
        try Data().write(to: block)
        var environment = sandbox.environment(["X_BLOCK_AT": "2", "X_BLOCK_FILE": block.path])
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        // SIGINT once two points have finished and the third is running.
        let outcome = try await Subprocess.run(
            .path(.init(try CLI.binary.path)), arguments: ["run", "exp.py", "--zip", "n=0,1,2,3"],
            environment: .custom(
                Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) })
            ),
            workingDirectory: .init(sandbox.project.path), input: .none, output: .sequence,
            error: .string(limit: 1 << 20)
        ) { execution in
            var seen = ""
            for try await chunk in execution.standardOutput {
                seen += chunk.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                if seen.contains("blocking") && !seen.contains("SENT") {
                    try execution.send(signal: .interrupt)
                    seen += "SENT"
                }
            }
            return seen
        }
        #expect(outcome.terminationStatus == .exited(130), "\(outcome.standardError)")
        let id = try Self.sweepID(outcome.closureResult)
        let before = try Self.history(sandbox).launches(sweep: id)
        #expect(before.map(\.sweepIndex) == [0, 1, 2], "no launch for the point never started")
        #expect(before.map(\.state) == [.completed, .completed, .cancelled])

        try FileManager.default.removeItem(at: block)
        let resumed = try await CLI.run(["resume", id], sandbox: sandbox)
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("resuming sweep \(id): 2 of 4 points (2, 3)"))
        let ran = Self.reports(resumed.standardOutput).compactMap { $0["name"] as? String }
        #expect(ran == ["exp-\(id)-2", "exp-\(id)-3"], "only the missing points ran: \(resumed.standardOutput)")
        let again = try await CLI.run(["resume", id], sandbox: sandbox)
        #expect(again.status == 0)
        #expect(again.standardOutput == "Sweep \(id): all 4 points have been launched; nothing to resume\n")

        let after = try Self.history(sandbox).launches(sweep: id)
        let effective = after.filter { $0.state != .cancelled }
        #expect(effective.map(\.sweepIndex) == [0, 1, 2, 3], "one launch per point: \(after.map(\.experimentName))")
        #expect(effective.allSatisfy { $0.state == .completed })
        #expect(Set(before.map(\.id)).isSubset(of: Set(after.map(\.id))), "earlier launches are kept")
        // The interrupted point's earlier run directory is kept beside the new one.
        let relaunched = try #require(effective.first { $0.sweepIndex == 2 })
        #expect(relaunched.runDirectory?.hasSuffix("/exp-\(id)-2.2") == true)
    }

    @Test func twentyConcurrentProcessesLoseNoRecord() async throws {
        let sandbox = try Self.project()
        let results = try await withThrowingTaskGroup(of: CLIResult.self) { group in
            for index in 0..<20 {
                group.addTask { try await CLI.run(["run", "exp.py", "--", "run-\(index)"], sandbox: sandbox) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.standardError).joined())")
        #expect(!results.contains { $0.standardError.contains("warning") }, "\(results.map(\.standardError))")
        let launches = try Self.history(sandbox).list()
        #expect(launches.count == 20)
        #expect(Set(launches.compactMap(\.args.first)) == Set((0..<20).map { "run-\($0)" }))
        #expect(launches.allSatisfy { $0.state == .completed && $0.jobId != nil })
    }

    @Test func corruptHistoryIsRefusedBeforeLaunching() async throws {
        let sandbox = try Self.project()
        let file = sandbox.mrunHome.appendingPathComponent(HistoryStore.fileName)
        let garbage = Data("this is not a database, just text that happens to be long enough to look at\n".utf8)
        try garbage.write(to: file)
        let expected =
            "error: history database \(file.path) is corrupt or not an SQLite database (it does not start with the"
            + " SQLite header); move it aside (mv \(file.path) \(file.path).broken) and mrun starts a new history\n"
        let run = try await CLI.run(["run", "exp.py"], sandbox: sandbox)
        #expect(run.status == 1)
        #expect(run.standardError == expected)
        #expect(run.standardOutput.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: sandbox.store.runsDirectory.path), "nothing was launched")
        for command in [["list"], ["status", "abc"], ["resume", "abcde"]] {
            let result = try await CLI.run(command, sandbox: sandbox)
            #expect(result.status == 1 && result.standardError == expected, "\(command): \(result.standardError)")
        }
        #expect(try Data(contentsOf: file) == garbage, "the file is left as it was")
    }

    @Test func unusableHistoryWarnsAndKeepsTheResult() async throws {
        let sandbox = try Self.project()
        // A directory where the file should be: SQLite cannot open it, whatever the user's rights.
        try FileManager.default.createDirectory(
            at: sandbox.mrunHome.appendingPathComponent(HistoryStore.fileName), withIntermediateDirectories: true)
        let run = try await CLI.run(["run", "exp.py", "--", "kept"], sandbox: sandbox, environment: ["X_EXIT": "4"])
        #expect(run.status == 4, "the experiment's own status: \(run.standardError)")
        #expect(Self.reports(run.standardOutput).first?["argv"] as? [String] == ["kept"])
        let warning = try #require(run.standardError.split(separator: "\n").first)
        #expect(warning.hasPrefix("mrun: warning: cannot use the history database "), "\(run.standardError)")
        #expect(warning.hasSuffix("; this launch is not recorded"))
    }
}
