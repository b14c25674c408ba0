import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Runs the experiment on this machine: copies the code snapshot into a fresh run directory under
/// `$MRUN_HOME/runs`, runs the command there with the plan's environment, streams its output live
/// (and into `output.log`), forwards Ctrl-C, and returns the experiment's exit status.
public struct LocalBackend<Sink: OutputSink>: Backend {
    public var host: HostEnvironment
    public var sink: Sink
    /// Records each run in the history: before it starts, its process id, how it ended.
    public var recorder: LaunchRecorder?

    public init(host: HostEnvironment, sink: Sink, recorder: LaunchRecorder? = nil) {
        self.host = host
        self.sink = sink
        self.recorder = recorder
    }

    public func execute(_ plan: ExperimentPlan) async throws -> Int32 {
        try await execute(plan, sweepId: nil, point: nil)
    }

    /// Runs `plan`, a sweep's point when `point` is given, recorded in the history.
    func execute(_ plan: ExperimentPlan, sweepId: String?, point: SweepPoint?) async throws -> Int32 {
        let recorded = await RecordedLaunches.record(
            [plan], points: point.map { [$0] }, sweepId: sweepId, by: recorder)
        do {
            let status = try await run(plan, recorded: recorded)
            let (state, code) = Self.outcome(status)
            await recorded.finished(state: state, exitCode: code)
            return status.shellCode
        } catch {
            await recorded.failed()
            throw error
        }
    }

    /// A local run's state and exit code in the history: signals mrun forwards (and the shell's
    /// codes for them) mean it was interrupted or cancelled.
    static func outcome(_ status: ExitStatus) -> (JobState, Int32) {
        let interrupting = [SIGINT, SIGTERM, SIGHUP, SIGKILL]
        switch status {
        case .exited(0): return (.completed, 0)
        case .exited(let code) where interrupting.contains(code - 128): return (.cancelled, code)
        case .exited(let code): return (.failed, code)
        case .signalled(let signal): return (interrupting.contains(signal) ? .cancelled : .failed, status.shellCode)
        }
    }

    /// Prepares the run directory and runs the experiment, recorded as `recorded`.
    private func run(_ plan: ExperimentPlan, recorded: RecordedLaunches) async throws -> ExitStatus {
        guard let local = plan.local else {
            throw ExperimentError.planMismatch(type: plan.context.type, issue: "not a local plan")
        }
        let runDirectory = URL(fileURLWithPath: local.runDirectory)
        try prepare(runDirectory, plan: plan)
        // The experiment inherits this shell's environment, except Neptune credentials: those it
        // gets only from the plan, so a context with `neptune: false` really passes none.
        var environment = host.variables.filter { !$0.key.hasPrefix("NEPTUNE_") }
        for variable in plan.environment { environment[variable.name] = variable.value }
        if plan.shape.isGang, environment["MRUN_GPUS"] == nil, environment["CUDA_VISIBLE_DEVICES"] == nil,
            let gpus = await Self.detectGPUs(environment: environment)
        {
            environment["MRUN_GPUS"] = gpus
        }
        var argv = plan.experiment.argv
        if let program = argv.first, program.hasPrefix("./") {
            argv[0] = runDirectory.appendingPathComponent(String(program.dropFirst(2))).path
        }
        if plan.shape.isGang {
            // The starter runs the command (relative to the run directory) once per rank.
            argv = [plan.context.pythonCommand, Self.gangStarter(in: runDirectory).path] + plan.experiment.args
        }
        let launch = recorded.firstID.map { " (launch \($0))" } ?? ""
        await sink.standardError(
            Array("mrun: running \(plan.experiment.name) in \(local.runDirectory)\(launch)\n".utf8))
        let status = try await StreamingProcess.run(
            StreamingCommand(
                argv: argv, environment: environment, workingDirectory: runDirectory.path, logFile: local.logFile),
            sink: sink
        ) { pid in
            await recorded.started(jobIds: [String(pid)], state: .running)
        }
        await sink.standardError(
            Array("mrun: \(plan.experiment.name) \(describe(status)); log: \(local.logFile)\n".utf8))
        return status
    }

    private func describe(_ status: ExitStatus) -> String {
        switch status {
        case .exited(0): return "finished"
        case .exited(let code): return "failed with exit status \(code)"
        case .signalled(let signal): return "was stopped by signal \(signal)"
        }
    }

    /// This machine's GPU indexes as nvidia-smi lists them (`0,1`); nil without nvidia-smi or GPUs,
    /// when the gang's processes share what they see.
    static func detectGPUs(environment: [String: String]) async -> String? {
        let result = try? await SystemProcessRunner().run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], environment: environment,
            workingDirectory: nil)
        guard let result, result.status == .exited(0) else { return nil }
        let indexes = result.standardOutput.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { Int($0) != nil }
        return indexes.isEmpty ? nil : indexes.joined(separator: ",")
    }

    static func gangStarter(in runDirectory: URL) -> URL { runDirectory.appendingPathComponent(".mrun-gang.py") }

    /// A fresh run directory holding a copy of the code and the plan (secrets redacted).
    private func prepare(_ runDirectory: URL, plan: ExperimentPlan) throws {
        let files = FileManager.default
        do {
            try files.createDirectory(at: runDirectory.deletingLastPathComponent(), withIntermediateDirectories: true)
            try files.createDirectory(at: runDirectory, withIntermediateDirectories: false)
            let root = URL(fileURLWithPath: plan.snapshot.root)
            for file in plan.snapshot.files {
                let target = runDirectory.appendingPathComponent(file.path)
                try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if let content = file.content {
                    try Data(content.utf8).write(to: target)
                    continue
                }
                // Symlinked files are shipped as their content, as the snapshot hashed them.
                try files.copyItem(at: root.appendingPathComponent(file.path).resolvingSymlinksInPath(), to: target)
            }
            if let storage = plan.storagePath {
                try files.createDirectory(atPath: storage, withIntermediateDirectories: true)
            }
            if let output = plan.environment.first(where: { $0.name == OutputDirectory.variable }) {
                try files.createDirectory(atPath: output.value, withIntermediateDirectories: true)
            }
        } catch {
            throw ConfigError.io("cannot prepare the run directory \(runDirectory.path): \(error.localizedDescription)")
        }
        try AtomicFile.write(
            try PlanPrinter.json(plan), to: runDirectory.appendingPathComponent("plan.json"), mode: 0o600)
        if let starter = plan.artefact(.gang) {
            try AtomicFile.write(starter.content, to: Self.gangStarter(in: runDirectory), mode: 0o644)
        }
    }
}
