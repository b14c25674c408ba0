import Foundation
import MrunSupport
import MrunConfig
import MrunPlan
import MrunHistory

/// What `mrun fetch` asks of one launch: the paths under its output directory (none: all of it),
/// where they go, and whether a newer local file may be overwritten.
public struct FetchRequest: Sendable, Equatable {
    public var paths: [String]
    /// `./outputs/NAME`, or `--to DIR`'s `DIR/NAME`.
    public var destination: URL
    public var force: Bool

    public init(paths: [String] = [], destination: URL, force: Bool = false) {
        self.paths = paths
        self.destination = destination
        self.force = force
    }
}

/// What a fetch copied.
public struct FetchReport: Sendable, Equatable {
    public var files: Int
    public var bytes: Int
    public var destination: URL
}

/// Copies a launch's output directory (or paths under it) here; one per backend's way there.
public protocol OutputTransport: Sendable {
    /// Copies `request.paths` of `directory` (the launch's `MRUN_OUTPUT_DIR` as the job saw it)
    /// to `request.destination`, keeping modes and times, after checking what would arrive.
    func fetch(_ directory: String, _ request: FetchRequest, sink: any OutputSink) async throws -> FetchReport
}

public enum FetchError: Error, Equatable, CustomStringConvertible {
    case pathEscapes(path: String)
    case symlinkEscapes(path: String, target: String)
    case nothingWritten(launch: String, directory: String)
    case pathMissing(path: String, launch: String)
    case newerHere(paths: [String], count: Int)
    case transferFailed(tool: String, detail: String)
    case unexpectedListing(line: String)
    /// SIGINT or SIGTERM, after what the fetch made on the cluster was removed.
    case interrupted

    public var description: String {
        switch self {
        case .pathEscapes(let path):
            return "\(quoted: path) is not inside the launch's output directory; name a path relative to it,"
                + " without '..'"
        case .symlinkEscapes(let path, let target):
            return "\(quoted: path) is a symlink out of the launch's output directory (to \(quoted: target));"
                + " mrun fetch copies nothing from outside it: name other paths, or replace the link"
        case .nothingWritten(let launch, let directory):
            return "launch \(launch) has no output directory \(directory) (MRUN_OUTPUT_DIR): it wrote nothing"
                + " there, or it has not started"
        case .pathMissing(let path, let launch):
            return "launch \(launch) has no \(quoted: path) in its output directory"
        case .newerHere(let paths, let count):
            let shown = paths.prefix(3).joined(separator: ", ")
            return "\(count) local file\(count == 1 ? " is" : "s are") newer than the launch's (\(shown)"
                + "\(count > 3 ? ", ..." : "")); nothing copied: pass --force to overwrite them"
        case .transferFailed(let tool, let detail):
            return "copying the outputs with \(tool) failed: \(detail)"
        case .interrupted:
            return "interrupted; the fetch pods were deleted"
        case .unexpectedListing(let line):
            return "rsync listed the output directory in an unexpected way: \(quoted: line)"
        }
    }
}

/// One entry of an output directory: a file, directory or symlink, relative to the directory.
struct OutputEntry: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case file, directory, symlink, other
    }

    var path: String
    var kind: Kind
    var size: Int
    var modified: Date
    var target: String?
}

/// What every transport checks before copying: paths that stay inside, symlinks that do, and no
/// newer local file overwritten without `--force`.
enum FetchRules {
    /// A requested path, `./`-less and without a trailing slash; refused when absolute or with `..`.
    static func normalized(_ path: String) throws(FetchError) -> String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        parts.removeAll { $0 == "." }
        guard !path.hasPrefix("/"), !parts.contains(".."), !parts.isEmpty else {
            throw .pathEscapes(path: path)
        }
        return parts.joined(separator: "/")
    }

    /// Whether a symlink at `path` (relative to the directory) pointing at `target` leaves it.
    static func escapes(_ path: String, target: String) -> Bool {
        if target.hasPrefix("/") { return true }
        var stack = path.split(separator: "/").dropLast().map(String.init)
        for part in target.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                if stack.isEmpty { return true }
                stack.removeLast()
            default: stack.append(String(part))
            }
        }
        return false
    }

    /// The entries a fetch of `paths` takes (all for none), checked.
    static func select(_ entries: [OutputEntry], paths: [String], launch: String) throws(FetchError) -> [OutputEntry] {
        var chosen = entries
        if !paths.isEmpty {
            let wanted = try paths.map { path throws(FetchError) in try normalized(path) }
            for path in wanted where !entries.contains(where: { $0.path == path }) {
                throw .pathMissing(path: path, launch: launch)
            }
            chosen = entries.filter { entry in
                wanted.contains { entry.path == $0 || entry.path.hasPrefix($0 + "/") }
            }
        }
        for entry in chosen where entry.kind == .symlink {
            if let target = entry.target, escapes(entry.path, target: target) {
                throw .symlinkEscapes(path: entry.path, target: target)
            }
        }
        return chosen
    }

    /// Refuses, unless `force`, when a local file under `destination` is newer than the one that
    /// would replace it (a second of slack: listings give whole seconds).
    static func checkNewer(_ entries: [OutputEntry], destination: URL, force: Bool) throws(FetchError) {
        guard !force else { return }
        var newer: [String] = []
        for entry in entries where entry.kind == .file {
            let local = destination.appendingPathComponent(entry.path).path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: local),
                let modified = attributes[.modificationDate] as? Date
            else { continue }
            if modified.timeIntervalSince(entry.modified) > 1 { newer.append(entry.path) }
        }
        if !newer.isEmpty { throw .newerHere(paths: newer, count: newer.count) }
    }
}
