import Foundation

import Glibc

/// An exclusive advisory lock on a file, held across the read-check-write of a change so two mrun
/// processes cannot interleave their edits. The kernel drops it if the process dies.
public final class FileLock {
    private let descriptor: Int32

    public init(_ url: URL) throws {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("cannot open the lock file \(url.path)") }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            close(fd)
            throw AtomicFile.posixError("cannot lock \(url.path)")
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Runs `body` while holding the lock on `url`.
    public static func withLock<T>(_ url: URL, _ body: () throws -> T) throws -> T {
        let lock = try FileLock(url)
        return try withExtendedLifetime(lock) { try body() }
    }
}
