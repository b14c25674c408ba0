import Foundation
import Testing

@testable import MrunBackends
@testable import MrunConfig

/// ssh contexts' keys and their bad input, and how points are placed; no host needed.
@Suite struct SSHContextTests {
    @Test func contextAddTakesHostsAndTheSSHKeys() async throws {
        let sandbox = try Sandbox()
        let added = try await CLI.run(
            [
                "context", "add", "--name", "lab", "--type", "ssh", "--hosts", "gpu1,me@box:2200", "--workdir", "exp",
                "--gpus", "0", "--max_per_host", "3", "--setup", "source venv/bin/activate",
            ],
            sandbox: sandbox)
        #expect(added.status == 0, "\(added.standardError)")
        let context = try sandbox.store.loadContext(named: "lab")
        #expect(context.ssh.hosts == ["gpu1", "me@box:2200"])
        #expect(context.ssh.workdir == "exp" && context.slurm.workdir == nil)
        #expect(context.ssh.gpuChoice == .none, "--gpus 0 is a host without GPUs")
        #expect(context.ssh.maxPerHost == 3 && context.ssh.setup == ["source venv/bin/activate"])
    }

    @Test func gpusZeroIsNoneAndAListOfZeroIsGPUZero() throws {
        let none = try ContextParser.parse("name: a\ntype: ssh\nhosts: [h]\ngpus: 0\n", file: "a.yaml")
        #expect(none.ssh.gpuChoice == .none)
        let first = try ContextParser.parse("name: a\ntype: ssh\nhosts: [h]\ngpus: [0]\n", file: "a.yaml")
        #expect(first.ssh.gpuChoice == .indexes([0]))
        let auto = try ContextParser.parse("name: a\ntype: ssh\nhosts: [h]\ngpus: auto\n", file: "a.yaml")
        #expect(auto.ssh.gpuChoice == .detect)
        // Written and read back, each keeps its meaning.
        for context in [none, first, auto] {
            #expect(try ContextParser.parse(ContextWriter.yaml(context), file: "b.yaml") == context)
        }
    }

    @Test(arguments: [
        ("hosts: []\n", "a.yaml:3:8: hosts: ssh contexts need at least one host (an ssh alias or user@host[:port])"),
        ("hosts: [gpu1, gpu1]\n", "a.yaml:3:15: hosts: 'gpu1' is listed twice; each host once"),
        ("hosts: [h]\ngpus: [0, 0]\n", "a.yaml:4:7: gpus: 0 is listed twice; each GPU once"),
        (
            "hosts: [h]\ngpus: -1\n",
            "a.yaml:4:7: gpus: '-1' is not a GPU index; write auto, 0 (no GPUs) or a list such as [0, 1]"
        ),
        ("hosts: [h]\nmax_per_host: 0\n", "a.yaml:4:15: max_per_host must be 1 or more, got 0"),
        ("gpus: auto\n", "a.yaml:1:1: hosts: ssh contexts need at least one host (an ssh alias or user@host[:port])"),
        ("hosts: [h]\npartition: p\n", "a.yaml:4:1: key 'partition' applies to slurm contexts, not ssh ones"),
    ])
    func badInputIsOneLine(body: String, message: String) async throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("name: lab\ntype: ssh\n" + body, to: "a.yaml")
        let added = try await CLI.run(["context", "add", "--from-file", file.path], sandbox: sandbox)
        #expect(added.status != 0)
        let error = added.standardError.replacingOccurrences(of: file.deletingLastPathComponent().path + "/", with: "")
        #expect(error == "error: \(message)\n")
    }

    @Test func theExampleContextParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("Contexts/lab.yaml").path
        let context = try ContextParser.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(context.type == .ssh && context.ssh.hosts == ["gpu1", "gpu2"] && context.ssh.gpuChoice == .detect)
    }

    @Test func pointsGoToHostsInProportionToTheirSlots() {
        #expect(SSHPlacement.assign(points: 6, slotCounts: [4, 2]).filter { $0 == 0 }.count == 4)
        #expect(SSHPlacement.assign(points: 4, slotCounts: [2, 2]) == [0, 1, 0, 1])
        #expect(SSHPlacement.assign(points: 3, slotCounts: [0, 1]) == [1, 1, 1])
        #expect(SSHPlacement.assign(points: 2, slotCounts: [0, 0]).isEmpty, "no slot anywhere places nothing")
    }

    @Test func busyAndHeldGPUsAreNotFree() throws {
        let output = """
            banner
            mrun-home=/home/u
            mrun-tool=rsync
            mrun-python=yes
            mrun-held=3
            mrun-gpu=0, 10, 16000
            mrun-gpu=1, 9000, 16000
            mrun-gpu=2, 0, 16000
            mrun-gpu=3, 0, 16000
            """
        let report = try #require(SSHHostReport(output: output))
        #expect(report.home == "/home/u" && report.tool == .rsync && report.hasPython && report.held == [3])
        var target = SSHTarget(
            hosts: ["h"], workdir: "w", experimentDir: "w/p/e", setup: [], detectGpus: true, gpus: [], maxPerHost: 2,
            gpusPerPoint: 1)
        // GPU 1 is busy with something else; GPU 3 is held by an mrun point, which the runner waits for.
        #expect(SSHPlacement.slots(for: target, report: report).map(\.gpus) == [[0], [2], [3]])
        #expect(SSHPlacement.slots(for: target, report: report).map(\.line) == ["0 gpu-0", "2 gpu-2", "3 gpu-3"])
        target.gpusPerPoint = 2
        #expect(SSHPlacement.slots(for: target, report: report).map(\.line) == ["0,2 gpu-0,gpu-2"])
        let missing = try #require(SSHHostReport(output: "mrun-home=/h\nmrun-python=yes\nmrun-gpu=missing\n"))
        #expect(missing.nvidiaSMIMissing)
        #expect(SSHPlacement.slots(for: target, report: missing).map(\.line) == ["- cpu-0", "- cpu-1"])
        #expect(target.claimsDir("user@gpu-1:22", home: "/home/u") == "/home/u/w/.mrun-claims/user_gpu-1_22")
    }

    @Test func aHostWithoutRoomForTheCodeOrWithoutThePythonIsRefused() throws {
        let target = SSHTarget(
            hosts: ["h"], workdir: "w", experimentDir: "w/p/e", setup: [], detectGpus: false, gpus: [], maxPerHost: 1,
            gpusPerPoint: 1)
        let full = "mrun-home=/home/u\nmrun-python=yes\nmrun-free-kb=1\n"
        #expect(throws: SSHError.diskFull(host: "h", path: "w/p/e/h", needed: 5000, free: 1024)) {
            try SSHBackend.usable(full, host: "h", target: target, python: "python3", codeBytes: 5000)
        }
        #expect(throws: SSHError.pythonMissing(host: "h", python: "python3")) {
            try SSHBackend.usable(
                "mrun-home=/home/u\nmrun-python=no\n", host: "h", target: target, python: "python3", codeBytes: 1)
        }
        #expect(throws: SSHError.unexpectedOutput(host: "h", step: "checking the host", output: "motd")) {
            try SSHBackend.usable("motd", host: "h", target: target, python: "python3", codeBytes: 1)
        }
        #expect(
            SSHError.diskFull(host: "h", path: "w/p/e/h", needed: 5000, free: 1024).description
                == "not enough space for the code on h (w/p/e/h): 5000 bytes needed, 1024 free; free some space or set"
                + " 'workdir' to another disk")
    }

    @Test func gpuFlagsListSeveralWithCommas() throws {
        let parsed = try ContextFlags.parse(["--name", "a", "--type", "ssh", "--hosts", "h", "--gpus", "0,1"])
        let context = try ContextFlags.context(from: parsed, base: nil)
        #expect(context.ssh.gpuChoice == .indexes([0, 1]))
    }
}
