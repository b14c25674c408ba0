import Foundation
import Testing

/// `mrun run` on ssh hosts and job control, against the test bed's sshd, through the real binary.
extension SSHHostTests {
    /// Prints its arguments and whether the Neptune token reached it, sleeps `--sleep` seconds,
    /// then prints `done` and exits with `--code`.
    static let experiment = """
        import json, os, sys, time
        args = sys.argv[1:]
        def option(name, default):
            return args[args.index(name) + 1] if name in args else default
        print("args " + json.dumps(args), flush=True)
        print("token-set " + ("yes" if os.environ.get("NEPTUNE_API_TOKEN") else "no"), flush=True)
        time.sleep(float(option("--sleep", "0")))
        print("done", flush=True)
        sys.exit(int(option("--code", "0")))

        """

    @Test func aLaunchRunsDetachedWithItsArgumentsAndSecretsAndRecordsItsExitCode() async throws {
        let lab = try await SSHSandbox()
        try lab.sandbox.write(Self.experiment, to: "train.py")
        let secret = "nep-\(UUID().uuidString)"
        let neptune = ["NEPTUNE_API_TOKEN": secret, "NEPTUNE_PROJECT": "ws/proj"]
        let arguments = ["train.py", "--", "--lr", "0.1", "a b", "--sleep", "1", "--code", "3"]
        let dry = try await lab.mrun(["run", "--dry-run"] + arguments, environment: neptune)
        #expect(dry.status == 0, "\(dry.standardError)")
        #expect(!(dry.standardOutput + dry.standardError).contains(secret), "the dry run shows no secret")

        let (counting, count) = try lab.countingSSH()
        let run = try await lab.mrun(["run"] + arguments, environment: neptune.merging(counting) { $1 })
        #expect(run.status == 0, "\(run.standardError)")
        #expect(!(run.standardOutput + run.standardError).contains(secret))
        // ssh (rsync's too) never had the token on its command line, which ps shows.
        #expect(count() >= 3 && lab.sshArguments.contains("mrun-a"), "the counting ssh ran: \(count())")
        #expect(!lab.sshArguments.contains(secret), "the token is in no ssh argument")
        let started = try #require(run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Started ") })
        #expect(started.contains(" on mrun-a (no GPUs), pid "), "host, GPUs and pid: \(started)")
        let id = try #require(
            run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Launch: ") }.map { String($0.dropFirst(8)) }
        )

        #expect(try await lab.waitFor(id, ["COMPLETED", "FAILED"]) == "FAILED, exit code 3")
        let status = try await lab.mrun(["status", id])
        #expect(status.standardOutput.contains("Host       mrun-a"), "\(status.standardOutput)")
        #expect(status.standardOutput.contains("Pid        "), "the pid is recorded: \(status.standardOutput)")
        let logs = try await lab.mrun(["logs", id])
        #expect(logs.standardOutput.contains(#"args ["--lr", "0.1", "a b", "--sleep", "1", "--code", "3"]"#))
        #expect(logs.standardOutput.contains("token-set yes\n") && logs.standardOutput.contains("done\n"))

        // The token is in the private env file and nowhere else under the workdir.
        let holders = try await lab.remote("grep -rlF -- '\(secret)' '\(lab.workdir)'; true")
        let files = holders.output.split(separator: "\n")
        #expect(files.count == 1 && files[0].hasSuffix("/mrun-a/.mrun/env"), "files holding the token: \(files)")
        let mode = try await lab.remote("stat -c %a '\(files.first ?? "")'")
        #expect(mode.output.trimmingCharacters(in: .whitespacesAndNewlines) == "600")

        let again = try await lab.mrun(["cancel", id])
        #expect(again.status == 0 && again.standardOutput.hasPrefix("Job mrun-a (train-"))
        #expect(again.standardOutput.contains("had already ended: FAILED, exit code 3"), "\(again.standardOutput)")
        try await lab.cleanUp()
    }

    @Test func theExperimentOutlivesTheSSHConnection() async throws {
        let lab = try await SSHSandbox(hosts: ["mrun-a"])
        try lab.sandbox.write(Self.experiment, to: "train.py")
        let run = try await lab.mrun(["run", "train.py", "--", "--sleep", "4"])
        try #require(run.status == 0, "\(run.standardError)")
        let id = try #require(
            run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Launch: ") }.map { String($0.dropFirst(8)) }
        )
        // The ControlMaster mrun left behind (ControlPersist) is asked to exit: the connection goes.
        let sockets = try FileManager.default.contentsOfDirectory(
            atPath: lab.sandbox.mrunHome.appendingPathComponent("ssh").path
        ).filter { $0.hasPrefix("cm-") }
        try #require(sockets.count == 1, "one master connection: \(sockets)")
        let socket = lab.sandbox.mrunHome.appendingPathComponent("ssh/\(sockets[0])").path
        let check = try await SlurmTestbed.shell(["ssh", "-S", socket, "-O", "check", "mrun-a"])
        #expect(check.error.contains("Master running"), "\(check.error)")
        let exit = try await SlurmTestbed.shell(["ssh", "-S", socket, "-O", "exit", "mrun-a"])
        #expect(exit.status == 0, "\(exit.error)")
        #expect(try await lab.state(id) == "RUNNING", "still running after the master went")
        // Followed until it ends: everything it printed, then its state.
        let followed = try await lab.mrun(["logs", "-f", id])
        #expect(followed.status == 0, "\(followed.standardError)")
        #expect(followed.standardOutput.contains("token-set no\ndone\n"), "\(followed.standardOutput)")
        #expect(try await lab.state(id) == "COMPLETED, exit code 0")
        try await lab.cleanUp()
    }

    @Test func anUnreachableHostIsNamedAndNothingStarts() async throws {
        let lab = try await SSHSandbox(hosts: ["mrun-a", "mrun-test@127.0.0.1:1"])
        try lab.sandbox.write(Self.experiment, to: "train.py")
        let secret = "nep-\(UUID().uuidString)"
        let run = try await lab.mrun(["run", "train.py"], environment: ["NEPTUNE_API_TOKEN": secret])
        #expect(run.status != 0)
        let lines = run.standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(
            lines.count == 1 && lines[0].hasPrefix("error: cannot reach mrun-test@127.0.0.1:1 over ssh"), "\(lines)")
        let left = try await lab.remote("find '\(lab.workdir)' -mindepth 2 2>/dev/null; true")
        #expect(
            left.output.isEmpty, "nothing started and nothing (no secret) stayed on the reachable host: \(left.output)")
        let list = try await lab.mrun(["list"])
        #expect(list.standardOutput.contains("failed"), "\(list.standardOutput)")

        let skipping = try await lab.mrun(["run", "--skip-unreachable", "train.py"])
        #expect(skipping.status == 0, "\(skipping.standardError)")
        #expect(skipping.standardOutput.contains(" on mrun-a (no GPUs), pid "), "\(skipping.standardOutput)")
        #expect(
            skipping.standardError.contains("mrun: skipping mrun-test@127.0.0.1:1 (--skip-unreachable): cannot reach"))
        let id = try #require(
            skipping.standardOutput.split(separator: "\n").first { $0.hasPrefix("Launch: ") }.map {
                String($0.dropFirst(8))
            })
        #expect(try await lab.waitFor(id, ["COMPLETED", "FAILED"]) == "COMPLETED, exit code 0")
        try await lab.cleanUp()
    }

    @Test func aHostWithoutThePythonIsOneLine() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--python", "python9.99"], hosts: ["mrun-a"])
        try lab.sandbox.write(Self.experiment, to: "train.py")
        let run = try await lab.mrun(["run", "train.py"], environment: ["NEPTUNE_API_TOKEN": "nep-secret"])
        #expect(run.status != 0)
        #expect(
            run.standardError.hasSuffix(
                "error: python9.99 not found on mrun-a after the context's setup lines; set 'python' to the"
                    + " interpreter there, or activate an environment in 'setup'\n"), "\(run.standardError)")
        let left = try await lab.remote("find '\(lab.workdir)' -name env 2>/dev/null; true")
        #expect(left.output.isEmpty, "no secret stays on a host that cannot run it: \(left.output)")
        try await lab.cleanUp()
    }

    @Test func aRefusedLoginIsOneLineNamingTheHost() async throws {
        let lab = try await SSHSandbox(
            hosts: ["mrun-a", "mrun-refused"], firstConfig: "Host mrun-refused\n    User mrun-nobody\n\n")
        try lab.sandbox.write(Self.experiment, to: "train.py")
        let run = try await lab.mrun(["run", "train.py"])
        #expect(run.status != 0)
        let lines = run.standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(lines.count == 1 && lines[0].hasPrefix("error: mrun-refused refused the ssh login: "), "\(lines)")
        let left = try await lab.remote("find '\(lab.workdir)' -name env -o -name pid 2>/dev/null; true")
        #expect(left.output.isEmpty, "nothing started: \(left.output)")
        try await lab.cleanUp()
    }
}

extension SSHHostTests {
    /// `mrun rm` and the saved log on an ssh host: the point's directory goes, its output stays.
    @Suite struct Removal {
        @Test func removingALaunchDeletesItsPointDirectoryAndKeepsItsOutput() async throws {
            let lab = try await SSHSandbox(hosts: ["mrun-a"])
            try lab.sandbox.write("print('on the host')\n", to: "train.py")
            let run = try await lab.mrun(["run", "train.py"])
            try #require(run.status == 0, "\(run.standardError)")
            let id = try #require(
                run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Launch: ") }.map {
                    String($0.dropFirst(8))
                })
            #expect(try await lab.waitFor(id, ["COMPLETED"]).hasPrefix("COMPLETED"))
            let rm = try await lab.mrun(["rm", id])
            #expect(rm.status == 0, "\(rm.standardError)")
            #expect(rm.standardOutput.contains("point directory mrun-a:"), "\(rm.standardOutput)")
            let directory = try #require(rm.standardOutput.split(separator: ":").last).trimmingCharacters(
                in: .whitespacesAndNewlines)
            #expect(try await lab.remote("test -e '\(directory)'").status == 1, "\(directory) is gone")
            let logs = try await lab.mrun(["logs", id])
            #expect(logs.standardOutput == "on the host\n", "\(logs.standardError)")
            try await lab.cleanUp()
        }
    }
}
