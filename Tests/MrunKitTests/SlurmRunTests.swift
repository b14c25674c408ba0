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

/// `mrun run` and job control against the real Slurm test bed, through the real binary.
extension SlurmTests {
    @Suite struct Submission {
        /// Prints its arguments and environment as JSON; the token only reversed, so that the job's
        /// own output never holds it.
        static let experiment = """
            import json, os, sys, time
            from lib.util import greeting
            token = os.environ.get("NEPTUNE_API_TOKEN", "")
            print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "greeting": greeting(),
                "token_reversed": token[::-1],
                "env": {k: v for k, v in os.environ.items()
                        if k.startswith(("MRUN_", "NEPTUNE_PROJECT", "CUDA_VISIBLE_DEVICES", "X_"))}}), flush=True)
            time.sleep(float(os.environ.get("X_SLEEP", "0")))
            sys.exit(int(os.environ.get("X_EXIT", "0")))
            """

        static let ticker = """
            import sys, time
            for i in range(int(sys.argv[1])):
                print("tick", i, flush=True)
                time.sleep(float(sys.argv[2]))
            """

        func project(_ sandbox: Sandbox) throws {
            try sandbox.write(Self.experiment, to: "exp.py")
            try sandbox.write("def greeting():\n    return 'hello from lib'\n", to: "lib/util.py")
            try sandbox.write("", to: "lib/__init__.py")
            try sandbox.write(Self.ticker, to: "ticker.py")
            try sandbox.write("ignored.log\n", to: ".gitignore")
            try sandbox.write("not shipped", to: "ignored.log")
        }

        /// The JSON line the experiment printed, read back with `mrun logs`.
        func report(_ id: String, _ slurm: SlurmSandbox) async throws -> (CLIResult, [String: Any]) {
            let logs = try await slurm.mrun(["logs", id])
            let line = logs.standardOutput.split(separator: "\n").first { $0.hasPrefix("{") } ?? ""
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            return (logs, object)
        }

        @Test func runShipsCodeAndArgumentsAndKeepsTheTokenOutOfEverythingVisible() async throws {
            let testbed = try await SlurmTestbed.load()
            let sandbox = try Sandbox()
            let key = try await testbed.privateKey(in: sandbox.root)
            let slurm = try await SlurmSandbox(contextFlags: ["--identity_file", key.path], sandbox: sandbox)
            try project(slurm.sandbox)
            let token = "tok-\(UUID().uuidString)"
            let environment = ["NEPTUNE_API_TOKEN": token, "NEPTUNE_PROJECT": "ws/slurm-e2e", "X_SLEEP": "3"]
            let accepted = try testbed.logins(with: key.fingerprint)
            let sampler = ProcessSampler()
            let start = ContinuousClock.now
            let (run, id) = try await slurm.submit(
                ["exp.py", "--env", "X_SLEEP=3", "--", "--epochs", "3", "--name", "a b"], environment: environment)
            print("slurm: first submission took \(ContinuousClock.now - start)")
            #expect(try testbed.logins(with: key.fingerprint) == accepted + 1, "one ssh connection for the whole run")
            #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
            let samples = await sampler.stop()

            let (logs, output) = try await report(id, slurm)
            #expect(output["argv"] as? [String] == ["--epochs", "3", "--name", "a b"], "\(logs.standardOutput)")
            #expect(output["greeting"] as? String == "hello from lib")
            #expect(output["token_reversed"] as? String == String(token.reversed()))
            let env = try #require(output["env"] as? [String: String])
            #expect(env["NEPTUNE_PROJECT"] == "ws/slurm-e2e")
            #expect(env["MRUN_PROJECT"] == "slurm-e2e")
            let name = try #require(env["MRUN_EXPERIMENT"])
            let jobDir = "\(slurm.workdir)/slurm-e2e/\(name)"
            #expect((output["cwd"] as? String)?.hasSuffix("/" + jobDir) == true)
            #expect(run.standardOutput.contains("Output: ") && run.standardOutput.contains("\(jobDir)/slurm-\(id).out"))

            let remote = try await slurm.testbed.remote(
                "stat -c %a \(jobDir)/.mrun-env; ls -A \(jobDir); scontrol write batch_script \(id) -")
            #expect(remote.output.hasPrefix("600\n"), "the secrets file is private: \(remote.output)")
            #expect(!remote.output.contains("ignored.log"))
            #expect(
                remote.output.contains("#SBATCH --job-name=\(name)"), "Slurm's copy of the script: \(remote.output)")
            #expect(!remote.output.contains(token), "the token is not in the sbatch script")

            let status = try await slurm.mrun(["status", id])
            let list = try await slurm.mrun(["list"])
            let listed = list.standardOutput.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(
                listed.contains { $0.count >= 5 && $0[1...4] == [name, "tb", "completed", id] },
                "\(list.standardOutput)")
            for result in [run, logs, status, list] {
                #expect(!(result.standardOutput + result.standardError).contains(token), "mrun printed the token")
            }
            #expect(samples.count > 5, "ps was sampled during the run")
            #expect(!samples.contains { $0.contains(token) }, "the token appeared in ps output")
            try await slurm.cleanUp()
        }

        @Test func unchangedCodeIsNotSentAgain() async throws {
            let slurm = try await SlurmSandbox()
            try project(slurm.sandbox)
            let (first, firstID) = try await slurm.submit(["exp.py", "--", "1"])
            #expect(first.standardError.contains("rsync sent 5 files"), "\(first.standardError)")
            let start = ContinuousClock.now
            let (second, secondID) = try await slurm.submit(["exp.py", "--", "2"])
            print("slurm: relaunch with unchanged code took \(ContinuousClock.now - start)")
            #expect(second.standardError.contains("rsync sent 0 of 5 files (0 bytes)"), "\(second.standardError)")
            try slurm.sandbox.write("def greeting():\n    return 'changed'\n", to: "lib/util.py")
            let (third, thirdID) = try await slurm.submit(["exp.py", "--", "3"])
            #expect(third.standardError.contains("rsync sent 1 of 5 files"), "\(third.standardError)")
            for (id, greeting) in [(firstID, "hello from lib"), (secondID, "hello from lib"), (thirdID, "changed")] {
                #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
                #expect(try await report(id, slurm).1["greeting"] as? String == greeting, "job \(id) got complete code")
            }
            try await slurm.cleanUp()
        }

        @Test func cancelStopsARunningJob() async throws {
            let slurm = try await SlurmSandbox()
            try project(slurm.sandbox)
            let (_, id) = try await slurm.submit(["ticker.py", "--", "600", "1"])
            #expect(try await slurm.waitFor(id, ["RUNNING"]) == "RUNNING")
            let cancel = try await slurm.mrun(["cancel", id])
            #expect(cancel.status == 0, "\(cancel.standardError)")
            #expect(cancel.standardOutput.contains("Cancelled job \(id)"))
            #expect(try await slurm.state(id).hasPrefix("CANCELLED"))
            let again = try await slurm.mrun(["cancel", id])
            #expect(again.standardOutput.contains("had already ended: CANCELLED"))
            let unknown = try await slurm.mrun(["cancel", "999999"])
            #expect(unknown.status == 1)
            #expect(unknown.standardError.hasPrefix("error: no job 999999 on \(slurm.testbed.sshHost)"))
            try await slurm.cleanUp()
        }

        @Test func failingScriptIsFailedWithItsExitCode() async throws {
            let slurm = try await SlurmSandbox()
            try project(slurm.sandbox)
            let (_, id) = try await slurm.submit(["exp.py", "--env", "X_EXIT=3"])
            #expect(try await slurm.waitForEnd(id) == "FAILED, exit code 3")
            try await slurm.cleanUp()
        }

        @Test func logsFollowARunningJobUntilItEnds() async throws {
            let slurm = try await SlurmSandbox()
            try project(slurm.sandbox)
            let (_, id) = try await slurm.submit(["ticker.py", "--", "5", "0.7"])
            let start = ContinuousClock.now
            let logs = try await slurm.mrun(["logs", "-f", id])
            let elapsed = ContinuousClock.now - start
            #expect(logs.status == 0, "\(logs.standardError)")
            #expect(logs.standardOutput == (0..<5).map { "tick \($0)\n" }.joined())
            #expect(logs.standardError.contains("job \(id) COMPLETED"))
            #expect(elapsed > .seconds(2) && elapsed < .seconds(30), "followed for \(elapsed)")
            #expect(try await slurm.state(id).hasPrefix("COMPLETED"))
            try await slurm.cleanUp()
        }

        @Test func gpuJobSeesItsDevices() async throws {
            let slurm = try await SlurmSandbox()
            try project(slurm.sandbox)
            let (run, id) = try await slurm.submit(["exp.py", "--resources", "gpu=2"])
            #expect(!run.standardError.contains("error"))
            #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
            let env = try #require(try await report(id, slurm).1["env"] as? [String: String])
            #expect(env["CUDA_VISIBLE_DEVICES"] == "0,1")
            try await slurm.cleanUp()
        }

    }
}

/// Samples every process's command line with `ps` until stopped.
final class ProcessSampler: Sendable {
    private let task: Task<[String], Never>

    init() {
        task = Task {
            var samples: [String] = []
            while !Task.isCancelled {
                if let result = try? await Subprocess.run(
                    .name("ps"), arguments: ["-eo", "args"], output: .string(limit: 1 << 22))
                {
                    samples.append(result.standardOutput)
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return samples
        }
    }

    func stop() async -> [String] {
        task.cancel()
        return await task.value
    }
}

extension SlurmTests {
    /// The output of a Slurm job outlives its job directory: `mrun status` saw it end and saved it.
    @Suite struct SavedOutput {
        @Test func logsOfAJobWhoseDirectoryIsGoneComeFromTheSavedCopy() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write("print('kept for later', flush=True)\n", to: "exp.py")
            let (_, id) = try await slurm.submit(["exp.py"])
            #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
            let saved = try FileManager.default.contentsOfDirectory(
                atPath: slurm.sandbox.mrunHome.appendingPathComponent("logs").path)
            #expect(saved.count == 1 && saved[0].hasSuffix(".log"), "\(saved)")
            try await slurm.cleanUp()
            let logs = try await slurm.mrun(["logs", id])
            #expect(logs.status == 0, "\(logs.standardError)")
            #expect(logs.standardOutput == "kept for later\n", "\(logs.standardOutput)")
            #expect(logs.standardError.contains("its output as mrun saved it"), "\(logs.standardError)")
        }
    }
}

extension SlurmTests {
    /// `mrun rm` of a Slurm sweep's points: their shared job directory goes with the last of them.
    @Suite struct Removal {
        @Test func theSharedJobDirectoryGoesWithTheLastPoint() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write("print('point')\n", to: "exp.py")
            let run = try await slurm.mrun(["run", "exp.py", "--grid", "i=1,2"])
            #expect(run.status == 0, "\(run.standardError)")
            let history = try HistoryStore(home: slurm.sandbox.mrunHome)
            let points = try history.list().sorted { ($0.sweepIndex ?? 0) < ($1.sweepIndex ?? 0) }
            #expect(points.count == 2)
            let directory = try #require(points.first?.runDirectory)
            for point in points {
                #expect(try await slurm.waitForEnd(try #require(point.jobId)).hasPrefix("COMPLETED"))
            }
            let first = try await slurm.mrun(["rm", points[0].id])
            #expect(first.status == 0, "\(first.standardError)")
            #expect(
                first.standardOutput.hasSuffix("nothing was left on its backend\n"),
                "kept for point 1: \(first.standardOutput)")
            #expect(try await slurm.testbed.remote("test -d '\(directory)'").status == 0)
            let second = try await slurm.mrun(["rm", points[1].id])
            #expect(second.standardOutput.contains("job directory "), "\(second.standardOutput)")
            #expect(try await slurm.testbed.remote("test -d '\(directory)'").status == 1)
            let logs = try await slurm.mrun(["logs", points[1].id])
            #expect(logs.standardOutput == "point\n", "\(logs.standardError)")
            try await slurm.cleanUp()
        }
    }
}
