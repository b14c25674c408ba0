import Foundation
import Testing

/// Notifications an ssh launch sends itself: a point's run script at its end, a sweep's runner
/// once the sweep's points on the host ended; the webhook URL only in the host's 0600 env file.
extension SSHHostTests {
    func posts(_ receiver: WebhookReceiver, where keep: ([String: Any]) -> Bool) async throws -> [[String: Any]] {
        var posts: [[String: Any]] = []
        for _ in 0..<300 where posts.isEmpty {
            posts = try receiver.posts().filter(keep)
            try await Task.sleep(for: .milliseconds(100))
        }
        return posts
    }

    @Test func aLaunchPostsItsEndAndASweepOnceFromTheHost() async throws {
        let scratch = try Sandbox()
        let receiver = try WebhookReceiver(in: scratch)
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0", "--notify", receiver.url], hosts: ["mrun-a"])
        try lab.sandbox.write("print('last words')\nraise SystemExit(3)\n", to: "exp.py")
        let run = try await lab.mrun(["run", "exp.py"])
        try #require(run.status == 0, "\(run.standardError)")
        #expect(!run.standardError.contains("sent from here"), "the launch tells the receiver itself")
        let ends = try await posts(receiver) { $0["exit_code"] != nil }
        #expect(ends.count == 1, "\(ends)")
        #expect(ends.first?["state"] as? String == "failed" && ends.first?["exit_code"] as? Int == 3, "\(ends)")
        #expect((ends.first?["log_tail"] as? [String])?.contains("last words") == true, "\(ends)")
        let launch = try #require(try await lab.launches().first)
        #expect(ends.first?["launch"] as? String == launch.id, "the message names the launch: \(ends)")

        try lab.sandbox.write("import sys\nraise SystemExit(int(sys.argv[-1]) % 2)\n", to: "exp.py")
        let sweep = try await lab.mrun(["run", "exp.py", "--grid", "x=1,2,3"])
        try #require(sweep.status == 0, "\(sweep.standardError)")
        let sweeps = try await posts(receiver) { $0["counts"] != nil }
        #expect(sweeps.count == 1, "\(sweeps)")
        #expect(sweeps.first?["counts"] as? [String: Int] == ["completed": 1, "failed": 2], "\(sweeps)")
        #expect(sweeps.first?["host"] as? String == "mrun-a", "\(sweeps)")
        try await Task.sleep(for: .milliseconds(500))
        let all = try receiver.posts()
        #expect(all.count == 2, "one for the launch, one for the sweep: \(all)")
        let holders = try await lab.remote("grep -rl -- '\(receiver.secret)' '\(lab.workdir)' || true")
        let files = holders.output.split(separator: "\n")
        #expect(files.count == 2 && files.allSatisfy { $0.hasSuffix("/.mrun/env") }, "\(holders.output)")
        let modes = try await lab.remote("stat -c %a '\(lab.workdir)'/*/*/*/.mrun/env").output
        #expect(modes.split(separator: "\n").allSatisfy { $0 == "600" }, "\(modes)")
        try await lab.cleanUp()
    }
}
