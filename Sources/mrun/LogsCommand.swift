import ArgumentParser
import MrunKit

struct LogsCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Print a launch's output; with -f, follow it until the launch ends.",
        // Every option spelled out would make a usage line of about 120 columns, which is not wrapped.
        usage: "mrun logs [<options>] <job>\nmrun logs [<options>] --sweep <sweep> [--failed]",
        discussion: """
            When a launch has ended, mrun keeps its output under $MRUN_HOME/logs and shows that copy, \
            also once the job is gone from its backend. --sweep S prints the last lines of each point \
            of a sweep (--failed: of its failed points only), one after another.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Launch id or prefix, name or pattern; on a Slurm context also a job id (ID_INDEX: a point).")
    var job: String?
    @Flag(name: [.short, .long], help: "Keep printing new output until the launch ends.") var follow = false
    @Option(help: "Only this node of a gang on Kubernetes (0 is rank 0's); without it, every node's lines, prefixed.")
    var node: Int?
    @Option(help: "The points of this sweep (its id or name), each point's last lines.") var sweep: String?
    @Flag(help: "With --sweep: only the points that failed.") var failed = false
    @Option(help: "With --sweep: lines per point (default 20).") var tail = 20

    func validate() throws {
        if let node, node < 0 { throw ValidationError("--node must be 0 or more, got \(node)") }
        if (job == nil) == (sweep == nil) { throw ValidationError("Name a launch, or a sweep with --sweep") }
        if failed && sweep == nil { throw ValidationError("--failed goes with --sweep S") }
        if sweep != nil && (follow || node != nil) {
            throw ValidationError("--sweep prints points' tails: no -f or --node")
        }
        if tail < 1 { throw ValidationError("--tail must be 1 or more, got \(tail)") }
    }

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        if let sweep { return try await sweepTails(sweep, resolver: resolver, environment: environment) }
        let job = self.job ?? ""
        let summary: String
        let pending: Bool
        switch try resolver.resolve(job) {
        case .job(let id, let control):
            if node != nil { throw ValidationError("--node: \(id) is a Slurm job, whose log has every rank's lines") }
            let end = try await control.logs(jobID: id, follow: follow, sink: environment.sink)
            (summary, pending) = (end.summary, end.state == .submitted)
        case .launch(let launch):
            let service = try resolver.service()
            // Followed, the backend says how it ended; else an ended launch's saved copy is enough.
            if launch.state.isFinal, node == nil, !follow, let saved = await service.savedLog(of: launch) {
                Terminal.note(
                    "mrun: launch \(launch.id) has ended (\(launch.state.rawValue)); its output as mrun saved it")
                await environment.sink.standardOutput(saved)
                return
            }
            let end: JobStatus
            do {
                end = try await liveLogs(of: launch, service: service, environment: environment)
            } catch {
                guard let saved = await service.savedLog(of: launch) else { throw error }
                Terminal.note("mrun: \(error); the output mrun saved of launch \(launch.id) follows")
                await environment.sink.standardOutput(saved)
                return
            }
            (summary, pending) = (end.summary, end.state == .submitted)
        }
        if pending && !follow {
            Terminal.note("mrun: job \(job) is PENDING: no output yet; follow it with 'mrun logs -f \(job)'")
        } else if follow {
            Terminal.note("mrun: job \(job) \(summary)")
        }
    }

    /// The backend's log, printed as it comes and, once the launch has ended, saved.
    func liveLogs(of launch: LaunchRecord, service: JobService, environment: MrunEnvironment) async throws
        -> JobStatus
    {
        let control = try service.control(for: launch)
        let tee = TeeSink(environment.sink)
        let end: JobStatus
        if let node {
            end = try await control.logs(launch, node: node, follow: follow, sink: tee)
        } else {
            end = try await control.logs(launch, follow: follow, sink: tee)
        }
        service.record(end, of: launch)
        if end.state.isFinal && node == nil { await service.saveLog(await tee.output, of: launch) }
        return end
    }

    /// Each point's last lines under a header naming it, its state and exit code.
    func sweepTails(_ reference: String, resolver: JobResolver, environment: MrunEnvironment) async throws {
        guard let found = try resolver.sweepLaunches(reference) else { throw RelaunchError.sweepNotFound(reference) }
        let service = try resolver.service()
        let (launches, warnings) = await service.refresh(found.launches)
        for warning in warnings { Terminal.warning(warning) }
        let chosen = launches.filter { !failed || $0.state.isFailure }
            .sorted { ($0.sweepIndex ?? -1, $0.created) < ($1.sweepIndex ?? -1, $1.created) }
        if chosen.isEmpty {
            Terminal.note("mrun: sweep \(found.sweep) has no \(failed ? "failed " : "")points")
            return
        }
        for launch in chosen {
            var state = launch.state.rawValue.uppercased()
            if let code = launch.exitCode, launch.state.isFinal { state += ", exit code \(code)" }
            let point = launch.sweepIndex.map { ", point \($0)" } ?? ""
            let header = "==> \(launch.experimentName) (launch \(launch.id)\(point)): \(state) <==\n"
            await environment.sink.standardOutput(Array(header.utf8))
            var output = await service.savedLog(of: launch)
            if output == nil, let control = try? service.control(for: launch) {
                let capture = CollectingSink()
                if (try? await control.logs(launch, follow: false, sink: capture)) != nil {
                    output = await capture.output
                }
            }
            guard let output else {
                await environment.sink.standardOutput(
                    Array("(no output: its backend has none and mrun saved none)\n".utf8))
                continue
            }
            var lines = JobService.tail(output, lines: tail)
            if lines.last != UInt8(ascii: "\n") && !lines.isEmpty { lines.append(UInt8(ascii: "\n")) }
            await environment.sink.standardOutput(lines)
        }
    }
}
