import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Slurm's job states as mrun words them (`TIMEOUT`, `OUT_OF_MEMORY`): Slurm's many states, long
/// and short, grouped. Only for reading Slurm and showing its word; everything else goes by the
/// ``JobState`` each maps to.
enum SlurmState: String, Sendable, Equatable, CaseIterable {
    case pending = "PENDING"
    case running = "RUNNING"
    case suspended = "SUSPENDED"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"
    case timeout = "TIMEOUT"
    case outOfMemory = "OUT_OF_MEMORY"
    case nodeFailure = "NODE_FAIL"
    case preempted = "PREEMPTED"
    case unknown = "UNKNOWN"

    /// The group of a Slurm job state (`squeue`'s long form, or sacct's, e.g. `CANCELLED by 1001`).
    init(slurm text: String) {
        let word = text.split(separator: " ").first.map(String.init)?.uppercased() ?? ""
        switch word {
        case "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SPECIAL_EXIT",
            "PD", "CF", "RQ", "SE":
            self = .pending
        case "RUNNING", "COMPLETING", "RESIZING", "SIGNALING", "STAGE_OUT", "R", "CG", "RS", "SI", "SO":
            self = .running
        case "SUSPENDED", "STOPPED", "S", "ST":
            self = .suspended
        case "COMPLETED", "CD":
            self = .completed
        case "FAILED", "BOOT_FAIL", "DEADLINE", "F", "BF", "DL":
            self = .failed
        case "CANCELLED", "REVOKED", "CA", "RV":
            self = .cancelled
        case "TIMEOUT", "TO":
            self = .timeout
        case "OUT_OF_MEMORY", "OOM":
            self = .outOfMemory
        case "NODE_FAIL", "NF":
            self = .nodeFailure
        case "PREEMPTED", "PR":
            self = .preempted
        default:
            self = .unknown
        }
    }

    /// mrun's state for it: a suspended job is still running, a job that ran out of time or
    /// memory has failed; one that lost its node or was preempted ended by the cluster's doing.
    var jobState: JobState {
        switch self {
        case .pending: .submitted
        case .running, .suspended: .running
        case .completed: .completed
        case .cancelled: .cancelled
        case .failed, .timeout, .outOfMemory: .failed
        case .nodeFailure: .nodeFail
        case .preempted: .preempted
        case .unknown: .unknown
        }
    }
}

/// A Slurm job as `squeue`, `scontrol` or `sacct` describe it.
public struct SlurmJob: Sendable, Equatable {
    public var id: String
    public var name: String
    public var state: JobState
    /// Slurm's own word for the state, e.g. `OUT_OF_MEMORY`.
    public var slurmState: String
    /// The state in the words mrun shows for Slurm: `PENDING`, `TIMEOUT`.
    public var shownState: String { SlurmState(slurm: slurmState).rawValue }
    /// The script's exit status, once it has ended (`ExitCode=3:0` → 3).
    public var exitCode: Int?
    /// The signal that ended it, if one did (`ExitCode=0:9` → 9).
    public var signal: Int?
    public var reason: String?
    public var workDir: String?
    /// The output file, `%j` and friends expanded where Slurm told us the expansion.
    public var output: String?
    public var submitted: String?
    /// The owner's user name, where accounting tells it.
    public var user: String?

    public init(id: String, name: String, slurmState: String) {
        self.id = id
        self.name = name
        self.slurmState = slurmState.split(separator: " ").first.map(String.init) ?? slurmState
        self.state = SlurmState(slurm: slurmState).jobState
    }

    /// Whether the name is one mrun gives experiments: a DNS label ending in a 5-character suffix.
    public var hasMrunName: Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, let suffix = parts.last, suffix.count == Naming.suffixLength,
            let first = name.unicodeScalars.first, ("a"..."z").contains(first)
        else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty
                && part.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        }
    }
}

/// Reading what the Slurm commands print.
package enum SlurmOutput {
    /// The squeue `-O` format mrun asks for; every field ends in `|`.
    static let squeueFields =
        "JobID:|,Name:|,State:|,Reason:|,WorkDir:|,STDOUT:|,SubmitTime:|,ArrayJobID:|,ArrayTaskID:|"
    /// The sacct `-o` format mrun asks for (with `-P`, so fields are `|`-separated).
    static let sacctFields = "jobid,jobname,state,exitcode,workdir,submit,user"

    static func squeue(_ text: String) -> [SlurmJob] {
        lines(text).compactMap { line in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count >= 7, isJobID(fields[0]) else { return nil }
            var job = SlurmJob(id: fields[0], name: fields[1], slurmState: fields[2])
            // A job array's tasks (a sweep's points) are listed as ARRAY_INDEX; the pending ones
            // Slurm has not split yet as ARRAY_[RANGE].
            if fields.count >= 9, isJobID(fields[7]), let task = nonEmpty(fields[8]), task != "N/A" {
                job.id =
                    task.allSatisfy { $0.isASCII && $0.isNumber } ? "\(fields[7])_\(task)" : "\(fields[7])_[\(task)]"
            }
            job.reason = nonEmpty(fields[3])
            job.workDir = nonEmpty(fields[4])
            job.output = nonEmpty(fields[5]).map { expand($0, job: job) }
            job.submitted = nonEmpty(fields[6])
            return job
        }
    }

    static func sacct(_ text: String) -> [SlurmJob] {
        var byID: [String: SlurmJob] = [:]
        var order: [String] = []
        for line in lines(text) {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            // Job steps (123.batch) repeat the job; a reused id appears again later: the last line wins.
            guard fields.count >= 4, isJobID(fields[0]) else { continue }
            var job = SlurmJob(id: fields[0], name: fields[1], slurmState: fields[2])
            (job.exitCode, job.signal) = exitCode(fields[3])
            job.workDir = fields.count > 4 ? nonEmpty(fields[4]) : nil
            job.submitted = fields.count > 5 ? nonEmpty(fields[5]) : nil
            // The job completion log writes `name(uid)`, slurmdbd the name alone.
            job.user = fields.count > 6 ? nonEmpty(String(fields[6].prefix { $0 != "(" })) : nil
            if byID[job.id] == nil { order.append(job.id) }
            byID[job.id] = job
        }
        return order.compactMap { byID[$0] }
    }

    /// `scontrol -o show job ID`: one line of `Key=Value` pairs; values may contain spaces.
    static func scontrol(_ text: String) -> SlurmJob? {
        guard let line = lines(text).first(where: { $0.hasPrefix("JobId=") }) else { return nil }
        var fields: [String: String] = [:]
        var key: String?
        for token in line.split(separator: " ") {
            if let equals = token.firstIndex(of: "="),
                token[..<equals].allSatisfy({ $0.isLetter || ":/_".contains($0) }),
                !token[..<equals].isEmpty
            {
                let name = String(token[..<equals])
                fields[name] = String(token[token.index(after: equals)...])
                key = name
            } else if let key {
                fields[key, default: ""] += " " + token
            }
        }
        guard var id = fields["JobId"], isJobID(id) else { return nil }
        // A job array's task is known by the array's id and its index (a sweep's point).
        if let array = fields["ArrayJobId"], let task = fields["ArrayTaskId"], isJobID(array),
            !task.isEmpty, task.allSatisfy({ $0.isASCII && $0.isNumber })
        {
            id = "\(array)_\(task)"
        }
        var job = SlurmJob(id: id, name: fields["JobName"] ?? "", slurmState: fields["JobState"] ?? "")
        (job.exitCode, job.signal) = fields["ExitCode"].map(exitCode) ?? (nil, nil)
        job.reason = fields["Reason"].flatMap { $0 == "None" ? nil : nonEmpty($0) }
        job.workDir = fields["WorkDir"].flatMap(nonEmpty)
        job.output = fields["StdOut"].flatMap(nonEmpty)
        job.submitted = fields["SubmitTime"].flatMap(nonEmpty)
        if !job.state.isFinal { job.exitCode = nil }
        return job
    }

    /// `3:0` → (3, nil); `0:15` → (0, 15).
    static func exitCode(_ text: String) -> (Int?, Int?) {
        let parts = text.split(separator: ":").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        let code = parts.first ?? nil
        let signal = parts.count > 1 ? parts[1] : nil
        return (code, signal == 0 ? nil : signal)
    }

    /// Expands the filename patterns Slurm knows before the job runs: `%j`, `%x`, `%%`, and for a
    /// job array `%A` (the array's id) and, for one of its tasks (`ID_INDEX`), `%a`.
    static func expand(_ pattern: String, job: SlurmJob) -> String {
        let parts = job.id.split(separator: "_", maxSplits: 1).map(String.init)
        let array = parts.first ?? job.id
        let task = parts.count > 1 && parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) ? parts[1] : nil
        var result = ""
        var iterator = pattern.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                result.append(character)
                continue
            }
            switch iterator.next() {
            case "j" where task == nil: result += job.id
            case "A": result += array
            case "a" where task != nil: result += task ?? ""
            case "x": result += job.name
            case "%": result += "%"
            case let other?: result += "%" + String(other)
            case nil: result += "%"
            }
        }
        return result
    }

    /// A job id (`123`), or a job array's task (`123_4`).
    package static func isJobID(_ text: String) -> Bool {
        let parts = text.split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    private static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }

    private static func nonEmpty(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "(null)" ? nil : trimmed
    }
}

extension SlurmJob {
    /// `COMPLETED, exit code 0`, `CANCELLED, signal 15`, `RUNNING`.
    public var stateDescription: String {
        var text = shownState
        if slurmState != text && !slurmState.isEmpty { text += " (\(slurmState))" }
        guard state.isFinal else { return text }
        // A signalled job's exit code is a meaningless 0.
        if let exitCode, signal == nil || exitCode != 0 { text += ", exit code \(exitCode)" }
        if let signal { text += ", signal \(signal)" }
        return text
    }

    /// `mrun status` output: one `Label  value` line each.
    public var statusText: String {
        var rows = [("Job", "\(id)\(name.isEmpty ? "" : " (\(name))")"), ("State", stateDescription)]
        if let reason, !state.isFinal || state != .completed { rows.append(("Reason", reason)) }
        if let submitted { rows.append(("Submitted", submitted)) }
        if let output { rows.append(("Output", output)) }
        return rows.map { $0.0.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
    }

    /// `mrun list --all`: id, name, state and submit time (`mrun status` tells exit codes).
    public static func backendJobs(_ jobs: [SlurmJob]) -> BackendJobList {
        BackendJobList(
            columns: ["JOBID", "NAME", "STATE", "SUBMITTED"],
            jobs: jobs.map { job in
                BackendJob(
                    id: job.id, name: job.name, state: job.state,
                    cells: [job.id, job.name, job.shownState, job.submitted ?? "-"])
            })
    }
}
