import Foundation
import MrunSupport
import MrunConfig
import MrunPlan
import MrunHistory

/// A launch's outputs over rsync: from a cluster's login node or an ssh host through its shared
/// ssh connection, or from this machine (``LocalShell``). One listing first (`--list-only`), then
/// one copy of what it checked.
struct RsyncTransport: OutputTransport {
    var shell: any SlurmShell
    var runner: any InputProcessRunning
    var launch: String
    /// Copies at least this big print rsync's progress line.
    var progressBytes = 8 << 20

    func fetch(_ directory: String, _ request: FetchRequest, sink: any OutputSink) async throws -> FetchReport {
        let home = (shell as? LocalShell)?.home ?? ""
        let (options, source) = shell.rsyncDestination(directory, home: home)
        let listed = try await run(["rsync", "-s", "-a", "--list-only", "--no-h"] + options + ["--", source])
        guard listed.status.succeeded else {
            if let failure = shell.transportFailure(listed) { throw failure }
            if listed.standardError.contains("No such file or directory") {
                throw FetchError.nothingWritten(launch: launch, directory: directory)
            }
            throw FetchError.transferFailed(
                tool: "rsync", detail: CodeShipper.lastLine(listed.standardError, status: listed.status))
        }
        let entries = try Self.entries(listed.standardOutput)
        let chosen = try FetchRules.select(entries, paths: request.paths, launch: launch)
        try FetchRules.checkNewer(chosen, destination: request.destination, force: request.force)
        let files = chosen.filter { $0.kind == .file }
        let bytes = files.reduce(0) { $0 + $1.size }
        try FileManager.default.createDirectory(at: request.destination, withIntermediateDirectories: true)
        let sources =
            request.paths.isEmpty
            ? [source] : try request.paths.map { path in source + "./" + (try FetchRules.normalized(path)) }
        // -a keeps modes, times and symlinks (checked above); specials (-D) are not outputs.
        var argv = ["rsync", "-s", "-a", "--no-D"] + (request.paths.isEmpty ? [] : ["--relative"])
        let large = bytes >= progressBytes
        if large { argv += ["--info=progress2", "--no-inc-recursive"] }
        argv += options + ["--"] + sources + [request.destination.path + "/"]
        if large {
            await sink.standardError(
                Array("mrun: fetching \(files.count) files (\(Self.size(bytes))) from \(shell.name)\n".utf8))
        }
        let copied =
            large
            ? try await streamProcess(
                argv, environment: shell.environment, workingDirectory: nil, to: ProgressSink(sink: sink))
            : try await run(argv)
        if large { await sink.standardError(Array("\n".utf8)) }
        guard copied.status.succeeded else {
            if let failure = shell.transportFailure(copied) { throw failure }
            throw FetchError.transferFailed(
                tool: "rsync", detail: CodeShipper.lastLine(copied.standardError, status: copied.status))
        }
        return FetchReport(files: files.count, bytes: bytes, destination: request.destination)
    }

    private func run(_ argv: [String]) async throws -> CommandResult {
        try await runner.run(argv, input: [], environment: shell.environment, workingDirectory: nil)
    }

    /// `rsync --list-only --no-h`'s lines: `-rwxr-xr-x 3 2026/12/04 10:00:00 sub/f.txt`, a link's
    /// name followed by ` -> TARGET`. Times are this machine's local time.
    static func entries(_ listing: String) throws(FetchError) -> [OutputEntry] {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.dateFormat = "yyyy/MM/dd HH:mm:ss"
        var entries: [OutputEntry] = []
        for line in listing.split(whereSeparator: \.isNewline).map(String.init) where !line.isEmpty {
            let fields = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
            guard fields.count == 5, let size = Int(fields[1]),
                let modified = format.date(from: "\(fields[2]) \(fields[3])")
            else { throw .unexpectedListing(line: line) }
            var name = String(fields[4])
            var target: String?
            let kind: OutputEntry.Kind
            switch fields[0].first {
            case "-": kind = .file
            case "d": kind = .directory
            case "l":
                kind = .symlink
                if let arrow = name.range(of: " -> ") {
                    target = String(name[arrow.upperBound...])
                    name = String(name[..<arrow.lowerBound])
                }
            default: kind = .other
            }
            guard name != "." else { continue }
            entries.append(OutputEntry(path: name, kind: kind, size: size, modified: modified, target: target))
        }
        return entries
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) : "\(bytes) bytes"
    }
}

/// rsync's progress line (its standard output) goes to mrun's standard error, where notes go.
struct ProgressSink: OutputSink {
    var sink: any OutputSink

    func standardOutput(_ bytes: [UInt8]) async { await sink.standardError(bytes) }
    func standardError(_ bytes: [UInt8]) async { await sink.standardError(bytes) }
}
