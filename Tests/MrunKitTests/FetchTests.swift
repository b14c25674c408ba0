import Foundation
import Testing

@testable import MrunBackends
@testable import MrunHistory

/// `mrun fetch`: a launch's MRUN_OUTPUT_DIR back to ./outputs/NAME/, with modes and times, path
/// and symlink escapes refused, newer local files kept without --force.
@Suite struct FetchTests {
    /// Writes a small tree into MRUN_OUTPUT_DIR: an executable script, a file in a directory, a
    /// symlink inside and, with `--escape`, one out of the directory.
    static let writer = """
        import os, sys
        out = os.environ["MRUN_OUTPUT_DIR"]
        os.makedirs(os.path.join(out, "results"), exist_ok=True)
        with open(os.path.join(out, "results", "metrics.json"), "w") as f:
            f.write('{"loss": %s}' % sys.argv[sys.argv.index("--loss") + 1] if "--loss" in sys.argv else '{"loss": 1}')
        with open(os.path.join(out, "run.sh"), "w") as f:
            f.write("#!/bin/sh\\necho again\\n")
        os.chmod(os.path.join(out, "run.sh"), 0o755)
        os.utime(os.path.join(out, "run.sh"), (1700000000, 1700000000))
        os.symlink("results/metrics.json", os.path.join(out, "latest"))
        if "--escape" in sys.argv:
            os.symlink("../../../../etc/passwd", os.path.join(out, "results", "leak"))
        print("wrote", out)

        """

    func launch(_ sandbox: Sandbox, _ arguments: [String] = []) async throws -> String {
        try sandbox.write(Self.writer, to: "write.py")
        let run = try await CLI.run(["--context", "local", "run", "write.py", "--"] + arguments, sandbox: sandbox)
        try #require(run.status == 0, "\(run.standardError)")
        return try #require(try HistoryStore(home: sandbox.mrunHome).list().first).id
    }

    @Test func aTreeComesBackWithItsModesTimesAndInnerSymlink() async throws {
        let sandbox = try Sandbox()
        let id = try await launch(sandbox)
        let name = try #require(try HistoryStore(home: sandbox.mrunHome).launch(id: id)).experimentName
        let fetched = try await CLI.run(["fetch", id], sandbox: sandbox)
        #expect(fetched.status == 0, "\(fetched.standardError)")
        #expect(fetched.standardOutput.contains("Fetched 2 files"), "\(fetched.standardOutput)")
        let local = sandbox.project.appendingPathComponent("outputs/\(name)")
        let script = try FileManager.default.attributesOfItem(atPath: local.appendingPathComponent("run.sh").path)
        #expect((script[.posixPermissions] as? Int) == 0o755, "the executable bit is kept")
        #expect((script[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_700_000_000, "the time is kept")
        let link = try FileManager.default.destinationOfSymbolicLink(
            atPath: local.appendingPathComponent("latest").path)
        #expect(link == "results/metrics.json")
        #expect(
            try String(contentsOf: local.appendingPathComponent("results/metrics.json"), encoding: .utf8)
                == #"{"loss": 1}"#)

        // A newer local file is kept unless --force.
        let metrics = local.appendingPathComponent("results/metrics.json")
        try Data("mine".utf8).write(to: metrics)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: metrics.path)
        let again = try await CLI.run(["fetch", id, "results"], sandbox: sandbox)
        #expect(again.status != 0)
        #expect(
            again.standardError.contains("1 local file is newer than the launch's (results/metrics.json)")
                && again.standardError.contains("--force"), "\(again.standardError)")
        #expect(try String(contentsOf: metrics, encoding: .utf8) == "mine", "nothing copied")
        let forced = try await CLI.run(["fetch", id, "results", "--force"], sandbox: sandbox)
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(try String(contentsOf: metrics, encoding: .utf8) == #"{"loss": 1}"#)

        let elsewhere = try await CLI.run(["fetch", id, "run.sh", "--to", "elsewhere"], sandbox: sandbox)
        #expect(elsewhere.status == 0, "\(elsewhere.standardError)")
        let copied = sandbox.project.appendingPathComponent("elsewhere/\(name)")
        #expect(FileManager.default.fileExists(atPath: copied.appendingPathComponent("run.sh").path))
        #expect(!FileManager.default.fileExists(atPath: copied.appendingPathComponent("results").path), "only run.sh")
    }

    @Test func escapesAreRefusedInOneLineAndCopyNothing() async throws {
        let sandbox = try Sandbox()
        let id = try await launch(sandbox, ["--escape"])
        let name = try #require(try HistoryStore(home: sandbox.mrunHome).launch(id: id)).experimentName
        let all = try await CLI.run(["fetch", id], sandbox: sandbox)
        #expect(all.status != 0)
        #expect(
            all.standardError.contains("'results/leak' is a symlink out of the launch's output directory"),
            "\(all.standardError)")
        #expect(all.standardError.split(separator: "\n").count == 1, "one line: \(all.standardError)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.project.appendingPathComponent("outputs/\(name)").path))
        // What the link does not touch still comes back.
        let script = try await CLI.run(["fetch", id, "run.sh"], sandbox: sandbox)
        #expect(script.status == 0, "\(script.standardError)")
        for bad in ["../x", "/etc", "results/../../x"] {
            let refused = try await CLI.run(["fetch", id, bad], sandbox: sandbox)
            #expect(
                refused.status != 0 && refused.standardError.contains("without '..'"),
                "\(bad): \(refused.standardError)")
        }
        let missing = try await CLI.run(["fetch", id, "nothing-here"], sandbox: sandbox)
        #expect(
            missing.standardError.contains("has no 'nothing-here' in its output directory"), "\(missing.standardError)")
    }

    @Test func aSweepFetchesEveryPoint() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.writer, to: "write.py")
        let run = try await CLI.run(
            ["--context", "local", "run", "write.py", "--grid", "loss=1,2,3"], sandbox: sandbox)
        try #require(run.status == 0, "\(run.standardError)")
        let sweep = try #require(try HistoryStore(home: sandbox.mrunHome).list().first?.sweepId)
        let fetched = try await CLI.run(["fetch", "--sweep", sweep, "results"], sandbox: sandbox)
        #expect(fetched.status == 0, "\(fetched.standardError)")
        let launches = try HistoryStore(home: sandbox.mrunHome).launches(sweep: sweep)
        #expect(launches.count == 3)
        for launch in launches {
            let metrics = sandbox.project.appendingPathComponent(
                "outputs/\(launch.experimentName)/results/metrics.json")
            let loss = launch.parameters["loss"] ?? "?"
            #expect(
                try String(contentsOf: metrics, encoding: .utf8) == "{\"loss\": \(loss)}", "\(launch.experimentName)")
        }
    }

    @Test func theListingOfRsyncIsRead() throws {
        let entries = try RsyncTransport.entries(
            "drwxr-xr-x        4096 2026/12/04 04:35:40 .\n-rwxr-xr-x           3 2026/12/04 04:35:40 sub/a b.txt\n"
                + "lrwxrwxrwx          16 2026/12/04 04:35:40 esc -> ../../etc/passwd\n")
        #expect(entries.map(\.path) == ["sub/a b.txt", "esc"])
        #expect(entries.last?.target == "../../etc/passwd" && entries.last?.kind == .symlink)
        #expect(FetchRules.escapes("esc", target: "../x") && !FetchRules.escapes("a/b", target: "../c"))
        #expect(FetchRules.escapes("a/b", target: "/etc/passwd"))
    }
}
