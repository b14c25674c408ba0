import Foundation
import MrunKit
import Subprocess
import Testing

/// Tests of ssh contexts against the test bed's real sshd, one at a time (they start processes on
/// the same machine and count them).
@Suite(.serialized) struct SSHHostTests {}

/// An ssh context `lab` whose two hosts are two aliases of the test bed's sshd (an ssh config of
/// the sandbox's own, the test bed's options under both names), shipping under a workdir of the
/// test's own. Each alias gets a directory of its own there, as two machines sharing a home would.
struct SSHSandbox {
    let sandbox: Sandbox
    let sshConfig: String
    let testbedConfig: String
    let workdir: String
    let hosts: [String]

    struct Missing: Error {}

    init(
        contextFlags: [String] = [], hosts: [String] = ["mrun-a", "mrun-b"], standInNvidiaSMI: [String]? = nil,
        firstConfig: String = ""
    ) async throws {
        let bed = try TestBed.load()
        testbedConfig = try bed.require("MRUN_TEST_SSH_CONFIG", component: "sshd")
        sandbox = try Sandbox()
        self.hosts = hosts
        workdir = "mrun-tests/ssh-\(UUID().uuidString.prefix(8).lowercased())"
        // The test bed's options (all but its own Host line) under the aliases.
        let options = try String(contentsOfFile: testbedConfig, encoding: .utf8)
            .split(separator: "\n").drop { !$0.hasPrefix("Host ") }.dropFirst().joined(separator: "\n")
        let config = sandbox.root.appendingPathComponent("ssh_config")
        // `firstConfig` comes first: ssh takes each option from the first block that sets it.
        try Data((firstConfig + "Host \(hosts.joined(separator: " "))\n" + options + "\n").utf8).write(to: config)
        sshConfig = config.path
        let ping = try await remote("echo mrun-ping")
        if ping.status != 0 || !ping.output.contains("mrun-ping") {
            Issue.record("test bed component 'sshd' is down (\(ping.error)); run scripts/testbed/up.sh sshd")
            throw Missing()
        }
        var flags = contextFlags
        if let standInNvidiaSMI { flags += ["--setup", try await installNvidiaSMI(standInNvidiaSMI)] }
        let added = try await mrunAt(
            [
                "context", "add", "--name", "lab", "--type", "ssh", "--hosts", hosts.joined(separator: ","),
                "--ssh_config", sshConfig, "--workdir", workdir,
            ] + flags)
        try #require(added.status == 0, "\(added.standardError)")
    }

    /// A stand-in nvidia-smi under the workdir on the hosts, printing `lines`
    /// (`INDEX, USED, TOTAL`); returns the setup line that puts it on the PATH.
    func installNvidiaSMI(_ lines: [String]) async throws -> String {
        let script = "#!/bin/sh\n" + lines.map { "echo '\($0)'" }.joined(separator: "\n") + "\n"
        let made = try await remote(
            "mkdir -p '\(workdir)/bin' && cat > '\(workdir)/bin/nvidia-smi' && chmod +x '\(workdir)/bin/nvidia-smi'",
            input: script)
        try #require(made.status == 0, "\(made.error)")
        return "PATH=\"$HOME/\(workdir)/bin:$PATH\""
    }

    /// Runs `command` on the test bed's machine as the test user, outside mrun, to check what it did.
    func remote(_ command: String, input: String = "") async throws -> (status: Int32, output: String, error: String) {
        let result = try await Subprocess.run(
            .name("ssh"), arguments: ["-F", testbedConfig, "mrun-testbed", command], input: .string(input),
            output: .string(limit: 1 << 24), error: .string(limit: 1 << 24))
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return (status, result.standardOutput, result.standardError)
    }

    func mrun(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        try await mrunAt(["--context", "lab"] + arguments, environment: environment)
    }

    private func mrunAt(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        try await CLI.run(arguments, sandbox: sandbox, environment: environment)
    }

    /// The `State` line of `mrun status`, e.g. `COMPLETED, exit code 0`.
    func state(_ id: String) async throws -> String {
        let status = try await mrun(["status", id])
        try #require(status.status == 0, "mrun status failed: \(status.standardError)")
        let line = status.standardOutput.split(separator: "\n").first { $0.hasPrefix("State") }
        return line.map { $0.dropFirst("State".count).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    /// Polls `mrun status` until the state starts with one of `states`; returns it.
    func waitFor(_ id: String, _ states: [String], timeout: Duration = .seconds(60)) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var state = ""
        while clock.now < deadline {
            state = try await self.state(id)
            if states.contains(where: state.hasPrefix) { return state }
            try await Task.sleep(for: .milliseconds(300))
        }
        Issue.record("launch \(id) is still \(state) after \(timeout), expected \(states)")
        return state
    }

    /// The launches `mrun list` holds: name, id and recorded state.
    func launches() async throws -> [(name: String, id: String, state: String)] {
        let list = try await mrun(["list", "--output", "json"])
        try #require(list.status == 0, "\(list.standardError)")
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]])
        return rows.compactMap { row in
            guard let name = row["experimentName"] as? String, let id = row["id"] as? String else { return nil }
            return (name, id, row["state"] as? String ?? "")
        }
    }

    /// Each launch's id by its experiment's name (names are unique until a point is resumed).
    func launchIDs() async throws -> [String: String] {
        Dictionary(try await launches().map { ($0.name, $0.id) }) { first, _ in first }
    }

    /// An environment for mrun whose `ssh` (first on the PATH) counts its invocations into a
    /// file and appends its arguments to another (`ssh-count.argv`), then runs the real ssh; and
    /// a reader of the count.
    func countingSSH() throws -> (environment: [String: String], count: @Sendable () -> Int) {
        let bin = sandbox.root.appendingPathComponent("counting-bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let real = try #require(
            ["/usr/bin/ssh", "/bin/ssh", "/usr/local/bin/ssh"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        let counter = sandbox.root.appendingPathComponent("ssh-count").path
        try sandbox.write(
            "#!/bin/sh\necho ssh >> \"$MRUN_TEST_SSH_COUNT\"\nprintf '%s\\n' \"$@\" >> \"$MRUN_TEST_SSH_COUNT.argv\"\n"
                + "exec \(real) \"$@\"\n", to: "ssh", in: bin, mode: 0o755)
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return (
            ["PATH": path, "MRUN_TEST_SSH_COUNT": counter],
            {
                ((try? String(contentsOfFile: counter, encoding: .utf8)) ?? "").split(separator: "\n").count
            }
        )
    }

    /// Every argument the counting ssh was given.
    var sshArguments: String {
        (try? String(contentsOfFile: sandbox.root.appendingPathComponent("ssh-count.argv").path, encoding: .utf8)) ?? ""
    }

    func cleanUp() async throws {
        _ = try await remote("rm -rf -- '\(workdir)'")
    }
}
