import Foundation
import MrunSupport

/// The output of launches that have ended, kept under `$MRUN_HOME/logs/ID.log` (`ID.log.gz` over
/// 1 MiB), so that `mrun logs` still shows it once the cluster has forgotten the job: its Job and
/// pods deleted, its Slurm directory cleaned, its run directory removed. A log over the cap keeps
/// its head and its tail, with a line saying how much was left out between them.
public struct SavedLogs: Sendable {
    public let directory: URL
    public var runner: any ProcessRunning
    /// Bytes kept per launch.
    public var limit: Int
    /// Logs longer than this are gzipped (with the system's `gzip`).
    public var compressAbove: Int

    public static let defaultLimit = 64 << 20
    public static let defaultCompressAbove = 1 << 20

    public init(
        home: URL, runner: any ProcessRunning, limit: Int = Self.defaultLimit,
        compressAbove: Int = Self.defaultCompressAbove
    ) {
        directory = home.appendingPathComponent("logs")
        self.runner = runner
        self.limit = limit
        self.compressAbove = compressAbove
    }

    /// Where launch `id`'s log is saved, when it is.
    public func file(of id: String) -> URL? {
        for name in ["\(id).log", "\(id).log.gz"] {
            let file = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: file.path) { return file }
        }
        return nil
    }

    /// Saves `bytes` as launch `id`'s log, replacing an earlier copy; written to a temporary file
    /// and renamed, so a reader never sees half of it. Mode 0600: an experiment may print secrets.
    @discardableResult
    public func save(_ bytes: [UInt8], of id: String) async throws -> URL {
        guard LaunchID.isWellFormed(id) else { throw SavedLogsError.badID(id) }
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let kept = Self.capped(bytes, limit: limit)
        let scratch = directory.appendingPathComponent(".\(id).\(UUID().uuidString.prefix(8)).log")
        defer {
            try? FileManager.default.removeItem(at: scratch)
            try? FileManager.default.removeItem(at: scratch.appendingPathExtension("gz"))
        }
        guard
            FileManager.default.createFile(
                atPath: scratch.path, contents: Data(kept), attributes: [.posixPermissions: 0o600])
        else { throw SavedLogsError.unwritable(path: scratch.path, reason: "cannot create the file") }
        var written = scratch
        var name = "\(id).log"
        if kept.count > compressAbove {
            let result = try await runner.run(
                ["gzip", "-n", "-f", scratch.path], environment: nil, workingDirectory: nil)
            guard result.status == .exited(0) else {
                throw SavedLogsError.unwritable(
                    path: scratch.path,
                    reason: "gzip: \(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            written = scratch.appendingPathExtension("gz")
            name += ".gz"
        }
        let target = directory.appendingPathComponent(name)
        if rename(written.path, target.path) != 0 {
            throw SavedLogsError.unwritable(path: target.path, reason: String(cString: strerror(errno)))
        }
        // The other form of an earlier copy.
        let other = name.hasSuffix(".gz") ? "\(id).log" : "\(id).log.gz"
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(other))
        return target
    }

    /// Launch `id`'s saved log, nil when there is none.
    public func read(_ id: String) async throws -> [UInt8]? {
        guard let file = file(of: id) else { return nil }
        guard file.pathExtension == "gz" else { return Array(try Data(contentsOf: file)) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mrun-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: scratch) }
        let copy = scratch.appendingPathComponent("log.gz")
        try FileManager.default.copyItem(at: file, to: copy)
        let result = try await runner.run(["gzip", "-d", "-f", copy.path], environment: nil, workingDirectory: nil)
        guard result.status == .exited(0) else {
            throw SavedLogsError.unreadable(
                path: file.path, reason: "gzip: \(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return Array(try Data(contentsOf: scratch.appendingPathComponent("log")))
    }

    public func remove(_ id: String) {
        for name in ["\(id).log", "\(id).log.gz"] {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// `bytes`, or its first and last halves of `limit` with a line between them saying how much
    /// was left out.
    static func capped(_ bytes: [UInt8], limit: Int) -> [UInt8] {
        guard bytes.count > limit, limit > 0 else { return bytes }
        let half = limit / 2
        let note = Array(
            "\n[mrun: \(bytes.count - 2 * half) bytes of this log are left out here; the saved copy keeps its first and last \(half) bytes]\n"
                .utf8)
        return Array(bytes.prefix(half)) + note + Array(bytes.suffix(half))
    }
}

public enum SavedLogsError: UserFacingError, Equatable {
    case badID(String)
    case unwritable(path: String, reason: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .badID(let id): return "\(quoted: id) is not a launch id; the log was not saved"
        case .unwritable(let path, let reason): return "cannot save the log as \(path): \(reason)"
        case .unreadable(let path, let reason): return "cannot read the saved log \(path): \(reason)"
        }
    }
}
