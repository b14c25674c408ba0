import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Starts experiments on ssh hosts, detached: checks every host first (one round trip each, which
/// also writes the private file of secrets from ssh's standard input), places the points on the
/// hosts' free slots, ships the code once per host (rsync, or tar, over the host's one ssh
/// connection), then starts each host's runner in a session of its own and returns. The runner
/// starts the points that fit at once and each queued one when a slot frees.
public struct SSHBackend: Backend {
    public var host: HostEnvironment
    public var store: ConfigStore
    public var sink: any OutputSink
    public var runner: any InputProcessRunning
    public var recorder: LaunchRecorder?

    /// Remote exit statuses of the host check.
    static let setsidMissing: Int32 = 96
    static let directoryFailed: Int32 = 98

    public init(
        host: HostEnvironment, store: ConfigStore, sink: any OutputSink, runner: any InputProcessRunning,
        recorder: LaunchRecorder? = nil
    ) {
        self.host = host
        self.store = store
        self.sink = sink
        self.runner = runner
        self.recorder = recorder
    }

    public init(environment: MrunEnvironment, recorder: LaunchRecorder?) {
        self.init(
            host: environment.host, store: environment.store, sink: environment.sink, runner: environment.runner,
            recorder: recorder)
    }

    public func execute(_ plan: ExperimentPlan) async throws -> Int32 {
        try await launch([plan], base: plan, points: nil, sweepId: nil)
    }

    public func execute(_ sweep: SweepPlan) async throws -> Int32 {
        await sink.standardOutput(Array(SweepPrinter.announcement(sweep).utf8))
        return try await launch(sweep.plans, base: sweep.base, points: sweep.points, sweepId: sweep.id)
    }

    /// A point to start: its plan, and its directory's name on the host (`.mrun/points/NAME`), the
    /// launch's id, unique even when `resume` launches a point again under its name (its name
    /// without a history).
    typealias Point = (plan: ExperimentPlan, directory: String)

    /// A host that was checked: its session, what it reported and its slots.
    struct CheckedHost {
        var name: String
        var session: SSHSession
        var report: SSHHostReport
        var slots: [SSHSlot]
    }

    func launch(_ plans: [ExperimentPlan], base: ExperimentPlan, points: [SweepPoint]?, sweepId: String?)
        async throws -> Int32
    {
        guard let target = base.ssh, let probe = base.artefact(.sshProbe), let runnerScript = base.artefact(.sshRunner),
            let startScript = base.artefact(.sshStart)
        else {
            throw ExperimentError.planMismatch(type: base.context.type, issue: "not an ssh plan")
        }
        let recorded = await RecordedLaunches.record(plans, points: points, sweepId: sweepId, by: recorder)
        var checked: [CheckedHost] = []
        do {
            for name in target.hosts {
                do {
                    checked.append(try await check(name, plan: base, target: target, probe: probe.content))
                } catch SlurmError.ssh(let host, let problem, let detail)
                    where target.skipUnreachable && problem != .other
                {
                    let error = SlurmError.ssh(host: host, problem: problem, detail: detail)
                    await note("mrun: skipping \(host) (--skip-unreachable): \(error)")
                }
            }
            guard !checked.isEmpty else { throw SSHError.noHostReachable(hosts: target.hosts) }
        } catch {
            // Nothing starts unless every host is ready; what the ready ones got (the secrets) goes.
            await recorded.failed()
            await remove(checked, target: target)
            throw error
        }
        let placement = SSHPlacement.assign(points: plans.count, slotCounts: checked.map(\.slots.count))
        guard placement.count == plans.count else {
            await recorded.failed()
            await remove(checked, target: target)
            throw SSHError.noFreeSlot(hosts: target.hosts)
        }
        // A host that got no point keeps neither the secrets nor the empty directory.
        await remove(checked.indices.filter { !placement.contains($0) }.map { checked[$0] }, target: target)
        let directories = plans.indices.map { offset in
            recorded.records.indices.contains(offset) ? recorded.records[offset].id : plans[offset].experiment.name
        }
        var outcome = Outcome()
        for (hostIndex, checkedHost) in checked.enumerated() {
            let offsets = placement.indices.filter { placement[$0] == hostIndex }
            guard !offsets.isEmpty else { continue }
            let hostPoints = offsets.map { (plan: plans[$0], directory: directories[$0]) }
            let started: [String: StartedPoint]
            do {
                started = try await start(
                    hostPoints, on: checkedHost, target: target, base: base,
                    scripts: RunnerScripts(runner: runnerScript, start: startScript, notifier: base.artefact(.notify)))
            } catch {
                // The hosts started already go on; this host's points and the later hosts' never start.
                await outcome.record(in: recorded, backend: self)
                await recorded.failed(at: plans.indices.filter { !outcome.offsets.contains($0) })
                await remove(Array(checked[hostIndex...]), target: target)
                throw error
            }
            outcome.add(
                offsets, directories: directories, on: checkedHost, target: target, started: started,
                records: recorded.records)
            await report(hostPoints, host: checkedHost, started: started)
        }
        await outcome.record(in: recorded, backend: self)
        if points == nil, let id = recorded.firstID { await sink.standardOutput(Array("Launch: \(id)\n".utf8)) }
        await note("mrun: follow it with 'mrun --context \(base.context.name) logs -f \(recorded.firstID ?? "LAUNCH")'")
        return 0
    }

    /// Where the points went: those that started at once, those queued, and their placements.
    struct Outcome {
        var placed: [SSHLaunchRecord] = []
        var started: [Int: String] = [:]
        var queued: [Int: String] = [:]
        var offsets: Set<Int> { Set(started.keys).union(queued.keys) }

        /// The points the host's runner started at once run; the others wait in its queue.
        mutating func add(
            _ offsets: [Int], directories: [String], on host: CheckedHost, target: SSHTarget,
            started points: [String: StartedPoint], records: [LaunchRecord]
        ) {
            let directory = "\(host.report.home)/\(target.hostDir(host.name))/.mrun/points"
            for offset in offsets {
                let name = directories[offset]
                let point = points[name]
                if records.indices.contains(offset) {
                    placed.append(
                        SSHLaunchRecord(
                            launchId: records[offset].id, host: host.name,
                            gpus: point?.gpus.map(String.init).joined(separator: ",") ?? "", pid: point?.pid,
                            runDirectory: "\(directory)/\(name)"))
                }
                if point != nil { started[offset] = host.name } else { queued[offset] = host.name }
            }
        }

        func record(in recorded: RecordedLaunches, backend: SSHBackend) async {
            await recorded.started(started, state: .running)
            await recorded.started(queued, state: .submitted)
            await backend.record(placed)
        }
    }

    /// Removes the experiment's directory from hosts where nothing started (best effort: the
    /// launch failed already, and this must not hide why).
    func remove(_ hosts: [CheckedHost], target: SSHTarget) async {
        for checked in hosts {
            _ = try? await checked.session.run(Self.removal(of: checked.name, target: target))
        }
    }

    /// Checks host `name` and prepares the experiment's directory there (``TemplateSet/Name/sshProbe``),
    /// writing the secrets to its private file from ssh's standard input.
    func check(_ name: String, plan: ExperimentPlan, target: SSHTarget, probe: String) async throws -> CheckedHost {
        let settings = plan.context.ssh
        let session = try SSHSession(
            destination: name, sshConfig: settings.sshConfig, identityFile: settings.identityFile, host: host,
            runner: runner)
        return try await check(
            session, target: target, probe: probe, secrets: plan.secrets, python: plan.experiment.python,
            codeBytes: plan.snapshot.totalBytes)
    }

    func check(
        _ session: SSHSession, target: SSHTarget, probe: String, secrets: [EnvironmentVariable], python: String,
        codeBytes: Int = 0
    ) async throws -> CheckedHost {
        let quote = TemplateFilters.shellQuote
        let command =
            "mrun_host_dir=\(quote(target.hostDir(session.name)))\nmrun_host_label=\(quote(SSHTarget.label(session.name)))\n"
            + probe
        let content = secrets.map { "\($0.name)=\(quote($0.value))\n" }.joined()
        let result = try await session.run(command, input: Array(content.utf8))
        switch result.status {
        case .exited(0): break
        case .exited(Self.setsidMissing): throw SSHError.programMissing(host: session.name, program: "setsid")
        case .exited(Self.directoryFailed):
            throw SSHError.directoryUnwritable(host: session.name, path: target.hostDir(session.name))
        default:
            throw SlurmError.remoteCommandFailed(
                host: session.name, command: "checking the host",
                detail: CodeShipper.lastLine(result.standardError, status: result.status))
        }
        let report: SSHHostReport
        do {
            report = try Self.usable(
                result.standardOutput, host: session.name, target: target, python: python, codeBytes: codeBytes)
        } catch {
            // The check wrote the secrets already; a host that cannot run the launch keeps none.
            _ = try? await session.run(Self.removal(of: session.name, target: target))
            throw error
        }
        if report.nvidiaSMIMissing {
            await note(
                "mrun: nvidia-smi not found on \(session.name) (gpus: auto); it counts as a host without GPUs"
                    + " (max_per_host \(target.maxPerHost))")
        }
        return CheckedHost(
            name: session.name, session: session, report: report,
            slots: SSHPlacement.slots(for: target, report: report))
    }

    /// Removes the directory of `host` and, when no other host's is left in it, the experiment's.
    static func removal(of host: String, target: SSHTarget) -> String {
        let quote = TemplateFilters.shellQuote
        return "rm -rf -- \(quote(target.hostDir(host))); rmdir -- \(quote(target.experimentDir)) 2>/dev/null; true"
    }

    /// The check's report, when the host can run the launch: its python is there and the code fits.
    static func usable(_ output: String, host: String, target: SSHTarget, python: String, codeBytes: Int) throws
        -> SSHHostReport
    {
        guard let report = SSHHostReport(output: output) else {
            throw SSHError.unexpectedOutput(host: host, step: "checking the host", output: String(output.prefix(200)))
        }
        guard report.hasPython else { throw SSHError.pythonMissing(host: host, python: python) }
        if let free = report.freeKilobytes, free * 1024 < codeBytes {
            throw SSHError.diskFull(host: host, path: target.hostDir(host), needed: codeBytes, free: free * 1024)
        }
        return report
    }
}
