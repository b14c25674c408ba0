import Foundation
import Testing

/// Sweeps on ssh hosts: placement on free GPUs, the hosts' runners, cancel.
extension SSHHostTests {
    /// Appends `start`/`end` events (time, host directory, CUDA_VISIBLE_DEVICES, name) to the file
    /// `--events` names (relative to the home), sleeping `--sleep` between; point `--x 7` fails.
    static let point = """
        import os, sys, time
        args = sys.argv[1:]
        def option(name, default):
            return args[args.index(name) + 1] if name in args else default
        events = os.path.expanduser("~/" + option("--events", "events.log"))
        where = os.path.basename(os.getcwd())
        gpus = os.environ.get("CUDA_VISIBLE_DEVICES", "-")
        name = os.environ["MRUN_EXPERIMENT"]
        def event(kind):
            with open(events, "a") as f:
                f.write("%s %f %s %s %s\\n" % (kind, time.time(), where, gpus, name))
        event("start")
        if not os.path.exists(os.path.expanduser("~/" + option("--fast-if", "no-such-file"))):
            time.sleep(float(option("--sleep", "1")))
        event("end")
        sys.exit(3 if option("--x", "0") == "7" else 0)

        """

    struct Event {
        var start: Bool
        var time: Double
        var host: String
        var gpus: String
        var name: String
    }

    func events(_ lab: SSHSandbox) async throws -> [Event] {
        let text = try await lab.remote("cat '\(lab.workdir)/events.log'").output
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 5, let time = Double(fields[1]) else { return nil }
            return Event(start: fields[0] == "start", time: time, host: fields[2], gpus: fields[3], name: fields[4])
        }.sorted { $0.time < $1.time }
    }

    @Test func aSweepRunsOnePointPerGPUWithoutMrunAndEveryPointOnce() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0,1"])
        try lab.sandbox.write(Self.point, to: "point.py")
        let clock = ContinuousClock()
        let began = clock.now
        let run = try await lab.mrun(
            [
                "run", "point.py", "--grid", "x=0,1,2,3,4,5,6,7,8,9", "--", "--sleep", "1.5", "--events",
                "\(lab.workdir)/events.log",
            ])
        let took = clock.now - began
        try #require(run.status == 0, "\(run.standardError)")
        let lines = run.standardOutput.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("Started ") }.count == 4, "\(run.standardOutput)")
        #expect(lines.filter { $0.hasPrefix("Queued ") }.count == 6, "mrun returns with points queued")
        #expect(took < .seconds(15), "mrun returns right after submitting, took \(took)")
        let sweep = try #require(lines.first { $0.hasPrefix("Sweep ") }?.split(separator: ":").first?.dropFirst(6))

        let waited = try await lab.mrun(["wait", String(sweep)])
        #expect(waited.status == 3, "wait ends with the failed point's code: \(waited.standardOutput)")
        let events = try await events(lab)
        let starts = events.filter(\.start)
        #expect(
            starts.count == 10 && Set(starts.map(\.name)).count == 10, "every point ran once: \(starts.map(\.name))")
        var running: [String: Event] = [:]
        var most = 0
        // Every event, so that a failure shows the whole timeline.
        let timeline = events.map { "\($0.start ? "start" : "end") \($0.time) \($0.host) \($0.gpus) \($0.name)" }
            .joined(separator: "\n")
        for event in events {
            if event.start {
                #expect(
                    !running.values.contains { $0.host == event.host && $0.gpus == event.gpus },
                    "GPU \(event.gpus) on \(event.host) shared by \(event.name):\n\(timeline)")
                #expect(["0", "1"].contains(event.gpus), "a point without its GPU: \(event.gpus)")
                running[event.name] = event
                most = max(most, running.count)
            } else {
                running[event.name] = nil
            }
        }
        #expect(most <= 4 && most >= 2, "at most 4 at once, got \(most):\n\(timeline)")
        #expect(Set(starts.map(\.host)).count == 2, "both hosts ran points")
        let ids = try await lab.launchIDs()
        let failed = try #require(ids.first { $0.key.hasSuffix("-7") }?.value)
        #expect(try await lab.state(failed) == "FAILED, exit code 3")
        let completed = try #require(ids.first { $0.key.hasSuffix("-0") }?.value)
        #expect(try await lab.state(completed) == "COMPLETED, exit code 0")
        try await lab.cleanUp()
    }

    @Test func detectionSkipsABusyGPUAndAMissingNvidiaSMIIsSaidOnce() async throws {
        let lab = try await SSHSandbox(
            hosts: ["mrun-a"], standInNvidiaSMI: ["0, 100, 16000", "1, 15000, 16000", "2, 0, 16000"])
        try lab.sandbox.write(Self.point, to: "point.py")
        let run = try await lab.mrun(
            ["run", "point.py", "--grid", "x=0,1,2", "--", "--sleep", "0.2", "--events", "\(lab.workdir)/events.log"])
        try #require(run.status == 0, "\(run.standardError)")
        let started = run.standardOutput.split(separator: "\n").filter { $0.hasPrefix("Started ") }
        #expect(started.count == 2 && started[0].contains("(GPU 0)") && started[1].contains("(GPU 2)"), "\(started)")
        #expect(run.standardOutput.contains("Queued "), "the third point waits for a GPU")

        let plain = try await SSHSandbox(hosts: ["mrun-a", "mrun-b"])
        try plain.sandbox.write(Self.point, to: "point.py")
        let cpu = try await plain.mrun(
            ["run", "point.py", "--grid", "x=0,1", "--", "--sleep", "0.2", "--events", "\(plain.workdir)/events.log"])
        try #require(cpu.status == 0, "\(cpu.standardError)")
        let notes = cpu.standardError.split(separator: "\n").filter { $0.contains("nvidia-smi not found") }
        #expect(notes.count == 2 && notes[0].contains("on mrun-a") && notes[1].contains("on mrun-b"), "\(notes)")
        #expect(
            cpu.standardOutput.contains("on mrun-a (no GPUs)") && cpu.standardOutput.contains("on mrun-b (no GPUs)"))
        _ = try await lab.mrun(["wait", "point-*"])
        _ = try await plain.mrun(["wait", "point-*"])
        try await lab.cleanUp()
        try await plain.cleanUp()
    }

    @Test func cancellingASweepStopsEveryGroupAndQueuedPointsNeverStart() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0"])
        try lab.sandbox.write(Self.point, to: "point.py")
        let run = try await lab.mrun(
            [
                "run", "point.py", "--grid", "x=0,1,2,3,4,5", "--", "--sleep", "60", "--events",
                "\(lab.workdir)/events.log",
            ])
        try #require(run.status == 0, "\(run.standardError)")
        let sweep = try #require(
            run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Sweep ") }?.split(separator: ":").first?
                .dropFirst(6))
        let pids = try await lab.remote("cat '\(lab.workdir)'/*/*/*/.mrun/points/*/pid").output
            .split(separator: "\n").map(String.init)
        #expect(pids.count == 2, "one point runs per host: \(pids)")
        // `list` asks each host once for all its launches.
        let (counting, count) = try lab.countingSSH()
        let list = try await lab.mrun(["list"], environment: counting)
        #expect(list.status == 0, "\(list.standardError)")
        #expect(count() == 2, "one ssh round trip per host for 6 launches, got \(count())")
        #expect(list.standardOutput.split(separator: "\n").filter { $0.contains(" running ") }.count == 2)
        #expect(list.standardOutput.split(separator: "\n").filter { $0.contains(" submitted ") }.count == 4)
        let cancelled = try await lab.mrun(["cancel", "--sweep", String(sweep)])
        #expect(cancelled.status == 0, "\(cancelled.standardError)")
        #expect(
            cancelled.standardOutput.split(separator: "\n").filter { $0.hasPrefix("Cancelled ") }.count == 6,
            "\(cancelled.standardOutput)")
        for pid in pids {
            let group = try await lab.remote("pgrep -g \(pid) || echo none")
            #expect(group.output == "none\n", "process group \(pid) is gone: \(group.output)")
        }
        try await Task.sleep(for: .seconds(5))
        let started = try await events(lab).filter(\.start)
        #expect(started.count == 2, "the queued points never started: \(started.map(\.name))")
        let ids = try await lab.launchIDs()
        for id in ids.values { #expect(try await lab.state(id).hasPrefix("CANCELLED")) }
        try await lab.cleanUp()
    }

    /// Resume asks the host itself: no list or status needs to have seen the points lost.
    @Test func resumeFindsLostPointsByItself() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0"], hosts: ["mrun-a"])
        try lab.sandbox.write(Self.point, to: "point.py")
        let fast = "\(lab.workdir)/fast"
        let run = try await lab.mrun(
            ["run", "point.py", "--grid", "x=0,1", "--", "--sleep", "60", "--fast-if", fast])
        try #require(run.status == 0, "\(run.standardError)")
        let sweep = try #require(
            run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Sweep ") }?.split(separator: ":").first?
                .dropFirst(6))
        let reboot = try await lab.remote(
            "cd '\(lab.workdir)' && for d in */*/mrun-a/.mrun; do kill -KILL \"$(cat \"$d\"/runs/*/runner.pid)\";"
                + " for p in \"$d\"/points/*/pid; do kill -KILL -- \"-$(cat \"$p\")\"; echo other > \"${p%/pid}/boot-id\"; done;"
                + " done")
        try #require(reboot.status == 0, "\(reboot.error)")
        _ = try await lab.remote("touch '\(fast)'")
        let resumed = try await lab.mrun(["resume", String(sweep)])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        let again = try await lab.launches().filter { $0.state != "unknown" }
        #expect(again.count == 2, "both points launched again: \(again)")
        for launch in again {
            #expect(try await lab.waitFor(launch.id, ["COMPLETED", "FAILED", "LOST"]) == "COMPLETED, exit code 0")
        }
        try await lab.cleanUp()
    }

    @Test func pointsOfARebootedHostAreLostAndResumeStartsThemAgain() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0"], hosts: ["mrun-a"])
        try lab.sandbox.write(Self.point, to: "point.py")
        let fast = "\(lab.workdir)/fast"
        let run = try await lab.mrun(
            [
                "run", "point.py", "--grid", "x=0,1", "--", "--sleep", "60", "--fast-if", fast, "--events",
                "\(lab.workdir)/events.log",
            ])
        try #require(run.status == 0, "\(run.standardError)")
        let sweep = try #require(
            run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Sweep ") }?.split(separator: ":").first?
                .dropFirst(6))
        // A reboot, as the host's files see it: the runner and the point gone, another boot id.
        let reboot = try await lab.remote(
            "cd '\(lab.workdir)' && for d in */*/mrun-a/.mrun; do kill -KILL \"$(cat \"$d\"/runs/*/runner.pid)\";"
                + " for p in \"$d\"/points/*/pid; do kill -KILL -- \"-$(cat \"$p\")\"; echo other > \"${p%/pid}/boot-id\"; done;"
                + " done")
        try #require(reboot.status == 0, "\(reboot.error)")
        let list = try await lab.mrun(["list"])
        #expect(
            list.standardOutput.split(separator: "\n").filter { $0.contains(" unknown ") }.count == 2,
            "\(list.standardOutput)")
        let lost = try #require(try await lab.launches().first { $0.name.hasSuffix("-0") })
        #expect(try await lab.state(lost.id).hasPrefix("LOST (its process is gone without an exit code"))

        _ = try await lab.remote("touch '\(fast)'")
        let resumed = try await lab.mrun(["resume", String(sweep)])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        let again = try await lab.launches().filter { $0.state != "unknown" }
        if again.count != 2 {
            // What the host's files said, so that a failure explains itself (seen once in many runs).
            let files = try await lab.remote(
                "cd '\(lab.workdir)' && tail -n +1 */*/*/.mrun/points/*/* */*/*/.mrun/runs/*/* 2>&1 | head -c 6000")
            Issue.record("both points launched again, not \(again)\n\(resumed.standardError)\n\(files.output)")
        }
        for launch in again {
            let end = try await lab.waitFor(launch.id, ["COMPLETED", "FAILED", "LOST"])
            if end != "COMPLETED, exit code 0" {
                // What the host's files and the log said, so that a failure explains itself.
                let status = try await lab.mrun(["status", launch.id]).standardOutput
                let logs = try await lab.mrun(["logs", launch.id]).standardOutput
                let files = try await lab.remote(
                    "cd '\(lab.workdir)' && tail -n +1 */*/*/.mrun/points/*/* 2>&1 | head -c 4000")
                Issue.record("\(launch.name): \(end)\n\(status)\n\(logs)\n\(files.output)")
            }
        }
        try await lab.cleanUp()
    }

    @Test func resumingACancelledPointLeavesTheRunningBatchAlone() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0"], hosts: ["mrun-a"])
        try lab.sandbox.write(Self.point, to: "point.py")
        let run = try await lab.mrun(
            ["run", "point.py", "--grid", "x=0,1,2", "--", "--sleep", "60", "--events", "\(lab.workdir)/events.log"])
        try #require(run.status == 0, "\(run.standardError)")
        let sweep = try #require(
            run.standardOutput.split(separator: "\n").first { $0.hasPrefix("Sweep ") }?.split(separator: ":").first?
                .dropFirst(6))
        let ids = try await lab.launchIDs()
        let last = try #require(ids.first { $0.key.hasSuffix("-2") }?.value)
        let cancelled = try await lab.mrun(["cancel", last])
        #expect(cancelled.status == 0, "\(cancelled.standardError)")
        #expect(cancelled.standardOutput.hasSuffix(": CANCELLED (before it started)\n"), "\(cancelled.standardOutput)")
        let resumed = try await lab.mrun(["resume", String(sweep)])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        // max_per_host counts every mrun point on the host: the resumed point waits for point 0's place.
        #expect(resumed.standardOutput.contains("Queued point-"), "\(resumed.standardOutput)")
        // The first batch still runs point 0 and holds point 1 in its queue.
        let first = try #require(ids.first { $0.key.hasSuffix("-0") }?.value)
        let second = try #require(ids.first { $0.key.hasSuffix("-1") }?.value)
        #expect(try await lab.state(first) == "RUNNING")
        #expect(try await lab.state(second).hasPrefix("QUEUED"), "the earlier batch's queue is its own")
        let all = try await lab.mrun(["cancel", "--sweep", String(sweep)])
        #expect(all.status == 0, "\(all.standardError)")
        try await lab.cleanUp()
    }
}
