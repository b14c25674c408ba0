import Foundation
import Testing

@testable import MrunBackends
@testable import MrunConfig
@testable import MrunPlan
@testable import MrunSupport

/// The ssh runner as a script on this machine, without ssh: what it does when its workdir goes.
@Suite struct SSHRunnerScriptTests {
    @Test func aRunnerWhoseWorkdirWasRemovedEndsInsteadOfWaitingForItsLock() async throws {
        let fixture = try PlanFixture()
        var context = Context(name: "lab", type: .ssh)
        context.ssh.hosts = ["gpu1"]
        let spec = SweepSpec(grid: [try SweepAxis.parse("lr=1,2", flag: "--grid")])
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: spec, context: context)
        let runner = try #require(sweep.base.artefact(.sshRunner)?.content)

        // A workdir with one slot and two queued points: the first runs a second, the second
        // waits for its slot, which it claims under the claims' lock once the first ended.
        let workdir = fixture.sandbox.root.appendingPathComponent("workdir")
        let claims = workdir.appendingPathComponent(".mrun-claims/gpu1")
        let batch = ".mrun/runs/b1"
        try fixture.sandbox.write(runner, to: "\(batch)/runner.sh", in: workdir)
        try fixture.sandbox.write(claims.path + "\n", to: "\(batch)/claims", in: workdir)
        try fixture.sandbox.write("- cpu-0\n", to: "\(batch)/slots", in: workdir)
        try fixture.sandbox.write("p1\np2\n", to: "\(batch)/queue", in: workdir)
        for point in ["p1", "p2"] {
            try fixture.sandbox.write("sleep 1\n", to: ".mrun/points/\(point)/run.sh", in: workdir)
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["\(batch)/runner.sh"]
        process.currentDirectoryURL = workdir
        try process.run()
        let started = workdir.appendingPathComponent(".mrun/points/p1/pid")
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: started.path) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(FileManager.default.fileExists(atPath: started.path), "the first point started")
        try FileManager.default.removeItem(at: claims.deletingLastPathComponent())

        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        let ended = !process.isRunning
        if !ended { process.terminate() }
        #expect(ended, "the runner ended within 10 s of its claims going")
        #expect(!ended || process.terminationStatus == 97)
        #expect(
            !FileManager.default.fileExists(atPath: workdir.appendingPathComponent(".mrun/points/p2/pid").path),
            "the second point never started")
    }
}
