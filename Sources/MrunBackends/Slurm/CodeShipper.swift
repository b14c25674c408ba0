import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Copies a code snapshot into the job directory on the cluster, over the shared ssh connection, or
/// into the job directory here on the login node.
struct CodeShipper {
    enum Tool: String {
        case rsync, tar
    }

    /// What a transfer moved; rsync's statistics, or the archive for tar.
    struct Report: Equatable {
        var tool: Tool
        var files: Int
        /// Files whose content crossed the network; the rest were copied from the previous job.
        var filesSent: Int
        var bytesSent: Int
    }

    /// Sibling of the job directories, pointing at the latest one of the project: rsync compares the
    /// snapshot with it and copies unchanged files there instead of sending them.
    static let previousJobLink = ".mrun-last"

    var session: any SlurmShell
    var runner: any InputProcessRunning

    /// Ships `snapshot` to `jobDirectory` (relative to the remote `home`, or absolute), which exists.
    func ship(_ snapshot: CodeSnapshot, to jobDirectory: String, home: String, with tool: Tool) async throws
        -> Report
    {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mrun-ship-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // NUL-separated, so any file name survives.
        let list = scratch.appendingPathComponent("files")
        try Data(snapshot.files.map { $0.path + "\0" }.joined().utf8).write(to: list)
        var shipped = snapshot
        shipped.root = try Self.stagedRoot(of: snapshot, in: scratch)
        switch tool {
        case .rsync: return try await rsync(shipped, list: list, to: jobDirectory, home: home)
        case .tar:
            return try await tar(
                shipped, list: list, archive: scratch.appendingPathComponent("code.tar"), to: jobDirectory)
        }
    }

    /// The directory to ship from: the project's, or, when mrun adds files of its own (the mrunner
    /// compatibility module), a staging directory of links to the project's files beside mrun's,
    /// which rsync `-L` and tar `-h` follow, so one transfer carries both.
    static func stagedRoot(of snapshot: CodeSnapshot, in scratch: URL) throws -> String {
        guard !snapshot.generatedFiles.isEmpty else { return snapshot.root }
        let staging = scratch.appendingPathComponent("code", isDirectory: true)
        let files = FileManager.default
        let source = URL(fileURLWithPath: snapshot.root)
        // A fixed time, so that rsync's quick check finds an unchanged file unchanged next time.
        let stamp = Date(timeIntervalSince1970: 946_684_800)
        for file in snapshot.files {
            let target = staging.appendingPathComponent(file.path)
            try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if let content = file.content {
                try Data(content.utf8).write(to: target)
                try files.setAttributes([.modificationDate: stamp], ofItemAtPath: target.path)
            } else {
                try files.createSymbolicLink(at: target, withDestinationURL: source.appendingPathComponent(file.path))
            }
        }
        return staging.path
    }

    private func rsync(_ snapshot: CodeSnapshot, list: URL, to jobDirectory: String, home: String) async throws
        -> Report
    {
        // -L ships symlinked files as content, as the snapshot hashed them; -t keeps times so the
        // next launch's quick check finds unchanged files; -E keeps executable bits; -s passes
        // remote paths without a remote shell splitting them.
        let (options, destination) = session.rsyncDestination(jobDirectory, home: home)
        let argv =
            [
                "rsync", "-s", "-tLE", "--from0", "--files-from=\(list.path)",
                "--copy-dest=../\(Self.previousJobLink)", "--stats",
            ] + options + ["--", snapshot.root.hasSuffix("/") ? snapshot.root : snapshot.root + "/", destination]
        let result = try await runner.run(argv, environment: session.environment, workingDirectory: nil)
        guard result.status.succeeded else {
            if let failure = session.transportFailure(result) { throw failure }
            throw SlurmError.transferFailed(
                host: session.name, tool: "rsync", detail: Self.lastLine(result.standardError, status: result.status))
        }
        return Report(
            tool: .rsync, files: snapshot.files.count,
            filesSent: Self.statistic("Number of regular files transferred", in: result.standardOutput) ?? 0,
            bytesSent: Self.statistic("Literal data", in: result.standardOutput) ?? 0)
    }

    private func tar(_ snapshot: CodeSnapshot, list: URL, archive: URL, to jobDirectory: String) async throws
        -> Report
    {
        // -h archives what symlinks point to, as the snapshot hashed it.
        let create = try await runner.run(
            ["tar", "-C", snapshot.root, "--null", "-T", list.path, "-h", "-cf", archive.path],
            environment: session.environment, workingDirectory: nil)
        guard create.status.succeeded else {
            throw SlurmError.transferFailed(
                host: session.name, tool: "tar", detail: Self.lastLine(create.standardError, status: create.status))
        }
        let bytes = try [UInt8](Data(contentsOf: archive))
        let result = try await session.run(
            "tar -xf - -C \(TemplateFilters.shellQuote(jobDirectory))", input: bytes)
        guard result.status.succeeded else {
            throw SlurmError.transferFailed(
                host: session.name, tool: session.overSSH ? "tar over ssh" : "tar",
                detail: Self.lastLine(result.standardError, status: result.status))
        }
        return Report(tool: .tar, files: snapshot.files.count, filesSent: snapshot.files.count, bytesSent: bytes.count)
    }

    /// A number from rsync's `--stats`, e.g. `Literal data: 1,234 bytes`.
    static func statistic(_ label: String, in output: String) -> Int? {
        for line in output.split(whereSeparator: \.isNewline) where line.hasPrefix(label + ":") {
            let value = line.dropFirst(label.count + 1).drop { $0 == " " }
            return Int(value.prefix { $0.isNumber || $0 == "," || $0 == "." }.filter(\.isNumber))
        }
        return nil
    }

    /// The last message a failed command printed, for a one-line error.
    static func lastLine(_ standardError: String, status: ExitStatus) -> String {
        let lines = standardError.split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        // rsync's final "rsync error: ... (code N) at main.c(...)" says less than the line before it.
        let useful = lines.filter { !$0.isEmpty && !$0.hasPrefix("rsync error:") }
        return useful.last ?? lines.last ?? "exit status \(status.shellCode)"
    }
}
