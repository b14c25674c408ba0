import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Launches on an ssh context, through where the history says each runs (``SSHLaunchRecord``):
/// its state from the files of its directory on the host, one round trip per host for any number
/// of launches; its output from the log file there; cancel signals its whole process group.
public struct SSHJobControl: JobControl {
    /// A point whose process is gone without an exit code (``SSHPointState/Phase/lost``) will not
    /// come back: the host rebooted or it was killed.
    public static let unknownIsLost = true

    var context: Context
    var host: HostEnvironment
    var runner: any InputProcessRunning
    var openHistory: OpenHistory
    /// Pause between reads while following output.
    var pollInterval: Duration = .seconds(1)
    /// Seconds a cancelled point gets after TERM before KILL.
    var patience = 10
    /// Where the job commands' scripts come from: the context's templates directory, then
    /// mrun's own (`$MRUN_HOME/templates`), then the built-in ones, as for a plan's.
    var templates: TemplateSet

    public init(
        context: Context, host: HostEnvironment, runner: any InputProcessRunning, templatesDirectory: URL? = nil,
        history: @escaping OpenHistory
    ) {
        self.context = context
        self.host = host
        self.runner = runner
        templates = TemplateSet(
            searchPath: (context.templatesDir.map { [host.resolve($0)] } ?? [])
                + (templatesDirectory.map { [$0] } ?? []))
        openHistory = history
    }

    func session(_ name: String) throws -> SSHSession {
        try SSHSession(
            destination: name, sshConfig: context.ssh.sshConfig, identityFile: context.ssh.identityFile, host: host,
            runner: runner)
    }

    func placement(_ launch: LaunchRecord) throws -> SSHLaunchRecord {
        guard let placed = try openHistory().sshLaunch(id: launch.id) else {
            throw SSHError.unplaced(launch: launch.id)
        }
        return placed
    }

    public func refresh(_ launches: [LaunchRecord]) async throws -> [String: JobStatus] {
        let history = try openHistory()
        var byHost: [String: [(LaunchRecord, SSHLaunchRecord)]] = [:]
        for launch in launches where !launch.state.isFinal && launch.jobId != nil {
            if let placed = try history.sshLaunch(id: launch.id) {
                byHost[placed.host, default: []].append((launch, placed))
            }
        }
        var statuses: [String: JobStatus] = [:]
        for (hostName, group) in byHost.sorted(by: { $0.key < $1.key }) {
            let states = try await query(hostName, group.map(\.1))
            for ((launch, placed), state) in zip(group, states) {
                statuses[launch.id] = try note(state, of: placed, history: history)
            }
        }
        return statuses
    }

    public func status(_ launch: LaunchRecord) async throws -> JobStatus {
        let placed = try placement(launch)
        guard let state = try await query(placed.host, [placed]).first else {
            throw SSHError.unexpectedOutput(host: placed.host, step: "reading the launch's state", output: "")
        }
        return try note(state, of: placed, history: try openHistory())
    }

    public func logs(_ launch: LaunchRecord, follow: Bool, sink: any OutputSink) async throws -> JobStatus {
        let placed = try placement(launch)
        let session = try session(placed.host)
        let counter = CountingSink(sink)
        let log = TemplateFilters.shellQuote(placed.runDirectory + "/output.log")
        while true {
            let status = try await self.status(launch)
            let offset = await counter.count
            // `tail -c +N` starts at byte N (from 1); a log not there yet prints nothing.
            let result = try await session.stream(
                "[ -f \(log) ] && tail -c +\(offset + 1) -- \(log); exit 0", to: counter)
            guard result.status.succeeded else {
                throw SlurmError.remoteCommandFailed(
                    host: placed.host, command: "reading the output",
                    detail: CodeShipper.lastLine(result.standardError, status: result.status))
            }
            if !follow || status.state.isFinal || status.state == .unknown {
                if follow, await counter.count > offset || status.state.isFinal {
                    // The last lines may have landed between the state and the read.
                    let offset = await counter.count
                    _ = try await session.stream(
                        "[ -f \(log) ] && tail -c +\(offset + 1) -- \(log); exit 0", to: counter)
                }
                return status
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    public func cancel(_ launch: LaunchRecord) async throws -> (before: JobStatus, after: JobStatus) {
        let before = try await status(launch)
        guard !before.state.isFinal, before.state != .unknown else { return (before, before) }
        let placed = try placement(launch)
        let result = try await session(placed.host).run(
            try SSHPointQuery.cancel(placed.runDirectory, patience: patience, templates: templates), input: [])
        guard result.status.succeeded else {
            throw SlurmError.remoteCommandFailed(
                host: placed.host, command: "cancelling \(launch.experimentName)",
                detail: result.status == .exited(3)
                    ? "process group \(placed.pid.map(String.init) ?? "") still runs after TERM and KILL"
                    : CodeShipper.lastLine(result.standardError, status: result.status))
        }
        return (before, try await status(launch))
    }

    /// One round trip to `hostName` for the states of `launches`, in order.
    func query(_ hostName: String, _ launches: [SSHLaunchRecord]) async throws -> [SSHPointState] {
        let result = try await session(hostName).run(
            try SSHPointQuery.command(launches.map(\.runDirectory), templates: templates), input: [])
        let states = result.standardOutput.split(whereSeparator: \.isNewline).compactMap { SSHPointState(line: $0) }
        guard result.status.succeeded, states.count == launches.count else {
            throw SSHError.unexpectedOutput(
                host: hostName, step: "reading the launches' state",
                output: String((result.standardOutput + result.standardError).prefix(200)))
        }
        return states
    }

    /// The status of a launch in `state`; a queued point's pid and GPUs, once it started, go to
    /// the history.
    func note(_ state: SSHPointState, of placed: SSHLaunchRecord, history: HistoryStore) throws -> JobStatus {
        var placed = placed
        if let pid = state.pid, placed.pid != pid || placed.gpus != state.gpus {
            placed.pid = pid
            placed.gpus = state.gpus
            try? history.record(placed: [placed])
        }
        var rows: [(String, String)] = [("State", state.summary), ("Host", placed.host)]
        rows.append(("GPUs", placed.gpus.isEmpty ? (state.phase == .queued ? "not yet" : "none") : placed.gpus))
        if let pid = placed.pid { rows.append(("Pid", "\(pid) (its process group and session)")) }
        rows.append(("Directory", placed.runDirectory))
        rows.append(("Output", placed.runDirectory + "/output.log"))
        let details = rows.map { $0.0.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
        return JobStatus(state: state.state, exitCode: state.exitCode, summary: state.summary, details: details)
    }
}

/// Passes output on and counts its bytes: where the next read of a followed log starts.
actor CountingSink: OutputSink {
    let sink: any OutputSink
    private(set) var count = 0

    init(_ sink: any OutputSink) {
        self.sink = sink
    }

    func standardOutput(_ bytes: [UInt8]) async {
        count += bytes.count
        await sink.standardOutput(bytes)
    }

    func standardError(_ bytes: [UInt8]) async {
        await sink.standardError(bytes)
    }
}
