import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

extension SSHBackend {
    /// A point the runner started at once: its process id and its GPUs.
    struct StartedPoint: Equatable {
        var pid: Int
        var gpus: [Int]
    }

    /// Ships the code to a checked host, then its runner's files (the queue of `points`, the slots,
    /// each point's run script), and starts the runner detached. Returns the points that started
    /// at once, by their directory's name; the others wait in the runner's queue.
    func start(
        _ points: [Point], on checked: CheckedHost, target: SSHTarget, base: ExperimentPlan,
        scripts: RunnerScripts
    ) async throws -> [String: StartedPoint] {
        let session = checked.session
        let hostDir = target.hostDir(checked.name)
        let files = base.snapshot.files.count
        await note("mrun: shipping \(files) file\(files == 1 ? "" : "s") to \(checked.name):\(hostDir)")
        let report = try await CodeShipper(session: session, runner: runner).ship(
            base.snapshot, to: hostDir, home: checked.report.home, with: checked.report.tool)
        await note("mrun: \(report.tool.rawValue) sent \(report.filesSent) of \(report.files) files to \(checked.name)")
        // A batch of its own for each start, so that a later one (a resume) in the same directory
        // leaves an earlier runner's queue and state alone.
        let batch = points.first.map(\.directory) ?? UUID().uuidString.lowercased()
        let archive = try await runnerArchive(
            points, batch: batch, hostName: checked.name, slots: checked.slots,
            claims: target.claimsDir(checked.name, home: checked.report.home),
            scripts: scripts)
        // The host's directory is the one value here; the rest is the rendered ssh-start.sh.
        let command = """
            cd -- \(TemplateFilters.shellQuote(hostDir)) || exit \(Self.directoryFailed)
            tar -xf - -C .mrun || exit \(Self.directoryFailed)
            exec sh .mrun/runs/\(TemplateFilters.shellQuote(batch))/start.sh
            """
        let result = try await session.run(command, input: archive)
        guard result.status.succeeded else {
            throw SSHError.startFailed(
                host: checked.name, detail: CodeShipper.lastLine(result.standardError, status: result.status))
        }
        return Self.startedPoints(result.standardOutput)
    }

    /// The start's lines `mrun-pid=DIR PID GPUS` (GPUS: `-` for none).
    static func startedPoints(_ output: String) -> [String: StartedPoint] {
        var started: [String: StartedPoint] = [:]
        for line in output.split(whereSeparator: \.isNewline) where line.hasPrefix("mrun-pid=") {
            let fields = line.dropFirst("mrun-pid=".count).split(separator: " ")
            guard fields.count == 3, let pid = Int(fields[1]) else { continue }
            started[String(fields[0])] = StartedPoint(
                pid: pid, gpus: fields[2] == "-" ? [] : fields[2].split(separator: ",").compactMap { Int($0) })
        }
        return started
    }

    /// The shared plan's scripts every host gets: its runner, what starts it and, when the
    /// launch notifies from the job, the notifier.
    struct RunnerScripts {
        var runner: Artefact
        var start: Artefact
        var notifier: Artefact?
    }

    /// A tar archive of the batch's files, `runs/BATCH/` with `runner.sh`, `start.sh`, `queue` (one
    /// point directory a line, in order), `slots` (``SSHSlot/line``), `claims` (the host's
    /// directory of claims), `host` (its name in the context) and `notify.py`, and each point's
    /// `points/DIR/` (DIR: the launch id) with `run.sh` and `batch`. Data files, not scripts: the
    /// runner reads them line by line.
    func runnerArchive(
        _ points: [Point], batch: String, hostName: String, slots: [SSHSlot], claims: String, scripts: RunnerScripts
    ) async throws -> [UInt8] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mrun-ssh-\(UUID().uuidString)")
        let manager = FileManager.default
        try manager.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? manager.removeItem(at: scratch) }
        let files = scratch.appendingPathComponent("files")
        try manager.createDirectory(at: files, withIntermediateDirectories: true)
        let runs = files.appendingPathComponent("runs/\(batch)")
        try AtomicFile.write(scripts.runner.content, to: runs.appendingPathComponent("runner.sh"))
        try AtomicFile.write(scripts.start.content, to: runs.appendingPathComponent("start.sh"))
        try AtomicFile.write(points.map { $0.directory + "\n" }.joined(), to: runs.appendingPathComponent("queue"))
        try AtomicFile.write(slots.map { $0.line + "\n" }.joined(), to: runs.appendingPathComponent("slots"))
        try AtomicFile.write(claims + "\n", to: runs.appendingPathComponent("claims"))
        try AtomicFile.write(hostName + "\n", to: runs.appendingPathComponent("host"))
        if let notifier = scripts.notifier {
            try AtomicFile.write(notifier.content, to: runs.appendingPathComponent("notify.py"))
        }
        for (plan, name) in points {
            guard let run = plan.artefact(.sshRun) else {
                throw ExperimentError.planMismatch(type: plan.context.type, issue: "a point has no run script")
            }
            let directory = files.appendingPathComponent("points/\(name)")
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            try AtomicFile.write(run.content, to: directory.appendingPathComponent("run.sh"))
            try AtomicFile.write(batch + "\n", to: directory.appendingPathComponent("batch"))
        }
        let archive = scratch.appendingPathComponent("runner.tar")
        let made = try await runner.run(
            ["tar", "-C", files.path, "-cf", archive.path, "."], environment: host.variables, workingDirectory: nil)
        guard made.status.succeeded else {
            throw SlurmError.transferFailed(
                host: LocalShell.displayName, tool: "tar",
                detail: CodeShipper.lastLine(made.standardError, status: made.status))
        }
        return try [UInt8](Data(contentsOf: archive))
    }

    /// Prints where the points went: `Started NAME on HOST (GPUs 0,1), pid N` or `Queued …`.
    func report(_ points: [Point], host checked: CheckedHost, started: [String: StartedPoint]) async {
        var lines = ""
        for (plan, directory) in points {
            let name = plan.experiment.name
            guard let point = started[directory] else {
                lines += "Queued \(name) on \(checked.name) (starts when a slot there is free)\n"
                continue
            }
            let gpus =
                point.gpus.isEmpty
                ? "no GPUs"
                : "GPU\(point.gpus.count == 1 ? "" : "s") \(point.gpus.map(String.init).joined(separator: ","))"
            lines += "Started \(name) on \(checked.name) (\(gpus)), pid \(point.pid)\n"
        }
        await sink.standardOutput(Array(lines.utf8))
    }

    /// Remembers where the launches run; they run whatever happens here, so a failure is a warning.
    func record(_ placed: [SSHLaunchRecord]) async {
        guard !placed.isEmpty, let history = recorder?.store else { return }
        do {
            try await history.recordPlaced(placed)
        } catch {
            await note("mrun: warning: cannot record where the launches run: \(error)")
        }
    }

    /// What `execute` will do, for `--dry-run`.
    public static func steps(_ ssh: SSHTarget) -> [String] {
        [
            "ssh each host: check python (after setup), GPUs, mkdir \(ssh.hostDir("HOST")), secrets to"
                + " .mrun/env there (0600, via stdin); one ssh connection per host",
            "place points on the hosts in proportion to their slots (GPUs, or max_per_host without)",
            "rsync changed files to HOST:\(ssh.hostDir("HOST"))/ (tar over ssh without rsync)",
            "start the host's runner detached (setsid, nohup); it runs each point in its own process group"
                + " when a slot is free (no mrun point of any launch holds it), output to"
                + " .mrun/points/LAUNCH_ID/output.log, pid and exit code beside it",
        ]
    }

    func note(_ line: String) async {
        await sink.standardError(Array((line + "\n").utf8))
    }
}
