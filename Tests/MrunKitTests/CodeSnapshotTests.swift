import Crypto
import Foundation
import MrunKit
import Testing

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A scratch directory under the system temporary directory, removed when released.
private final class TemporaryTree {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mrun-snapshot-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    func write(_ relative: String, _ contents: String, executable: Bool = false) throws {
        try write(relative, Data(contents.utf8), executable: executable)
    }

    func write(_ relative: String, _ contents: Data, executable: Bool = false) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: file)
        try setExecutable(relative, executable)
    }

    func setExecutable(_ relative: String, _ executable: Bool) throws {
        try FileManager.default.setAttributes(
            [.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: path(relative))
    }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
    }

    func symlink(_ relative: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path(relative), withDestinationPath: destination)
    }

    func move(_ from: String, to destination: String) throws {
        try FileManager.default.moveItem(atPath: path(from), toPath: path(destination))
    }

    func snapshot() throws -> CodeSnapshot { try CodeSnapshotter.snapshot(root: url) }

    func shippedPaths() throws -> [String] { try snapshot().files.map(\.path) }
}

private func sha256Hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

struct CodeSnapshotTests {
    @Test func snapshotListsFilesSortedByBytesWithSizesAndHashes() throws {
        let tree = try TemporaryTree()
        try tree.write("a.txt", "hello\n")
        try tree.write("a/b.txt", "b")
        try tree.write("B.txt", "")
        try tree.write("é.txt", "accent")
        try tree.write("z.txt", "zz")
        let snapshot = try tree.snapshot()
        // '/' (0x2F) sorts after '.' (0x2E); uppercase before lowercase; UTF-8 'é' after ASCII.
        #expect(snapshot.files.map(\.path) == ["B.txt", "a.txt", "a/b.txt", "z.txt", "é.txt"])
        let hello = try #require(snapshot.files.first { $0.path == "a.txt" })
        #expect(hello.sha256 == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        #expect(hello.size == 6)
        #expect(snapshot.totalBytes == 6 + 1 + 0 + 6 + 2)
        #expect(snapshot.root == tree.url.standardizedFileURL.path)
        #expect(snapshot.contentHash.count == 64)
    }

    @Test func snapshotAppliesDefaultsNestedGitignoresAndMrunignore() throws {
        let tree = try TemporaryTree()
        try tree.write(".git/config", "[core]")
        try tree.write("pkg/__pycache__/mod.cpython-312.pyc", "x")
        try tree.write("pkg/stale.pyc", "x")
        try tree.write("pkg/.DS_Store", "x")
        try tree.write("pkg/mod.py", "print(1)")
        try tree.write(".gitignore", "*.log\nbuild/\n!build/keep.txt\n/outputs\n")
        try tree.write("run.log", "x")
        try tree.write("build/keep.txt", "x")
        try tree.write("outputs/result.json", "{}")
        try tree.write("src/outputs/model.py", "x")
        try tree.write("src/.gitignore", "!debug.log\n/generated/\n")
        try tree.write("src/debug.log", "x")
        try tree.write("src/generated/table.py", "x")
        try tree.write("src/deep/generated/kept.py", "x")
        try tree.write(".mrunignore", "!run.log\nsrc/outputs/\n")
        #expect(
            try tree.shippedPaths() == [
                ".gitignore", ".mrunignore", "pkg/mod.py", "run.log", "src/.gitignore", "src/debug.log",
                "src/deep/generated/kept.py",
            ])
    }

    @Test func gitWorktreeFileIsNeverShipped() throws {
        let tree = try TemporaryTree()
        try tree.write(".git", "gitdir: /elsewhere/.git/worktrees/wt\n")
        try tree.write("sub/.git", "gitdir: /elsewhere/.git/modules/sub\n")
        try tree.write("sub/main.py", "x")
        try tree.write(".mrunignore", "!.git\n")
        #expect(try tree.shippedPaths() == [".mrunignore", "sub/main.py"])
    }

    @Test func executableBitIsRecorded() throws {
        let tree = try TemporaryTree()
        try tree.write("train.sh", "#!/bin/sh\n", executable: true)
        try tree.write("config.yaml", "lr: 1\n")
        let files = try tree.snapshot().files
        #expect(files.map(\.executable) == [false, true])
        #expect(files.map(\.path) == ["config.yaml", "train.sh"])
    }

    @Test func symlinksToFilesShipContentAndOthersAreSkipped() throws {
        let tree = try TemporaryTree()
        try tree.write("real/data.txt", "payload", executable: true)
        try tree.symlink("link.txt", to: "real/data.txt")
        try tree.symlink("linked-dir", to: "real")
        try tree.symlink("dangling.txt", to: "missing.txt")
        let files = try tree.snapshot().files
        #expect(files.map(\.path) == ["link.txt", "real/data.txt"])
        #expect(files[0].sha256 == files[1].sha256)
        #expect(files[0].size == 7)
        #expect(files[0].executable)
    }

    @Test func fifosAreSkipped() throws {
        let tree = try TemporaryTree()
        try tree.write("main.py", "x")
        #expect(mkfifo(tree.path("pipe"), 0o644) == 0)
        #expect(try tree.shippedPaths() == ["main.py"])
    }

    @Test func largeFilesAreHashedAcrossChunks() throws {
        let tree = try TemporaryTree()
        let contents = Data((0..<(3 * 1_048_576 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try tree.write("weights.bin", contents)
        let file = try #require(try tree.snapshot().files.first)
        #expect(file.size == contents.count)
        #expect(file.sha256 == sha256Hex(contents))
    }

    @Test func contentHashTracksContentExecutableBitAndPaths() throws {
        let tree = try TemporaryTree()
        try tree.write(".gitignore", "*.tmp\n")
        try tree.write("main.py", "print(1)\n")
        try tree.write("scratch.tmp", "a")
        let original = try tree.snapshot().contentHash

        try tree.write("scratch.tmp", "changed")
        #expect(try tree.snapshot().contentHash == original, "ignored files do not count")

        try tree.write("main.py", "print(2)\n")
        let edited = try tree.snapshot().contentHash
        #expect(edited != original)
        try tree.write("main.py", "print(1)\n")
        #expect(try tree.snapshot().contentHash == original)

        try tree.setExecutable("main.py", true)
        #expect(try tree.snapshot().contentHash != original)
        try tree.setExecutable("main.py", false)

        try tree.move("main.py", to: "app.py")
        #expect(try tree.snapshot().contentHash != original)
    }

    @Test func contentHashDoesNotDependOnRootLocation() throws {
        let first = try TemporaryTree()
        let second = try TemporaryTree()
        for tree in [first, second] {
            try tree.write("src/model.py", "class Model: pass\n")
            try tree.write("run.sh", "python -m src.model\n", executable: true)
        }
        let (a, b) = (try first.snapshot(), try second.snapshot())
        #expect(a.root != b.root)
        #expect(a.contentHash == b.contentHash)
    }

    @Test func contentHashFramingIsUnambiguous() {
        let digest = String(repeating: "0", count: 64)
        let split = [
            SnapshotFile(path: "ab", size: 0, executable: false, sha256: digest),
            SnapshotFile(path: "c", size: 0, executable: false, sha256: digest),
        ]
        let shifted = [
            SnapshotFile(path: "a", size: 0, executable: false, sha256: digest),
            SnapshotFile(path: "bc", size: 0, executable: false, sha256: digest),
        ]
        #expect(CodeSnapshotter.contentHash(of: split) != CodeSnapshotter.contentHash(of: shifted))
        #expect(CodeSnapshotter.contentHash(of: []) != CodeSnapshotter.contentHash(of: Array(split.prefix(1))))
    }

    @Test func missingRootIsAClearError() throws {
        let tree = try TemporaryTree()
        let missing = tree.url.appendingPathComponent("nope")
        #expect(throws: SnapshotError.rootNotFound(path: missing.path)) { try CodeSnapshotter.snapshot(root: missing) }
        let message = SnapshotError.rootNotFound(path: missing.path).description
        #expect(message.contains(missing.path))
        #expect(!message.contains("\n"))
    }

    @Test func rootThatIsAFileIsAClearError() throws {
        let tree = try TemporaryTree()
        try tree.write("file.txt", "x")
        let file = tree.url.appendingPathComponent("file.txt")
        #expect(throws: SnapshotError.rootNotDirectory(path: file.path)) { try CodeSnapshotter.snapshot(root: file) }
    }

    @Test func everyErrorIsOneLineNamingThePath() {
        let errors: [SnapshotError] = [
            .rootNotFound(path: "/p/x"), .rootNotDirectory(path: "/p/x"),
            .unreadableDirectory(path: "/p/x", reason: "Permission denied"),
            .unreadableFile(path: "/p/x", reason: "Permission denied"),
            .unreadableIgnoreFile(path: "/p/x", reason: "Permission denied"), .fileNameNotUTF8(path: "/p/x"),
        ]
        for error in errors {
            #expect(error.description.contains("'/p/x'"))
            #expect(!error.description.contains("\n"))
        }
    }
}
