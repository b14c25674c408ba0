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

        // A workdir with one slot and two queued points: the first runs until the test lets it
        // end, the second waits for its slot, which it claims under the claims' lock once the
        // first ended. Nothing here depends on how fast this machine is.
        let workdir = fixture.sandbox.root.appendingPathComponent("workdir")
        let claims = workdir.appendingPathComponent(".mrun-claims/gpu1")
        let go = workdir.appendingPathComponent("go")
        let batch = ".mrun/runs/b1"
        try fixture.sandbox.write(runner, to: "\(batch)/runner.sh", in: workdir)
        try fixture.sandbox.write(claims.path + "\n", to: "\(batch)/claims", in: workdir)
        try fixture.sandbox.write("- cpu-0\n", to: "\(batch)/slots", in: workdir)
        try fixture.sandbox.write("p1\np2\n", to: "\(batch)/queue", in: workdir)
        let waitForGo = "until [ -e '\(go.path)' ]; do sleep 0.05; done\n"
        try fixture.sandbox.write(waitForGo, to: ".mrun/points/p1/run.sh", in: workdir)
        try fixture.sandbox.write("true\n", to: ".mrun/points/p2/run.sh", in: workdir)

        // Through mrun's own process runner (swift-subprocess), not Foundation's Process.
        let runnerPath = "\(batch)/runner.sh"
        let run = Task {
            try await SystemProcessRunner().run(
                ["/bin/sh", runnerPath], environment: nil, workingDirectory: workdir.path)
        }
        let started = workdir.appendingPathComponent(".mrun/points/p1/pid")
        for _ in 0..<600 where !FileManager.default.fileExists(atPath: started.path) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(FileManager.default.fileExists(atPath: started.path), "the first point started")
        try FileManager.default.removeItem(at: claims.deletingLastPathComponent())
        try fixture.sandbox.write("", to: "go", in: workdir)

        // At most 30 s; a runner still polling then is stopped through the pid it wrote.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            let pid = try String(contentsOf: workdir.appendingPathComponent("\(batch)/runner.pid"), encoding: .utf8)
            if let pid = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) { kill(pid, SIGKILL) }
        }
        let result = try await run.value
        watchdog.cancel()
        #expect(result.status == .exited(97), "the runner ended at once when its claims went: \(result.status)")
        #expect(
            !FileManager.default.fileExists(atPath: workdir.appendingPathComponent(".mrun/points/p2/pid").path),
            "the second point never started")
    }
}
