extension SlurmJobs {
    /// Slurm's view of the jobs `ids` (plain jobs and array tasks, `123_4`), in one round trip:
    /// `scontrol` for the jobs Slurm still holds (state and exit code; a job array's tasks, one
    /// line each), accounting (`sacct -c`, else `sacct`) for the rest. Ids Slurm has no trace of
    /// are missing from the result.
    ///
    /// An array task Slurm has not started yet is listed under its array's range
    /// (`ArrayTaskId=4-11%4`): it is reported pending. The job completion log (`sacct -c`) names
    /// array tasks by their own job ids only, so once Slurm has forgotten a task, only a cluster
    /// with slurmdbd still tells its state.
    public func jobs(_ ids: [String]) async throws -> [String: SlurmJob] {
        let wanted = Array(Set(ids.filter(SlurmOutput.isJobID))).sorted()
        guard !wanted.isEmpty else { return [:] }
        let arrays = Set(wanted.map(Self.arrayID)).sorted()
        let list = arrays.joined(separator: ",")
        let taskArrays = Set(wanted.filter { $0.contains("_") }.map(Self.arrayID)).sorted()
        // The job completion log as a file (jobcomp/filetxt) names each task's array and index.
        let completion =
            taskArrays.isEmpty
            ? ""
            : """
            echo @jobcomp
            log=$(scontrol show config 2>/dev/null | sed -n 's/^JobCompLoc *= *//p')
            [ -f "$log" ] && grep -E ' ArrayJobId=(\(taskArrays.joined(separator: "|"))) ' "$log" 2>/dev/null
            """
        let command = """
            for job in \(arrays.joined(separator: " ")); do scontrol -o show job "$job" 2>/dev/null; done
            echo @sacct
            sacct -c -j \(list) -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null \
            || sacct -X -j \(list) -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null
            \(completion)
            exit 0
            """
        let result = try await session.run(command)
        let sections = result.standardOutput.components(separatedBy: "@sacct\n")
        let queued = (sections.first ?? "").split(whereSeparator: \.isNewline).compactMap { Self.held(String($0)) }
        let rest = sections.dropFirst().joined().components(separatedBy: "@jobcomp\n")
        let accounted =
            SlurmOutput.sacct(rest.first ?? "")
            + rest.dropFirst().joined().split(whereSeparator: \.isNewline).compactMap {
                SlurmOutput.scontrol(String($0))
            }
        var found: [String: SlurmJob] = [:]
        for id in wanted {
            if let job = queued.first(where: { $0.id == id }) {
                found[id] = job
            } else if var range = queued.first(where: { Self.range($0.id, contains: id) }) {
                range.id = id
                found[id] = range
            } else if let job = accounted.last(where: { $0.id == id }) {
                found[id] = job
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
