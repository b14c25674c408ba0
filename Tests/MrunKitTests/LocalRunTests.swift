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

/// Local runs of a real Python script through the real `mrun` binary.
@Suite(.serialized) struct LocalRunTests {
    static let echo = """
        import json, os, sys
        print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(),
            "env": {k: v for k, v in os.environ.items() if k.startswith(("NEPTUNE_", "MRUN_", "STORAGE_DIR", "X_"))}}))
        sys.stderr.write("to stderr\\n")
        sys.exit(int(os.environ.get("X_EXIT", "0")))
        """

    func run(_ arguments: [String], sandbox: Sandbox, environment: [String: String] = [:]) async throws
        -> (CLIResult, [String: Any])
    {
        let result = try await CLI.run(arguments, sandbox: sandbox, environment: environment)
        let line = result.standardOutput.split(separator: "\n").first.map(String.init) ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (result, object)
    }

    @Test func argumentsAfterTheSeparatorArriveIntact() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.echo, to: "exp.py")
        let arguments = ["--epochs", "3", "--name", "a b", "it's \"quoted\"", "--", "", "ünï", "$HOME", "*"]
        let (result, output) = try await run(["run", "exp.py", "--"] + arguments, sandbox: sandbox)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(output["argv"] as? [String] == arguments)
    }

    @Test func environmentCarriesNeptuneAndMrunVariablesAndTheLogKeepsBothStreams() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.echo, to: "exp.py")
        let (result, output) = try await run(
            ["run", "exp.py", "--name", "echo", "--env", "X_FLAG=on"], sandbox: sandbox,
            environment: ["NEPTUNE_API_TOKEN": "tok-123", "NEPTUNE_PROJECT": "ws/proj"])
        #expect(result.status == 0, "\(result.standardError)")
        let env = try #require(output["env"] as? [String: String])
        #expect(env["NEPTUNE_API_TOKEN"] == "tok-123")
        #expect(env["NEPTUNE_PROJECT"] == "ws/proj")
        #expect(env["X_FLAG"] == "on")
        let name = try #require(env["MRUN_EXPERIMENT"])
        #expect(name.hasPrefix("echo-"))
        #expect(env["MRUN_PROJECT"] == "proj")
        let runDirectory = sandbox.store.runsDirectory.appendingPathComponent(name)
        #expect(output["cwd"] as? String == runDirectory.path)
        #expect(env["STORAGE_DIR"] == sandbox.mrunHome.appendingPathComponent("storage/proj").path)
        let log = try sandbox.read(runDirectory.appendingPathComponent("output.log"))
        #expect(log.contains("\"argv\": []"))
        #expect(log.contains("to stderr"))
        #expect(result.standardError.contains("to stderr"))
        let plan = try sandbox.read(runDirectory.appendingPathComponent("plan.json"))
        #expect(!plan.contains("tok-123"), "plan.json keeps secrets redacted")
        #expect(!result.standardError.contains("tok-123"))
        #expect(FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("exp.py").path))
    }

    @Test(arguments: [0, 3, 42])
    func exitStatusPropagates(code: Int) async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.echo, to: "exp.py")
        let (result, _) = try await run(["run", "exp.py"], sandbox: sandbox, environment: ["X_EXIT": "\(code)"])
        #expect(result.status == Int32(code))
        if code != 0 {
            #expect(result.standardError.contains("failed with exit status \(code)"))
        }
    }

    @Test func contextWithNeptuneOffGetsNoCredentials() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.echo, to: "exp.py")
        _ = try await CLI.run(
            ["context", "add", "--name", "quiet", "--type", "local", "--no-neptune"], sandbox: sandbox)
        let (result, output) = try await run(
            ["--context", "quiet", "run", "exp.py"], sandbox: sandbox, environment: ["NEPTUNE_API_TOKEN": "tok"])
        #expect(result.status == 0)
        let env = try #require(output["env"] as? [String: String])
        #expect(env["NEPTUNE_API_TOKEN"] == nil, "neptune: false passes no credentials")
    }

    @Test func dryRunTouchesNothingAndHidesTheToken() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.echo, to: "exp.py")
        for format in ["text", "json"] {
            let result = try await CLI.run(
                ["run", "exp.py", "--dry-run", "--output", format, "--", "--epochs", "3"], sandbox: sandbox,
                environment: ["NEPTUNE_API_TOKEN": "tok-secret-value"])
            #expect(result.status == 0)
            #expect(!result.standardOutput.contains("tok-secret-value"))
            #expect(result.standardOutput.contains("<redacted>"))
            if format == "json" {
                let plan = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
                let experiment = plan?["experiment"] as? [String: Any]
                #expect(experiment?["args"] as? [String] == ["--epochs", "3"])
            }
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.store.runsDirectory.path))
    }

    /// SIGINT sent to mrun (as `kill -INT` would) reaches the experiment, which cleans up and exits;
    /// mrun waits for it and exits with its status.
    @Test func interruptIsForwardedToTheExperiment() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            """
            import signal, sys, time
            def stop(*_):
                print("got SIGINT, saving checkpoint", flush=True)
                sys.exit(130)
            signal.signal(signal.SIGINT, stop)
            print("ready", flush=True)
            time.sleep(30)
            print("not interrupted")
            """, to: "long.py")
        let binary = try CLI.binary
        let start = Date()
        let outcome = try await Subprocess.run(
            .path(.init(binary.path)), arguments: ["run", "long.py"],
            environment: .custom(
                Dictionary(
                    uniqueKeysWithValues: sandbox.environment().map {
                        (Environment.Key(stringLiteral: $0.key), $0.value)
                    })),
            workingDirectory: .init(sandbox.project.path), input: .none, output: .sequence, error: .discarded
        ) { execution in
            var seen = ""
            for try await chunk in execution.standardOutput {
                seen += chunk.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                if seen.contains("ready") && !seen.contains("SENT") {
                    try execution.send(signal: .interrupt)
                    seen += "SENT"
                }
            }
            return seen
        }
        #expect(outcome.closureResult.contains("got SIGINT, saving checkpoint"))
        #expect(!outcome.closureResult.contains("not interrupted"))
        #expect(outcome.terminationStatus == .exited(130))
        #expect(Date().timeIntervalSince(start) < 20)
    }
}
