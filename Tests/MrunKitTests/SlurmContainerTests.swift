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

/// `container_image` on the real test bed. Apptainer cannot be installed here, so a stand-in
/// `apptainer` first on the job's PATH records the arguments it gets and runs the command the way
/// `apptainer exec` would inside the image.
extension SlurmTests {
    @Suite struct Container {
        static let shim = """
            #!/bin/sh
            # Stand-in for apptainer: records its arguments, NUL-separated, then runs the command
            # that follows the options and the image.
            printf '%s\\0' "$@" > apptainer.argv
            [ "$1" = exec ] || exit 64
            shift
            while [ $# -gt 0 ]; do
              case $1 in
                --bind | --pwd) shift 2 ;;
                -*) shift ;;
                *) break ;;
              esac
            done
            shift
            exec "$@"

            """

        @Test func theCommandRunsThroughApptainerWithTheJobDirectoryBound() async throws {
            let workdir = SlurmSandbox.newWorkdir()
            let slurm = try await SlurmSandbox(contextFlags: [
                "--container_image", "\(workdir)/images/torch 2.sif",
                "--setup", "export PATH=\"$HOME/\(workdir)/shim:$PATH\"",
            ])
            let submission = Submission()
            try submission.project(slurm.sandbox)
            let quote = TemplateFilters.shellQuote
            let installed = try await slurm.testbed.remote(
                "mkdir -p \(quote(workdir))/shim && printf %s \(quote(Self.shim)) > \(quote(workdir))/shim/apptainer"
                    + " && chmod 755 \(quote(workdir))/shim/apptainer")
            try #require(installed.status == 0, "\(installed.error)")
            let token = "tok-\(UUID().uuidString)"

            let (_, id) = try await slurm.submit(
                ["exp.py", "--", "--epochs", "3", "--name", "a b", "it's"], environment: ["NEPTUNE_API_TOKEN": token])
            #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
            let (logs, output) = try await submission.report(id, slurm)
            #expect(
                output["argv"] as? [String] == ["--epochs", "3", "--name", "a b", "it's"], "\(logs.standardOutput)")
            #expect(output["token_reversed"] as? String == String(token.reversed()), "the secrets reach the command")
            let cwd = try #require(output["cwd"] as? String)
            let name = try #require((output["env"] as? [String: String])?["MRUN_EXPERIMENT"])
            let jobDir = "\(slurm.workdir)/\(slurm.sandbox.project.lastPathComponent)/\(name)"
            #expect(cwd.hasSuffix("/" + jobDir), "\(cwd)")
            let home = String(cwd.dropLast(jobDir.count + 1))

            let recorded = try await slurm.testbed.remote("cat -- \(quote(jobDir))/apptainer.argv")
            try #require(recorded.status == 0, "the job ran apptainer: \(recorded.error)")
            let argv = recorded.output.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(
                String.init)
            #expect(
                argv == [
                    "exec", "--nv", "--bind", cwd, "--pwd", cwd, "\(home)/\(workdir)/images/torch 2.sif",
                    "python3", "exp.py", "--epochs", "3", "--name", "a b", "it's",
                ])
            try await slurm.cleanUp()
        }

        @Test func withoutApptainerOrSingularityTheJobFailsSayingSo() async throws {
            let slurm = try await SlurmSandbox(contextFlags: ["--container_image", "docker://python:3.11"])
            try slurm.sandbox.write("print('must not run')\n", to: "exp.py")
            let (_, id) = try await slurm.submit(["exp.py"])
            #expect(try await slurm.waitForEnd(id) == "FAILED, exit code 127")
            let logs = try await slurm.mrun(["logs", id])
            #expect(logs.standardOutput.hasPrefix("mrun: neither apptainer nor singularity is on the PATH on "))
            #expect(logs.standardOutput.contains("cannot run docker://python:3.11 (load one with modules or setup)"))
            #expect(!logs.standardOutput.contains("must not run"))
            try await slurm.cleanUp()
        }
    }

    /// What mrun reports once Slurm has forgotten a job (the test bed's `MinJobAge` is 5 s): the
    /// job completion log, read with `sacct -c`, still has its state and exit code.
    @Suite struct Accounting {
        @Test func statusLogsCancelAndListUseAccountingAfterSlurmForgetsTheJob() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write("import sys\nprint('bye', flush=True)\nsys.exit(3)\n", to: "fail.py")
            try slurm.sandbox.write("print('ok')\n", to: "ok.py")
            let (_, failed) = try await slurm.submit(["fail.py"])
            let (_, completed) = try await slurm.submit(["ok.py"])
            // Another user's job with a name like mrun's: the job completion log lists it too.
            var environment = ProcessInfo.processInfo.environment
            environment["SLURM_CONF"] = slurm.testbed.slurmConf
            let other = try await SlurmTestbed.shell(
                ["sbatch", "--parsable", "-J", "other-abcde", "-o", "/dev/null", "--chdir", "/", "--wrap", "true"],
                environment: environment)
            try #require(other.status == 0, "sbatch as \(NSUserName()): \(other.error)")
            let otherID = other.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try await slurm.waitForEnd(failed) == "FAILED, exit code 3")
            #expect(try await slurm.waitForEnd(completed) == "COMPLETED, exit code 0")
            try await slurm.waitUntilForgotten([failed, completed, otherID])

            #expect(try await slurm.state(failed) == "FAILED, exit code 3")
            #expect(try await slurm.state(completed) == "COMPLETED, exit code 0")
            let status = try await slurm.mrun(["status", failed])
            #expect(status.standardOutput.contains("/slurm-\(failed).out"), "the output file from mrun's record")
            let logs = try await slurm.mrun(["logs", failed])
            #expect(logs.standardOutput == "bye\n", "\(logs.standardError)")
            let cancel = try await slurm.mrun(["cancel", completed])
            #expect(cancel.standardOutput.contains("had already ended: COMPLETED"), "\(cancel.standardError)")
            let list = try await slurm.mrun(["list", "--all"])
            let rows = list.standardOutput.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(rows.contains { $0.first == failed && $0.contains("FAILED") }, "\(list.standardOutput)")
            #expect(rows.contains { $0.first == completed && $0.contains("COMPLETED") })
            #expect(!rows.contains { $0.first == otherID }, "only the user's own jobs: \(list.standardOutput)")
            try await slurm.cleanUp()
        }
    }
}
