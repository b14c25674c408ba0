import Foundation
import Subprocess
import Testing

/// Launches that share an ssh host: a later launch waits in its runner's queue for the GPUs and
/// places that an earlier one holds, and starts when they free, with mrun gone.
extension SSHHostTests {
    @Test func aSecondLaunchWaitsOnTheHostForTheGPUsTheFirstHolds() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0,1"], hosts: ["mrun-a"])
        try lab.sandbox.write(Self.point, to: "point.py")
        let events = "\(lab.workdir)/events.log"
        let first = try await lab.mrun(
            ["run", "point.py", "--name", "first", "--grid", "x=0,1", "--", "--sleep", "4", "--events", events])
        try #require(first.status == 0, "\(first.standardError)")
        #expect(first.standardOutput.split(separator: "\n").filter { $0.hasPrefix("Started ") }.count == 2)
        let second = try await lab.mrun(
            ["run", "point.py", "--name", "second", "--grid", "x=0,1,2", "--", "--sleep", "0.5", "--events", events])
        try #require(second.status == 0, "\(second.standardError)")
        let lines = second.standardOutput.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("Queued ") }.count == 3, "both GPUs are held: \(second.standardOutput)")
        #expect(!lines.contains { $0.hasPrefix("Started ") }, "\(second.standardOutput)")

        let sweep = try #require(lines.first { $0.hasPrefix("Sweep ") }?.split(separator: ":").first?.dropFirst(6))
        let waited = try await lab.mrun(["wait", String(sweep)])
        #expect(waited.status == 0, "\(waited.standardOutput)\(waited.standardError)")
        let timeline = try await self.events(lab)
        let text = timeline.map { "\($0.start ? "start" : "end") \($0.time) \($0.gpus) \($0.name)" }
            .joined(separator: "\n")
        #expect(timeline.filter(\.start).count == 5, "every point ran once:\n\(text)")
        var running: [String: Event] = [:]
        for event in timeline {
            if event.start {
                #expect(
                    !running.values.contains { $0.gpus == event.gpus },
                    "GPU \(event.gpus) shared by \(event.name):\n\(text)"
                )
                running[event.name] = event
            } else {
                running[event.name] = nil
            }
        }
        let firstEnds = timeline.filter { !$0.start && $0.name.hasPrefix("first") }.map(\.time)
        let secondStarts = timeline.filter { $0.start && $0.name.hasPrefix("second") }.map(\.time)
        #expect(
            (secondStarts.min() ?? 0) >= (firstEnds.min() ?? .infinity),
            "the second launch started only once a GPU freed:\n\(text)")
        try await lab.cleanUp()
    }

    @Test func maxPerHostCountsThePointsOfEveryLaunch() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0", "--max_per_host", "1"], hosts: ["mrun-a"])
        try lab.sandbox.write(Self.point, to: "point.py")
        let events = "\(lab.workdir)/events.log"
        let first = try await lab.mrun(["run", "point.py", "--name", "first", "--", "--sleep", "3", "--events", events])
        try #require(first.status == 0, "\(first.standardError)")
        #expect(first.standardOutput.contains("on mrun-a (no GPUs), pid "), "\(first.standardOutput)")
        let second = try await lab.mrun([
            "run", "point.py", "--name", "second", "--", "--sleep", "0.2", "--events", events,
        ])
        try #require(second.status == 0, "\(second.standardError)")
        #expect(second.standardOutput.contains("Queued second-"), "\(second.standardOutput)")
        let ids = try await lab.launchIDs()
        let queued = try #require(ids.first { $0.key.hasPrefix("second") }?.value)
        #expect(try await lab.state(queued).hasPrefix("QUEUED"))
        #expect(try await lab.waitFor(queued, ["COMPLETED", "FAILED", "LOST"]) == "COMPLETED, exit code 0")
        let timeline = try await self.events(lab)
        let firstEnd = try #require(timeline.first { !$0.start && $0.name.hasPrefix("first") })
        let secondStart = try #require(timeline.first { $0.start && $0.name.hasPrefix("second") })
        #expect(secondStart.time >= firstEnd.time, "one point at a time on the host")
        try await lab.cleanUp()
    }
}

/// A host whose disk fills up during the code copy: a real file system, too small in files
/// (a tmpfs of 12 inodes, which df's free blocks do not show), mounted over the workdir.
extension SSHHostTests {
    @Test func aDiskThatFillsDuringTheCopyIsOneLineAndNothingStarts() async throws {
        let lab = try await SSHSandbox(hosts: ["mrun-a"])
        let home = try await lab.remote("pwd").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let user = try await lab.remote("id -u").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let mountPoint = "\(home)/\(lab.workdir)"
        try #require(try await lab.remote("mkdir -p '\(lab.workdir)'").status == 0)
        let mount = try await Self.program(
            ["mount", "-t", "tmpfs", "-o", "size=4m,nr_inodes=12,uid=\(user),mode=0755", "tmpfs", mountPoint])
        try #require(mount.status == 0, "mounting a small tmpfs needs root: \(mount.output)")
        do {
            for index in 0..<40 { try lab.sandbox.write("print(\(index))\n", to: "part\(index).py") }
            try lab.sandbox.write("print('never')\n", to: "main.py")
            let run = try await lab.mrun(["run", "main.py"])
            #expect(run.status != 0, "\(run.standardOutput)")
            let lines = run.standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") }
            #expect(lines.count == 1 && lines[0].contains("mrun-a"), "\(run.standardError)")
            #expect(lines.first?.contains("the disk on mrun-a is full") == true, "\(run.standardError)")
            #expect(!run.standardOutput.contains("Started "), "\(run.standardOutput)")
            let pids = try await lab.remote("ls '\(lab.workdir)'/*/*/*/.mrun/points/*/pid 2>/dev/null | wc -l")
            #expect(pids.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "nothing started")
            #expect(try await lab.launches().allSatisfy { $0.state == "failed" }, "the launch is recorded as failed")
        } catch {
            _ = try? await Self.program(["umount", mountPoint])
            throw error
        }
        let unmounted = try await Self.program(["umount", mountPoint])
        #expect(unmounted.status == 0, "\(unmounted.output)")
        try await lab.cleanUp()
    }

    static func program(_ argv: [String]) async throws -> (status: Int32, output: String) {
        let result = try await Subprocess.run(
            .name(argv[0]), arguments: Arguments(Array(argv.dropFirst())), output: .string(limit: 1 << 20),
            error: .string(limit: 1 << 20))
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return (status, (result.standardOutput ?? "") + (result.standardError ?? ""))
    }
}

/// The job commands' scripts come from the context's templates directory too.
extension SSHHostTests {
    @Test func statusReadsTheHostWithTheContextsOwnTemplate() async throws {
        let scratch = try Sandbox()
        let templates = scratch.root.appendingPathComponent("my-templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try Data(
            ("for d in {% for directory in directories %}{{ directory|shellquote }} {% endfor %}; do"
                + " echo 'mrun-point|ended|42|0||'; done\n").utf8
        ).write(to: templates.appendingPathComponent("ssh-status.sh.stencil"))
        let lab = try await SSHSandbox(
            contextFlags: ["--gpus", "0", "--templates_dir", templates.path], hosts: ["mrun-a"])
        try lab.sandbox.write("print('hi')\n", to: "exp.py")
        let run = try await lab.mrun(["run", "exp.py"])
        try #require(run.status == 0, "\(run.standardError)")
        let id = try #require(try await lab.launches().first?.id)
        #expect(try await lab.state(id) == "FAILED, exit code 42", "the context's ssh-status.sh answered")
        try await lab.cleanUp()
    }
}
