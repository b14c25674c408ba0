import Crypto
import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// One file shipped with an experiment.
public struct SnapshotFile: Codable, Sendable, Equatable {
    /// Relative to the snapshot root, `/`-separated.
    public var path: String
    /// Size in bytes of the content that was hashed.
    public var size: Int
    /// Whether the owner may execute the file (git's notion of the executable bit).
    public var executable: Bool
    /// Lowercase hex SHA-256 of the content.
    public var sha256: String
    /// The text of a file mrun adds to the code (its mrunner compatibility module), which is not
    /// under the root; nil for the project's own files. Not encoded: the plan marks such a file
    /// `generated`, and its text is mrun's.
    public var content: String?

    enum CodingKeys: String, CodingKey {
        case path, size, executable, sha256
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(size, forKey: .size)
        try container.encode(executable, forKey: .executable)
        try container.encode(sha256, forKey: .sha256)
        if content != nil {
            var extra = encoder.container(keyedBy: GeneratedKey.self)
            try extra.encode(true, forKey: .generated)
        }
    }

    private enum GeneratedKey: String, CodingKey {
        case generated
    }

    /// Creates a file entry from already known values.
    public init(path: String, size: Int, executable: Bool, sha256: String) {
        self.path = path
        self.size = size
        self.executable = executable
        self.sha256 = sha256
    }
}

/// The files of a project that an experiment ships, and a hash identifying exactly that code.
public struct CodeSnapshot: Codable, Sendable, Equatable {
    /// Absolute path of the directory snapshotted.
    public var root: String
    /// Sorted by path, compared byte by byte (UTF-8).
    public var files: [SnapshotFile]
    /// Sum of the files' sizes.
    public var totalBytes: Int
    /// Lowercase hex SHA-256 over every file's path, executable bit and content hash, in order.
    ///
    /// Independent of `root`, sizes and timestamps, so the same code at two places hashes the same.
    public var contentHash: String

    /// Creates a snapshot from already known values.
    public init(root: String, files: [SnapshotFile], totalBytes: Int, contentHash: String) {
        self.root = root
        self.files = files
        self.totalBytes = totalBytes
        self.contentHash = contentHash
    }

    /// Files mrun adds to the code it ships, beside the project's.
    public var generatedFiles: [SnapshotFile] { files.filter { $0.content != nil } }

    /// The snapshot with `generated` files added (in path order, the hash over all of them), so
    /// every backend ships them with the code and a change of them changes the image.
    public func adding(_ generated: [(path: String, content: String)]) -> CodeSnapshot {
        var all = files
        for file in generated {
            let bytes = Array(file.content.utf8)
            var entry = SnapshotFile(
                path: file.path, size: bytes.count, executable: false, sha256: HexEncoding.hex(SHA256.hash(data: bytes))
            )
            entry.content = file.content
            all.removeAll { $0.path == file.path }
            all.append(entry)
        }
        all.sort { $0.path.lexicographicallyPrecedes($1.path) }
        return CodeSnapshot(
            root: root, files: all, totalBytes: all.reduce(0) { $0 + $1.size },
            contentHash: CodeSnapshotter.contentHash(of: all))
    }
}

/// Why a directory could not be snapshotted.
public enum SnapshotError: UserFacingError, Equatable {
    case rootNotFound(path: String)
    case rootNotDirectory(path: String)
    case unreadableDirectory(path: String, reason: String)
    case unreadableFile(path: String, reason: String)
    case unreadableIgnoreFile(path: String, reason: String)
    case fileNameNotUTF8(path: String)

    /// One line naming the path at fault and how to fix it.
    public var description: String {
        switch self {
        case .rootNotFound(let path):
            return "code directory \(quoted: path) does not exist; pass the path of your project directory"
        case .rootNotDirectory(let path):
            return "code directory \(quoted: path) is not a directory; pass the directory that contains your project"
        case .unreadableDirectory(let path, let reason):
            return "cannot list directory \(quoted: path) (\(reason)); make it readable or add it to .mrunignore"
        case .unreadableFile(let path, let reason):
            return "cannot read file \(quoted: path) (\(reason)); make it readable or add it to .mrunignore"
        case .unreadableIgnoreFile(let path, let reason):
            return "cannot read ignore file \(quoted: path) (\(reason)); make it readable or delete it"
        case .fileNameNotUTF8(let path):
            return "file name \(quoted: path) is not valid UTF-8; rename it or add it to .mrunignore"
        }
    }
}

/// Builds a ``CodeSnapshot`` of a project directory.
public enum CodeSnapshotter {
    /// Walks `root`, leaves out what ``IgnoreRules`` excludes (defaults, every `.gitignore`, then the
    /// root `.mrunignore`), and hashes every remaining regular file.
    ///
    /// Directory symlinks are not followed; a symlink to a file is shipped with the target's content
    /// and executable bit; dangling symlinks, sockets, FIFOs and devices are skipped, as is any
    /// entry named `.git` (a worktree's `.git` file holds a machine-specific path). Empty
    /// directories are not represented.
    public static func snapshot(root: URL) throws -> CodeSnapshot {
        let rootPath = normalizedPath(of: root)
        var walker = try SnapshotWalker(rootPath: rootPath)
        try walker.walk()
        var entries = walker.collected
        entries.sort { $0.path.lexicographicallyPrecedes($1.path) }

        var files: [SnapshotFile] = []
        files.reserveCapacity(entries.count)
        var totalBytes = 0
        for entry in entries {
            guard let path = String(validating: entry.path, as: UTF8.self) else {
                let shown = String(decoding: entry.path, as: UTF8.self)
                throw SnapshotError.fileNameNotUTF8(path: joined(rootPath, shown))
            }
            files.append(SnapshotFile(path: path, size: entry.size, executable: entry.executable, sha256: entry.sha256))
            totalBytes += entry.size
        }
        return CodeSnapshot(root: rootPath, files: files, totalBytes: totalBytes, contentHash: contentHash(of: files))
    }

    /// The ``CodeSnapshot/contentHash`` of `files`, taken in the given order.
    ///
    /// Framing, per file: the UTF-8 path, one byte for the executable bit, then the hex digest text,
    /// each variable-length field preceded by its length as 8 bytes little-endian, so no two file
    /// lists share an input. A version tag comes first, so a future change of framing cannot collide.
    public static func contentHash(of files: [SnapshotFile]) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("mrun-code-snapshot-v1\n".utf8))
        for file in files {
            let path = Array(file.path.utf8)
            let digest = Array(file.sha256.utf8)
            withUnsafeBytes(of: UInt64(path.count).littleEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: path)
            hasher.update(data: [file.executable ? 1 : 0])
            withUnsafeBytes(of: UInt64(digest.count).littleEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: digest)
        }
        return HexEncoding.hex(hasher.finalize())
    }

    private static func normalizedPath(of url: URL) -> String {
        var path = url.standardizedFileURL.path(percentEncoded: false)
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    static func joined(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
