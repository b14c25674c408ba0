import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Following and controlling jobs on a Slurm context: `status`, `logs`, `cancel`, `list`. Each
/// command uses the context's shared ssh connection, or runs here on a login node.
///
/// Slurm keeps finished jobs in memory for a few minutes (`MinJobAge`), where `squeue -t all` and
/// `scontrol` see them; after that only accounting does: `sacct -c` (the job completion log, for
/// clusters without slurmdbd), else `sacct`.
public struct SlurmJobs: Sendable {
    public var context: Context
    public var session: any SlurmShell
    public var records: SlurmJobRecords
    /// Pause between checks while waiting for a cancelled job to end.
    var pollInterval: Duration = .milliseconds(300)
    var cancelTimeout: Duration = .seconds(30)

    /// - Parameter history: Where the records of jobs submitted from here are, opened when first
    ///   needed.
    public init(
        context: Context, host: HostEnvironment, runner: any InputProcessRunning, history: @escaping OpenHistory
    ) throws {
        guard context.type == .slurm else {
            throw SlurmError.notSlurmContext(name: context.name, type: context.type)
        }
        self.context = context
        session = try SlurmShells.make(context.slurm, host: host, runner: runner)
        records = SlurmJobRecords(context: context.name, history: history)
    }

    /// The job's state, exit code and output file. Throws ``SlurmError/unknownJob`` when Slurm
    /// has no trace of it.
    public func status(_ id: String) async throws -> SlurmJob {
        guard SlurmOutput.isJobID(id) else { throw SlurmError.invalidJobID(id) }
        let command = """
            scontrol -o show job \(id) 2>/dev/null && exit 0
            echo @sacct
            sacct -c -j \(id) -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null \
            || sacct -X -j \(id) -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null
            exit 0
            """
        let result = try await session.run(command)
        var found =
            SlurmOutput.scontrol(result.standardOutput).flatMap { $0.id == id || !id.contains("_") ? $0 : nil }
            ?? SlurmOutput.sacct(result.standardOutput).last { $0.id == id }
        if found == nil && id.contains("_") {
            // A task Slurm has not started yet is part of its array's pending range; a task Slurm
            // forgot may be in the job completion log.
            found = try await jobs([id])[id]
        }
        guard var job = found else { throw SlurmError.unknownJob(host: session.name, id: id) }
        if job.output == nil { job.output = records.load(id)?.output }
        return job
    }

    /// This user's jobs that carry mrun's names (all of them with `all`), oldest first: the ones
    /// Slurm still holds, then older ones from accounting where the cluster keeps it.
    public func list(all: Bool = false) async throws -> [SlurmJob] {
        let command = """
            user=$(id -un)
            echo "@user=$user"
            squeue -h -t all -u "$user" -O '\(SlurmOutput.squeueFields)' 2>/dev/null
            echo @sacct
            sacct -c -u "$user" -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null \
            || sacct -X -u "$user" -S now-7days -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null
            exit 0
            """
        let result = try await session.run(command)
        let sections = result.standardOutput.components(separatedBy: "@sacct\n")
        let user = result.standardOutput.split(whereSeparator: \.isNewline).first { $0.hasPrefix("@user=") }?
            .dropFirst("@user=".count)
        var jobs = SlurmOutput.squeue(sections.first ?? "")
        let known = Set(jobs.map(\.id))
        // `sacct -c` ignores `-u`: the job completion log lists everyone's jobs.
        jobs += SlurmOutput.sacct(sections.dropFirst().joined()).filter {
            !known.contains($0.id) && (user == nil || $0.user == nil || $0.user == user.map(String.init))
        }
        return
            jobs
            .filter { all || $0.hasMrunName }
            .sorted { ($0.id.count, $0.id) < ($1.id.count, $1.id) }
    }

    /// Cancels the job and waits until Slurm reports it ended. Returns its state before and after;
    /// a job that had already ended is left alone (`before == after`).
    public func cancel(_ id: String) async throws -> (before: SlurmJob, after: SlurmJob) {
        let before = try await status(id)
        if before.state.isFinal { return (before, before) }
        // scancel exits 0 even for jobs it does not know, so the state afterwards is what counts.
        let result = try await session.run("scancel \(id)")
        if !result.status.succeeded {
            throw SlurmError.remoteCommandFailed(
                host: session.name, command: "scancel \(id)",
                detail: CodeShipper.lastLine(result.standardError, status: result.status))
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: cancelTimeout)
        var job = before
        while clock.now < deadline {
            do {
                job = try await status(id)
            } catch SlurmError.unknownJob where before.state == .submitted && id.contains("_") {
                // An array task cancelled before it started leaves no trace at all.
                var cancelled = SlurmJob(id: id, name: before.name, slurmState: "CANCELLED")
                cancelled.output = before.output
                return (before, cancelled)
            }
            if job.state.isFinal { return (before, job) }
            try await Task.sleep(for: pollInterval)
        }
        throw SlurmError.cancelNotConfirmed(host: session.name, id: id, state: job.shownState)
    }

    /// Prints the job's output file to `sink`; with `follow`, keeps printing what is appended until
    /// the job ends. Returns the job's state at the end.
    public func logs(_ id: String, follow: Bool, sink: any OutputSink) async throws -> SlurmJob {
        var job: SlurmJob
        do {
            job = try await status(id)
        } catch SlurmError.unknownJob(let host, let id) {
            // Slurm forgot the job, but mrun submitted it and knows where its output went.
            guard let record = records.load(id) else { throw SlurmError.unknownJob(host: host, id: id) }
            job = SlurmJob(id: id, name: record.name, slurmState: "UNKNOWN")
            job.output = record.output
        }
        guard let output = job.output else {
            throw SlurmError.remoteCommandFailed(
                host: session.name, command: "logs", detail: "Slurm does not say where job \(id) writes its output")
        }
        let file = TemplateFilters.shellQuote(output)
        if !follow || job.state.isFinal {
            let result = try await session.stream("cat -- \(file)", to: sink)
            if !result.status.succeeded {
                if job.state == .submitted { return job }
                throw SlurmError.remoteCommandFailed(
                    host: session.name, command: "reading \(output)",
                    detail: CodeShipper.lastLine(result.standardError, status: result.status))
            }
            return job
        }
        _ = try await session.stream(Self.followCommand(file: file, id: id), to: sink)
        return (try? await status(id)) ?? job
    }

    /// Tails the output file (which appears when the job starts) while squeue says the job is
    /// pending or running; stops shortly after it ends, or when the reader has gone (tail dies of
    /// SIGPIPE), or when squeue keeps failing.
    static func followCommand(file: String, id: String) -> String {
        let active = [
            "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "REQUEUED", "REQUEUE_HOLD",
            "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD", "SPECIAL_EXIT",
        ]
        return """
            tail -n +1 -F -- \(file) 2>/dev/null &
            tail=$!
            trap 'kill $tail 2>/dev/null' EXIT
            misses=0
            while kill -0 $tail 2>/dev/null; do
              if state=$(squeue -h -t all -j \(id) -o %T 2>/dev/null); then
                misses=0
                case $state in \(active.joined(separator: "|"))) ;; *) break ;; esac
              else
                misses=$((misses + 1))
                [ $misses -ge 5 ] && break
              fi
              sleep 1
            done
            sleep 1
            """
    }
}
