import Foundation
import Testing

@testable import MrunKit
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunPlan
@testable import MrunSupport

/// `mrun run --grid ... --parallel auto` on this machine: one point per free GPU at once, no GPU
/// shared, a busy one (nvidia-smi's memory) left out.
@Suite struct LocalGPUSweepTests {
    /// Holds its GPU with a lock file made exclusively (a second holder fails at once), sleeps,
    /// then lets it go; prints the GPU it had.
    static let point = """
        import os, sys, time
        gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "none")
        lock = os.path.join(sys.argv[sys.argv.index("--locks") + 1], "gpu-" + gpu)
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            print("SHARED", gpu, flush=True)
            sys.exit(9)
        print("gpu", gpu, flush=True)
        time.sleep(0.3)
        os.close(fd)
        os.remove(lock)

        """

    @Test func onePointPerListedGPUAndNeverTwoOnOne() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.point, to: "point.py")
        try sandbox.write("name: box\ntype: local\ngpus: [0, 1]\n", to: "box.yaml", in: sandbox.root)
        let add = try await CLI.run(
            ["context", "add", "--from-file", sandbox.root.appendingPathComponent("box.yaml").path], sandbox: sandbox)
        #expect(add.status == 0, "\(add.standardError)")
        let locks = sandbox.root.appendingPathComponent("locks")
        try FileManager.default.createDirectory(at: locks, withIntermediateDirectories: true)
        let run = try await CLI.run(
            [
                "--context", "box", "run", "point.py", "--grid", "x=1,2,3,4,5,6", "--parallel", "auto", "--", "--locks",
                locks.path,
            ],
            sandbox: sandbox)
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        #expect(run.standardError.contains("--parallel auto: one point at a time on each of GPUs 0, 1"))
        let seen = run.standardOutput.split(separator: "\n").filter { $0.contains("] gpu ") }
        #expect(seen.count == 6, "\(run.standardOutput)")
        #expect(Set(seen.map { $0.split(separator: " ").last.map(String.init) ?? "" }) == ["0", "1"])
        #expect(!run.standardOutput.contains("SHARED"))
        let dry = try await CLI.run(
            ["--context", "box", "run", "--dry-run", "point.py", "--grid", "x=1,2", "--parallel", "auto"],
            sandbox: sandbox)
        #expect(dry.standardOutput.contains("one point per free GPU (--parallel auto)"), "\(dry.standardOutput)")
        let bad = try await CLI.run(["run", "point.py", "--grid", "x=1,2", "--parallel", "lots"], sandbox: sandbox)
        #expect(
            bad.status != 0 && bad.standardError.contains("--parallel: lots is neither a number"),
            "\(bad.standardError)")
    }

    @Test func aBusyGPUIsLeftOutAndNoGPUMeansOneAfterAnother() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.point, to: "point.py")
        let bin = sandbox.root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try sandbox.write(
            "#!/bin/sh\necho '0, 7000, 8000'\necho '1, 12, 8000'\necho '2, 0, 8000'\n", to: "nvidia-smi", in: bin,
            mode: 0o755)
        let locks = sandbox.root.appendingPathComponent("locks")
        try FileManager.default.createDirectory(at: locks, withIntermediateDirectories: true)
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try await CLI.run(
            ["run", "point.py", "--grid", "x=1,2,3,4", "--parallel", "auto", "--", "--locks", locks.path],
            sandbox: sandbox, environment: ["PATH": path])
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        let used = Set(
            run.standardOutput.split(separator: "\n").filter { $0.contains("] gpu ") }.compactMap {
                $0.split(separator: " ").last
            })
        #expect(used == ["1", "2"], "GPU 0 is busy: \(run.standardOutput)")

        let none = try await CLI.run(
            ["run", "point.py", "--grid", "x=1,2", "--parallel", "auto", "--", "--locks", locks.path],
            sandbox: sandbox, environment: ["PATH": "/usr/bin:/bin"])
        #expect(none.status == 0, "\(none.standardError)")
        #expect(none.standardError.contains("no free GPU here"), "\(none.standardError)")
        #expect(none.standardOutput.contains("gpu none"))
    }
}
