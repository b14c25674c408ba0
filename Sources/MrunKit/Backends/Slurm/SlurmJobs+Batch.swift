extension SlurmJobs {
    /// Slurm's view of the jobs `ids` (plain jobs and array tasks, `123_4`), in one round trip:
    /// `squeue` for the jobs Slurm still holds, accounting (`sacct -c`, else `sacct`) for the rest.
    /// Ids Slurm has no trace of are missing from the result.
    ///
    /// An array task Slurm has not started yet is listed under its array's range
    /// (`123_[4-11%4]`): it is reported pending. The job completion log (`sacct -c`) names array
    /// tasks by their own job ids only, so once Slurm has forgotten a task, only a cluster with
    /// slurmdbd still tells its state.
    public func jobs(_ ids: [String]) async throws -> [String: SlurmJob] {
        let wanted = Array(Set(ids.filter(SlurmOutput.isJobID))).sorted()
        guard !wanted.isEmpty else { return [:] }
        let arrays = Set(wanted.map(Self.arrayID)).sorted().joined(separator: ",")
        let command = """
            squeue -h -t all -j \(arrays) -O '\(SlurmOutput.squeueFields)' 2>/dev/null
            echo @sacct
            sacct -c -j \(arrays) -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null \
            || sacct -X -j \(arrays) -P -n -o \(SlurmOutput.sacctFields) 2>/dev/null
            exit 0
            """
        let result = try await session.run(command)
        let sections = result.standardOutput.components(separatedBy: "@sacct\n")
        let queued = SlurmOutput.squeue(sections.first ?? "")
        let accounted = SlurmOutput.sacct(sections.dropFirst().joined())
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
