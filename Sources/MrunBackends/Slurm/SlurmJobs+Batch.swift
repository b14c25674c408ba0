import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

extension SlurmJobs {
    /// Slurm's view of the jobs `ids` (plain jobs and array tasks, `123_4`), in one round trip
    /// with one `squeue` and one `sacct` for all of them: `squeue` for the jobs Slurm still holds,
    /// accounting (`sacct -c`, the job completion log, else `sacct`) for the rest and for the exit
    /// codes of jobs that ended. Ids Slurm has no trace of are missing from the result.
    ///
    /// An array task Slurm has not started yet is listed under its array's range
    /// (`123_[4-11%4]`): it is reported pending. `sacct -c` names array tasks by their own job ids
    /// only; where the job completion log is a file the user can read (`jobcomp/filetxt`), its
    /// lines for the arrays asked about are read instead. A job that ended without an exit code in
    /// accounting (just written, or no accounting at all) is asked about once more, with
    /// `scontrol`, in a second round trip.
    public func jobs(_ ids: [String]) async throws -> [String: SlurmJob] {
        let wanted = Array(Set(ids.filter(SlurmOutput.isJobID))).sorted()
        guard !wanted.isEmpty else { return [:] }
        let list = Set(wanted.map(Self.arrayID)).sorted().joined(separator: ",")
        let taskArrays = Set(wanted.filter { $0.contains("_") }.map(Self.arrayID)).sorted()
        let completion =
            taskArrays.isEmpty
            ? ""
            : """
            echo @jobcomp
            log=$(scontrol show config 2>/dev/null | sed -n 's/^JobCompLoc *= *//p')
            [ -f "$log" ] && grep -E ' ArrayJobId=(\(taskArrays.joined(separator: "|"))) ' "$log" 2>/dev/null
            """
        let command = """
            squeue -h -t all -j \(list) -O '\(SlurmOutput.squeueFields)' 2>/dev/null
            echo @sacct
            sacct -c -j \(list) -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null \
            || sacct -X -j \(list) -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null
            \(completion)
            exit 0
            """
        let result = try await session.run(command)
        let sections = result.standardOutput.components(separatedBy: "@sacct\n")
        let queued = SlurmOutput.squeue(sections.first ?? "")
        let rest = sections.dropFirst().joined().components(separatedBy: "@jobcomp\n")
        let accounted =
            SlurmOutput.sacct(rest.first ?? "")
            + rest.dropFirst().joined().split(whereSeparator: \.isNewline).compactMap {
                SlurmOutput.scontrol(String($0))
            }
        var found: [String: SlurmJob] = [:]
        for id in wanted {
            let recorded = accounted.last { $0.id == id }
            if var job = queued.first(where: { $0.id == id }) {
                if job.state.isFinal, let recorded {
                    (job.exitCode, job.signal) = (recorded.exitCode, recorded.signal)
                }
                found[id] = job
            } else if var range = queued.first(where: { Self.range($0.id, contains: id) }) {
                range.id = id
                found[id] = range
            } else if let recorded {
                found[id] = recorded
            }
        }
        let lacking = found.values.filter { $0.state.isFinal && $0.exitCode == nil }.map(\.id).sorted()
        if !lacking.isEmpty {
            let held = try await session.run(
                "for job in \(lacking.joined(separator: " ")); do scontrol -o show job \"$job\" 2>/dev/null; done; exit 0"
            )
            for job in held.standardOutput.split(whereSeparator: \.isNewline).compactMap({ Self.held(String($0)) })
            where found[job.id] != nil {
                found[job.id]?.exitCode = job.exitCode
                found[job.id]?.signal = job.signal
            }
        }
        return found
    }

    /// A job from one line of `scontrol -o show job`; an array's pending tasks as `123_[4-11%4]`.
    static func held(_ line: String) -> SlurmJob? {
        guard var job = SlurmOutput.scontrol(line) else { return nil }
        let fields = line.split(separator: " ")
        func value(_ key: String) -> String? {
            fields.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        if let array = value("ArrayJobId"), let task = value("ArrayTaskId"), SlurmOutput.isJobID(array),
            !task.isEmpty, !task.allSatisfy({ $0.isASCII && $0.isNumber })
        {
            job.id = "\(array)_[\(task)]"
        }
        return job
    }

    /// `123` for `123_4`, the id itself otherwise.
    static func arrayID(_ id: String) -> String {
        id.split(separator: "_", maxSplits: 1).first.map(String.init) ?? id
    }

    /// Whether `listed`, squeue's `123_[0-3,7%2]` for an array's pending tasks, includes task `id`.
    static func range(_ listed: String, contains id: String) -> Bool {
        let parts = id.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let task = Int(parts[1]), listed.hasPrefix("\(parts[0])_["), listed.hasSuffix("]")
        else { return false }
        let inner = listed.dropFirst(parts[0].count + 2).dropLast().prefix { $0 != "%" }
        return inner.split(separator: ",").contains { item in
            let bounds = item.split(separator: "-", maxSplits: 1).compactMap { Int($0) }
            switch bounds.count {
            case 1: return bounds[0] == task
            case 2: return bounds[0] <= task && task <= bounds[1]
            default: return false
            }
        }
    }
}
