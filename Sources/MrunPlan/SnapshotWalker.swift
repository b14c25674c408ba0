import Crypto
import MrunSupport
import MrunConfig
import MrunTemplates

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A shipped file before its path is validated as UTF-8.
struct CollectedFile {
    var path: [UInt8]
    var size: Int
    var executable: Bool
    var sha256: String
}

/// Depth-first walk over raw POSIX calls: on trees of thousands of files, `FileManager` and `URL`
/// per entry cost more than the hashing itself.
struct SnapshotWalker: ~Copyable {
    private static let chunkSize = 1 << 20
    private static let gitName = Array(".git".utf8)
    private static let gitignoreName = Array(".gitignore".utf8)

    private let rootPath: String
    private var rules = IgnoreRules()
    /// Path of the entry being looked at, relative to the root and `/`-joined.
    private var relativePath: [UInt8] = []
    /// One buffer for every read, so large files stream through constant memory.
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var collected: [CollectedFile] = []

    init(rootPath: String) throws {
        var info = stat()
        guard stat(rootPath, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw SnapshotError.rootNotFound(path: rootPath) }
            throw SnapshotError.unreadableDirectory(path: rootPath, reason: SnapshotWalker.reason(code))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw SnapshotError.rootNotDirectory(path: rootPath) }
        self.rootPath = rootPath
        buffer = .allocate(byteCount: SnapshotWalker.chunkSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    mutating func walk() throws {
        let overridesPath = CodeSnapshotter.joined(rootPath, ".mrunignore")
        if let contents = try readIgnoreFile(atPath: overridesPath) { rules.setOverrides(contents: contents) }
        try walkDirectory(Array(rootPath.utf8))
    }

    private mutating func walkDirectory(_ directoryPath: [UInt8]) throws {
        let entries = try listDirectory(directoryPath)
        let hasIgnoreFile = entries.contains { $0.name == SnapshotWalker.gitignoreName }
        if hasIgnoreFile, let contents = try readIgnoreFile(atPath: childPath(directoryPath, ".gitignore")) {
            rules.addIgnoreFile(contents: contents, directory: relativePath)
        }
        defer { if hasIgnoreFile { rules.removeDeepestIgnoreFile() } }

        for entry in entries {
            // Git itself never looks inside or ships `.git`, whatever its type or the rules say.
            if entry.name == SnapshotWalker.gitName { continue }
            let path = directoryPath + [.slash] + entry.name
            guard let kind = try kind(of: entry, atPath: path) else { continue }
            let parentLength = relativePath.count
            if parentLength > 0 { relativePath.append(.slash) }
            let nameStart = relativePath.count
            relativePath.append(contentsOf: entry.name)
            defer { relativePath.removeSubrange(parentLength...) }
            if rules.isExcluded(relativePath, nameStart: nameStart, isDirectory: kind == .directory) { continue }
            switch kind {
            case .directory: try walkDirectory(path)
            case .file: if let file = try hashFile(atPath: path) { collected.append(file) }
            }
        }
    }

    private enum Kind { case file, directory }

    /// What to do with an entry: `nil` skips it (special files, directory and dangling symlinks).
    private func kind(of entry: DirectoryEntry, atPath path: [UInt8]) throws -> Kind? {
        switch Int32(entry.type) {
        case Int32(DT_DIR): return .directory
        case Int32(DT_REG): return .file
        case Int32(DT_LNK): return try statKind(path, followingLinks: true)
        case Int32(DT_UNKNOWN): return try statKind(path, followingLinks: false)
        default: return nil
        }
    }

    private func statKind(_ path: [UInt8], followingLinks: Bool) throws -> Kind? {
        var info = stat()
        let status = withCString(path) { followingLinks ? stat($0, &info) : lstat($0, &info) }
        guard status == 0 else {
            let code = errno
            if code == ENOENT || code == ELOOP || code == ENOTDIR { return nil }
            throw SnapshotError.unreadableFile(path: display(path), reason: SnapshotWalker.reason(code))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return followingLinks ? nil : .directory
        case S_IFLNK: return try statKind(path, followingLinks: true)
        default: return nil
        }
    }

    private struct DirectoryEntry {
        var name: [UInt8]
        var type: UInt8
    }

    /// Reads the whole listing first so no directory handle stays open while recursing.
    private func listDirectory(_ path: [UInt8]) throws -> [DirectoryEntry] {
        guard let directory = withCString(path, { opendir($0) }) else {
            throw SnapshotError.unreadableDirectory(path: display(path), reason: SnapshotWalker.reason(errno))
        }
        defer { closedir(directory) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            entries.append(DirectoryEntry(name: name, type: entry.pointee.d_type))
        }
        return entries
    }

    /// Hashes a file in chunks; `nil` when it vanished or turned out not to be a regular file.
    private func hashFile(atPath path: [UInt8]) throws -> CollectedFile? {
        // O_NONBLOCK so that a FIFO swapped in after listing cannot hang the open.
        let descriptor = withCString(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw SnapshotError.unreadableFile(path: display(path), reason: SnapshotWalker.reason(code))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }

        var hasher = SHA256()
        var size = 0
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count == 0 { break }
            guard count > 0 else {
                let code = errno
                if code == EINTR || code == EAGAIN { continue }
                throw SnapshotError.unreadableFile(path: display(path), reason: SnapshotWalker.reason(code))
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            size += count
        }
        return CollectedFile(
            path: relativePath, size: size, executable: info.st_mode & S_IXUSR != 0,
            sha256: HexEncoding.hex(hasher.finalize()))
    }

    /// The ignore file's bytes; `nil` when it is absent or not a regular file.
    private func readIgnoreFile(atPath path: [UInt8]) throws -> [UInt8]? {
        let descriptor = withCString(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR || code == ELOOP { return nil }
            throw SnapshotError.unreadableIgnoreFile(path: display(path), reason: SnapshotWalker.reason(code))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        var contents: [UInt8] = []
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count == 0 { return contents }
            guard count > 0 else {
                let code = errno
                if code == EINTR || code == EAGAIN { continue }
                throw SnapshotError.unreadableIgnoreFile(path: display(path), reason: SnapshotWalker.reason(code))
            }
            contents.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    private func readIgnoreFile(atPath path: String) throws -> [UInt8]? { try readIgnoreFile(atPath: Array(path.utf8)) }

    private func childPath(_ directory: [UInt8], _ name: String) -> [UInt8] { directory + [.slash] + Array(name.utf8) }

    private func withCString<Result>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> Result) -> Result {
        SnapshotWalker.call(body, with: path + [0])
    }

    /// The array-to-pointer conversion at the call site keeps the NUL-terminated bytes alive and
    /// gives a non-optional pointer for the duration of `body`.
    private static func call<Result>(_ body: (UnsafePointer<CChar>) -> Result, with terminatedPath: UnsafeRawPointer)
        -> Result
    { body(terminatedPath.assumingMemoryBound(to: CChar.self)) }

    private func display(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }

    private static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}
