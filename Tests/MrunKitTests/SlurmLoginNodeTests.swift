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

/// `login_node: true` against the real test bed: mrun runs where slurmctld runs (these tests run as
/// root on that machine), so sbatch, squeue and scancel work here, without ssh.
extension SlurmTests {
    @Suite struct LoginNode {
        @Test func runStatusLogsCancelAndListWorkWithoutSSH() async throws {
            let slurm = try await SlurmSandbox(loginNode: true)
            let submission = Submission()
            try submission.project(slurm.sandbox)
            let token = "tok-\(UUID().uuidString)"
            let environment = ["NEPTUNE_API_TOKEN": token, "NEPTUNE_PROJECT": "ws/login-node"]
            let sampler = ProcessSampler()

            let (run, id) = try await slurm.submit(
                ["exp.py", "--", "--epochs", "3", "--name", "a b"], environment: environment)
            #expect(run.standardError.contains("rsync sent 5 files"), "\(run.standardError)")
            #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
            let (logs, output) = try await submission.report(id, slurm)
            #expect(output["argv"] as? [String] == ["--epochs", "3", "--name", "a b"], "\(logs.standardOutput)")
            #expect(output["greeting"] as? String == "hello from lib")
            #expect(output["token_reversed"] as? String == String(token.reversed()), "the secrets file reached the job")
            let env = try #require(output["env"] as? [String: String])
            #expect(env["NEPTUNE_PROJECT"] == "ws/login-node")
            let name = try #require(env["MRUN_EXPERIMENT"])
            let jobDir = slurm.sandbox.home.appendingPathComponent("\(slurm.workdir)/login-node/\(name)")
            #expect(output["cwd"] as? String == jobDir.path, "relative paths start from the home")
            #expect(run.standardOutput.contains("Output: \(jobDir.path)/slurm-\(id).out"), "\(run.standardOutput)")

            let envFile = jobDir.appendingPathComponent(".mrun-env")
            let mode = try FileManager.default.attributesOfItem(atPath: envFile.path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "the secrets file is private")
            let shipped = try FileManager.default.contentsOfDirectory(atPath: jobDir.path)
            #expect(shipped.contains("exp.py") && !shipped.contains("ignored.log"), "\(shipped)")

            // A relaunch copies unchanged files from the previous job, here too.
            let (again, _) = try await slurm.submit(["exp.py"], environment: environment)
            #expect(again.standardError.contains("rsync sent 0 of 5 files (0 bytes)"), "\(again.standardError)")

            let (_, ticker) = try await slurm.submit(["ticker.py", "--", "600", "1"])
            #expect(try await slurm.waitFor(ticker, ["RUNNING"]) == "RUNNING")
            let cancel = try await slurm.mrun(["cancel", ticker])
            #expect(cancel.status == 0, "\(cancel.standardError)")
            #expect(cancel.standardOutput.contains("Cancelled job \(ticker)"))
            #expect(try await slurm.state(ticker).hasPrefix("CANCELLED"))

            let (_, short) = try await slurm.submit(["ticker.py", "--", "3", "0.5"])
            let follow = try await slurm.mrun(["logs", "-f", short])
            #expect(follow.standardOutput == "tick 0\ntick 1\ntick 2\n", "\(follow.standardError)")
            #expect(follow.standardError.contains("job \(short) COMPLETED"))

            let status = try await slurm.mrun(["status", id])
            #expect(
                status.standardOutput.contains("Output     \(jobDir.path)/slurm-\(id).out"), "\(status.standardOutput)")
            let list = try await slurm.mrun(["list"])
            let rows = list.standardOutput.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            for job in [id, ticker, short] {
                #expect(rows.contains { $0.contains(job) }, "\(list.standardOutput)")
            }
            let samples = await sampler.stop()
            // No ssh: no control socket under this MRUN_HOME, and no ssh process seen naming it.
            #expect(!FileManager.default.fileExists(atPath: slurm.sandbox.mrunHome.appendingPathComponent("ssh").path))
            #expect(
                !samples.contains { $0.contains("ssh") && $0.contains(slurm.sandbox.mrunHome.path) }, "no ssh login")
            for result in [run, logs, again, cancel, follow, status, list] {
                #expect(!(result.standardOutput + result.standardError).contains(token), "mrun printed the token")
            }
            #expect(!samples.contains { $0.contains(token) }, "the token appeared in ps output")
            try await slurm.cleanUp()
        }

        @Test func missingSbatchIsExplained() async throws {
            let slurm = try await SlurmSandbox(loginNode: true)
            try slurm.sandbox.write("print('hi')\n", to: "exp.py")
            // A PATH without Slurm (mrun runs the shell by its absolute path).
            let empty = slurm.sandbox.root.appendingPathComponent("empty-bin")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            let result = try await slurm.mrun(["run", "exp.py"], environment: ["PATH": empty.path])
            #expect(result.status == 1)
            #expect(
                result.standardError
                    == "error: sbatch not found on the PATH of this machine; is this the cluster's login node?"
                    + " (login_node: true runs Slurm commands here, without ssh)\n")
        }
    }
}
