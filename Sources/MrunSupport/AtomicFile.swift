import Foundation

import Glibc

/// Writes files so that readers and crashes only ever see the old content or the new, never a part:
/// the bytes go to a temporary file in the same directory, are flushed to disk, then renamed over the
/// target.
public enum AtomicFile {
    /// The steps of a write, named so tests can make one fail and check nothing was lost.
    public enum Step: String, CaseIterable, Sendable {
        case createTemporary, writeContent, flush, rename
    }

    public static func write(
        _ content: String, to url: URL, mode: mode_t = 0o644,
        failingAt failure: (@Sendable (Step) throws -> Void)? = nil
    ) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        removeStaleTemporaries(of: url)
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try failure?(.createTemporary)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw posixError("cannot create \(temporary.path)") }
        var renamed = false
        defer {
            if !renamed { unlink(temporary.path) }
        }
        do {
            defer { close(fd) }
            // The mode passed to open is masked by the umask; secrets need exactly this mode.
            guard fchmod(fd, mode) == 0 else { throw posixError("cannot set the mode of \(temporary.path)") }
            try failure?(.writeContent)
            var bytes = Array(content.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { buffer -> Int in
                    guard let base = buffer.baseAddress else { return 0 }
                    return Glibc.write(fd, base + offset, buffer.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw posixError("cannot write \(temporary.path)")
                }
                offset += written
            }
            try failure?(.flush)
            guard fsync(fd) == 0 else { throw posixError("cannot flush \(temporary.path)") }
        }
        try failure?(.rename)
        guard rename(temporary.path, url.path) == 0 else {
            throw posixError("cannot replace \(url.path)")
        }
        renamed = true
        let directoryFD = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Temporary files left by writers that were killed mid-write (SIGKILL, power loss): the
    /// target file is intact, but their leftovers would pile up beside it.
    static func removeStaleTemporaries(of url: URL) {
        let prefix = ".\(url.lastPathComponent).tmp-"
        let directory = url.deletingLastPathComponent()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let owner = entry.dropFirst(prefix.count).split(separator: "-").first.flatMap { pid_t($0) }
            guard let owner, owner != getpid(), kill(owner, 0) != 0, errno == ESRCH else { continue }
            unlink(directory.appendingPathComponent(entry).path)
        }
    }

    static func posixError(_ what: String) -> FileError {
        FileError("\(what): \(String(cString: strerror(errno)))")
    }
}
