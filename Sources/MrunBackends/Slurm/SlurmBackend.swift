import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Submits the experiment to a Slurm cluster over one shared ssh connection, or directly when mrun
/// runs on the login node (`login_node: true`): prepares the job directory and the private file of
/// secrets, ships the code (rsync, or tar without it), submits the sbatch script and prints the job
/// id and output file.
///
/// Every path in the plan that is not absolute is relative to the (remote) home, where the
/// commands and sbatch run.
public struct SlurmBackend: Backend {
    public var host: HostEnvironment
    public var store: ConfigStore
    public var sink: any OutputSink
    public var runner: any InputProcessRunning
    /// Records each launch in the history before it is submitted, then its job id.
    public var recorder: LaunchRecorder?

    /// Remote exit statuses of the preparation step.
    static let sbatchMissing: Int32 = 97
    static let jobDirectoryFailed: Int32 = 98

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
        let recorded = await RecordedLaunches.record([plan], by: recorder)
        let submission: Submission
        do {
            submission = try await shipAndSubmit(plan, launch: recorded.launchVariable(sweep: false))
        } catch {
            await recorded.failed()
            throw error
        }
        await recorded.started(jobIds: [submission.id], state: .submitted)
        let slurm = submission.slurm
        var job = SlurmJob(id: submission.id, name: plan.experiment.name, slurmState: "PENDING")
        let output = SlurmOutput.expand(submission.absolute(slurm.output), job: job)
        job.output = output
        await sink.standardOutput(
            Array("Submitted job \(submission.id) (\(plan.experiment.name))\nOutput: \(output)\n".utf8))
        if let id = recorded.firstID { await sink.standardOutput(Array("Launch: \(id)\n".utf8)) }
        await record(submission, plan: plan, output: output)
        await note("mrun: follow it with 'mrun --context \(plan.context.name) logs -f \(submission.id)'")
        return 0
    }

    /// A submitted script: its job id, and where the job directory is.
    struct Submission {
        var id: String
        var home: String
        var slurm: SlurmTarget
        var host: String

        /// `path` from the plan as an absolute path on the cluster.
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : "\(home)/\(path)"
        }
    }

    /// Prepares the job directory, ships the code and submits the plan's script, over one ssh
    /// connection.
    /// `launch` (the launch ids) goes into the env file with the secrets, for the job's notifier.
    func shipAndSubmit(_ plan: ExperimentPlan, launch: EnvironmentVariable? = nil) async throws -> Submission {
        guard let slurm = plan.slurm, let script = plan.artefact(.sbatch) else {
            throw ExperimentError.planMismatch(type: plan.context.type, issue: "not a Slurm plan")
        }
        let session = try SlurmShells.make(plan.context.slurm, host: host, runner: runner)
        let (home, tool) = try await prepare(
            slurm, secrets: plan.secrets + (launch.map { [$0] } ?? []), session: session)
        let files = plan.snapshot.files.count
        await note("mrun: shipping \(files) file\(files == 1 ? "" : "s") to \(session.location(slurm.jobDir))")
        let report = try await CodeShipper(session: session, runner: runner).ship(
            plan.snapshot, to: slurm.jobDir, home: home, with: tool)
        await note("mrun: \(describe(report, overSSH: session.overSSH))")
        let id = try await submit(script.content, slurm: slurm, session: session)
        return Submission(id: id, home: home, slurm: slurm, host: session.name)
    }

    /// Remembers the job for `logs`, in the history the recorder writes to (else in the one of
    /// `$MRUN_HOME`); the job runs whatever happens here, so a failure is a warning.
    func record(_ submission: Submission, plan: ExperimentPlan, output: String) async {
        do {
            let history = try recorder?.store ?? HistoryStore(home: store.home)
            try await history.recordSubmitted(
                SlurmJobRecord(
                    context: plan.context.name, id: submission.id, name: plan.experiment.name,
                    project: plan.experiment.project, host: submission.host,
                    jobDirectory: submission.absolute(submission.slurm.jobDir), output: output, submitted: Date()))
        } catch {
            await note("mrun: warning: cannot record job \(submission.id) under \(store.home.path): \(error)")
        }
    }

    /// Checks the cluster, creates the job directory and writes the secrets file (mode 0600, its
    /// content on the shell's standard input), in one round trip. Returns the remote home and the
    /// tool that will ship the code.
    func prepare(_ slurm: SlurmTarget, secrets: [EnvironmentVariable], session: any SlurmShell) async throws
        -> (home: String, tool: CodeShipper.Tool)
    {
        let quote = TemplateFilters.shellQuote
        let command = """
            echo "mrun-home=$(pwd)"
            command -v sbatch >/dev/null 2>&1 || exit \(Self.sbatchMissing)
            if command -v rsync >/dev/null 2>&1; then echo mrun-tool=rsync; else echo mrun-tool=tar; fi
            mkdir -p -- \(quote(slurm.jobDir)) || exit \(Self.jobDirectoryFailed)
            umask 077
            cat > \(quote(slurm.envFile)) || exit \(Self.jobDirectoryFailed)
            """
        let content = secrets.map { "\($0.name)=\(quote($0.value))\n" }.joined()
        let result = try await session.run(command, input: Array(content.utf8))
        switch result.status {
        case .exited(0):
            break
        case .exited(Self.sbatchMissing):
            throw SlurmError.programMissing(host: session.name, program: "sbatch")
        case .exited(Self.jobDirectoryFailed):
            throw SlurmError.jobDirectoryUnwritable(
                host: session.name, path: slurm.jobDir, detail: Self.cause(result.standardError))
        default:
            throw SlurmError.remoteCommandFailed(
                host: session.name, command: "preparing the job directory",
                detail: CodeShipper.lastLine(result.standardError, status: result.status))
        }
        // Marked, because some login shells print a banner even for commands.
        let lines = result.standardOutput.split(whereSeparator: \.isNewline)
        let value = { (key: String) in lines.last { $0.hasPrefix(key) }.map { String($0.dropFirst(key.count)) } }
        guard let home = value("mrun-home="), home.hasPrefix("/"), let tool = value("mrun-tool=") else {
            throw SlurmError.remoteCommandFailed(
                host: session.name, command: "preparing the job directory",
                detail: "unexpected output \(quoted: result.standardOutput.prefix(200))")
        }
        return (home, tool == "rsync" ? .rsync : .tar)
    }

    /// Runs sbatch in the remote home with the script on its standard input; returns the job id.
    func submit(_ script: String, slurm: SlurmTarget, session: any SlurmShell) async throws -> String {
        let parent = (slurm.jobDir as NSString).deletingLastPathComponent
        let name = (slurm.jobDir as NSString).lastPathComponent
        let link = (parent.isEmpty ? "" : parent + "/") + CodeShipper.previousJobLink
        let command = """
            sbatch --parsable || exit $?
            ln -sfn -- \(TemplateFilters.shellQuote(name)) \(TemplateFilters.shellQuote(link)) 2>/dev/null || true
            """
        let result = try await session.run(command, input: Array(script.utf8))
        guard result.status.succeeded else {
            if result.standardError.contains("command not found") {
                throw SlurmError.programMissing(host: session.name, program: "sbatch")
            }
            throw SlurmError.submissionRejected(host: session.name, detail: Self.reason(result.standardError))
        }
        // --parsable prints "ID" or "ID;CLUSTER".
        let first = result.standardOutput.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let id = first.split(separator: ";").first.map(String.init) ?? ""
        guard SlurmOutput.isJobID(id) else {
            throw SlurmError.remoteCommandFailed(
                host: session.name, command: "sbatch", detail: "unexpected output \(quoted: result.standardOutput)")
        }
        return id
    }

    /// The cause in sbatch's error message: `sbatch: error: Batch job submission failed: X` → `X`.
    static func reason(_ standardError: String) -> String {
        let lines = standardError.split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard var line = lines.last(where: { !$0.isEmpty }) else { return "no message" }
        for prefix in ["sbatch: error: ", "Batch job submission failed: "] where line.hasPrefix(prefix) {
            line = String(line.dropFirst(prefix.count))
        }
        return line
    }

    /// The end of the last message, past the program and file names: `mkdir: cannot create
    /// directory 'x': Permission denied` → `Permission denied`.
    static func cause(_ standardError: String) -> String {
        let line = reason(standardError)
        guard let colon = line.range(of: ": ", options: .backwards) else { return line }
        return String(line[colon.upperBound...])
    }

    /// What `execute` will do, for `--dry-run`.
    public static func steps(_ slurm: SlurmTarget) -> [String] {
        let envFile = (slurm.envFile as NSString).lastPathComponent
        if slurm.loginNode {
            return [
                "mkdir -p \(slurm.jobDir) (from your home), secrets to \(envFile) there (0600, via stdin)",
                "rsync changed files to \(slurm.jobDir)/ (tar without rsync)",
                "sbatch --parsable < sbatch.sh, from your home; no ssh (login_node)",
            ]
        }
        return [
            "ssh \(slurm.host): mkdir -p \(slurm.jobDir), secrets to \(envFile) there (0600, via stdin)",
            "rsync changed files to \(slurm.host):\(slurm.jobDir)/ (tar over ssh without rsync)",
            "ssh \(slurm.host): sbatch --parsable < sbatch.sh, from the remote home; one ssh connection for all",
        ]
    }

    private func describe(_ report: CodeShipper.Report, overSSH: Bool) -> String {
        let size =
            report.bytesSent < 1024
            ? "\(report.bytesSent) bytes"
            : ByteCountFormatter.string(fromByteCount: Int64(report.bytesSent), countStyle: .file)
        switch report.tool {
        case .rsync where report.filesSent < report.files:
            return "rsync sent \(report.filesSent) of \(report.files) files (\(size));"
                + " the others were unchanged since the project's previous job"
        case .rsync:
            return "rsync sent \(report.files) file\(report.files == 1 ? "" : "s") (\(size))"
        case .tar where overSSH:
            return "sent \(report.files) files with tar over ssh (\(size)); rsync is not installed on the cluster"
        case .tar:
            return "copied \(report.files) files with tar (\(size)); rsync is not installed here"
        }
    }

    func note(_ line: String) async {
        await sink.standardError(Array((line + "\n").utf8))
    }
}
