import Foundation

import Glibc

/// An exclusive advisory lock on a file, held across the read-check-write of a change so two mrun
/// processes cannot interleave their edits. The kernel drops it if the process dies.
public final class FileLock {
    private let descriptor: Int32

    public convenience init(_ url: URL) throws {
        guard let descriptor = try Self.lock(url, wait: true) else {
            throw AtomicFile.posixError("cannot lock \(url.path)")
        }
        self.init(descriptor: descriptor)
    }

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// The lock on `url` if no other process holds it, else nil (without waiting).
    public static func attempt(_ url: URL) throws -> FileLock? {
        try lock(url, wait: false).map { FileLock(descriptor: $0) }
    }

    private static func lock(_ url: URL, wait: Bool) throws -> Int32? {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("cannot open the lock file \(url.path)") }
        while flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            errno = code
            throw AtomicFile.posixError("cannot lock \(url.path)")
        }
        return fd
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
