import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Launches on this machine: the mrun process that runs one records its process id when it starts
/// and its end; this control reads that, checks that the process still runs, reads the run
/// directory's `output.log` and signals the process.
///
/// A process counts as the launch's only while its environment names the launch's experiment
/// (`MRUN_EXPERIMENT`, read from `/proc`), so a process id reused later is never taken for it.
public struct LocalJobControl: JobControl {
    /// The history, opened when first needed: `mrun list --all` makes this control only to learn
    /// that it lists nothing of its own.
    var openHistory: OpenHistory
    /// Pause between checks while following output or waiting for a cancelled run to end.
    var pollInterval: Duration = .milliseconds(200)
    /// How long the mrun running a launch gets to record its end after the process ended.
    var recordGrace: Duration = .seconds(1)

    public init(history: @escaping OpenHistory) {
        openHistory = history
    }

    public init(history: HistoryStore) {
        self.init(history: { history })
    }

    public func refresh(_ launches: [LaunchRecord]) async throws -> [String: JobStatus] {
        var statuses: [String: JobStatus] = [:]
        for launch in launches where !launch.state.isFinal && launch.jobId != nil {
            statuses[launch.id] = try await status(launch)
        }
        return statuses
    }

    public func status(_ launch: LaunchRecord) async throws -> JobStatus {
        var current = try openHistory().launch(id: launch.id) ?? launch
        if !current.state.isFinal, let pid = current.jobId, !Self.isRunning(pid, name: current.experimentName) {
            // The process ended: the mrun running it records how, unless it ended too (then the
            // launch is `unknown` already, and there is nothing to wait for).
            if current.state != .unknown { current = try await recorded(current, within: recordGrace) }
            if !current.state.isFinal { current.state = .unknown }
        }
        return Self.status(current)
    }

    public func logs(_ launch: LaunchRecord, follow: Bool, sink: any OutputSink) async throws -> JobStatus {
        guard let directory = launch.runDirectory else {
            throw JobControlError.noJob(launch: launch.id, name: launch.experimentName)
        }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("output.log").path
        var offset: UInt64 = 0
        while true {
            let status = try await self.status(launch)
            let exists = FileManager.default.fileExists(atPath: path)
            if exists { offset = try await Self.copy(path, from: offset, to: sink) }
            if !follow || status.state.isFinal || status.state == .unknown {
                if !exists && !follow && status.state != .submitted {
                    throw JobControlError.noOutput(launch: launch.id, path: path)
                }
                // The last lines may have landed between the check and the copy.
                if exists && follow { _ = try await Self.copy(path, from: offset, to: sink) }
                return status
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    public func cancel(_ launch: LaunchRecord) async throws -> (before: JobStatus, after: JobStatus) {
        let before = try await status(launch)
        guard !before.state.isFinal, before.state != .unknown else { return (before, before) }
        guard let pid = launch.jobId, let process = Int32(pid) else {
            throw JobControlError.noJob(launch: launch.id, name: launch.experimentName)
        }
        let clock = ContinuousClock()
        for (signal, patience) in [(SIGTERM, Duration.seconds(10)), (SIGKILL, Duration.seconds(5))] {
            if Self.isRunning(pid, name: launch.experimentName) { kill(process, signal) }
            let deadline = clock.now.advanced(by: patience)
            while clock.now < deadline && Self.isRunning(pid, name: launch.experimentName) {
                try await Task.sleep(for: pollInterval)
            }
            if !Self.isRunning(pid, name: launch.experimentName) { break }
        }
        if Self.isRunning(pid, name: launch.experimentName) {
            throw JobControlError.notStopped(launch: launch.id, pid: pid)
        }
        var after = try await recorded(launch, within: recordGrace)
        if !after.state.isFinal {
            // Nobody else will record it: the mrun that ran it is gone too.
            after.state = .cancelled
            try openHistory().refresh([launch.id: (.cancelled, nil)])
        }
        return (before, Self.status(after))
    }

    /// The launch as the history holds it, waiting up to `grace` for its final state.
    func recorded(_ launch: LaunchRecord, within grace: Duration) async throws -> LaunchRecord {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: grace)
        var current = try openHistory().launch(id: launch.id) ?? launch
        while !current.state.isFinal && clock.now < deadline {
            try await Task.sleep(for: pollInterval)
            current = try openHistory().launch(id: launch.id) ?? current
        }
        return current
    }

    static func status(_ launch: LaunchRecord) -> JobStatus {
        var summary = launch.state.rawValue.uppercased()
        if launch.state.isFinal, let code = launch.exitCode {
            summary += code > 128 && launch.state == .cancelled ? ", signal \(code - 128)" : ", exit code \(code)"
        }
        if launch.state == .unknown { summary += " (the mrun running it ended without recording how it ended)" }
        var rows = [("Job", (launch.jobId.map { "process \($0)" } ?? "not started") + " (\(launch.experimentName))")]
        rows.append(("State", summary))
        if let directory = launch.runDirectory {
            rows.append(("Directory", directory))
            rows.append(("Output", URL(fileURLWithPath: directory).appendingPathComponent("output.log").path))
        }
        let details = rows.map { $0.0.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
        return JobStatus(
            state: launch.state, exitCode: launch.exitCode, summary: summary, details: details)
    }

    /// Whether process `pid` runs and is this experiment's. Without `/proc` (macOS), whether it runs.
    static func isRunning(_ pid: String, name: String) -> Bool {
        guard let process = Int32(pid), process > 0 else { return false }
        guard kill(process, 0) == 0 || errno == EPERM else { return false }
        let proc = "/proc/\(process)"
        guard FileManager.default.fileExists(atPath: "/proc/self/environ") else { return true }
        // A zombie or another user's process has no readable environment: not ours, or ended.
        guard let environment = FileManager.default.contents(atPath: proc + "/environ") else { return false }
        let marker = Array("MRUN_EXPERIMENT=\(name)".utf8)
        return environment.split(separator: 0).contains { Array($0) == marker }
    }

    /// Copies the file from `offset` to `sink`; returns the new offset.
    static func copy(_ path: String, from offset: UInt64, to sink: any OutputSink) async throws -> UInt64 {
        guard let handle = FileHandle(forReadingAtPath: path) else { return offset }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        var position = offset
        while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
            await sink.standardOutput(Array(chunk))
            position += UInt64(chunk.count)
        }
        return position
    }
}
