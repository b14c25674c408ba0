import Foundation
import MrunKit
import Testing

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#endif

/// A fresh directory under the system temporary directory, removed when the test is done with it.
final class ScratchDirectory: Sendable {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mrun-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        // Canonical, so it compares equal to what a child reports as its working directory.
        path = url.resolvingSymlinksInPath().path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` to `name` inside the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = "\(path)/\(name)"
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = "\(path)/\(name)"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func readBytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    }
}

/// Records what a streaming child printed, and when it arrived.
actor RecordingSink: OutputSink {
    enum Stream: Equatable { case output, error }

    struct Chunk {
        var stream: Stream
        var bytes: [UInt8]
        var arrival: ContinuousClock.Instant
    }

    private(set) var chunks: [Chunk] = []

    func standardOutput(_ bytes: [UInt8]) {
        chunks.append(Chunk(stream: .output, bytes: bytes, arrival: .now))
    }

    func standardError(_ bytes: [UInt8]) {
        chunks.append(Chunk(stream: .error, bytes: bytes, arrival: .now))
    }

    func bytes(of stream: Stream) -> [UInt8] {
        chunks.filter { $0.stream == stream }.flatMap(\.bytes)
    }

    func text(of stream: Stream) -> String {
        String(decoding: bytes(of: stream), as: UTF8.self)
    }

    /// When the child's standard output first contained `marker`, or nil if it never did.
    func arrival(of marker: String) -> ContinuousClock.Instant? {
        var seen: [UInt8] = []
        for chunk in chunks where chunk.stream == .output {
            seen += chunk.bytes
            if String(decoding: seen, as: UTF8.self).contains(marker) { return chunk.arrival }
        }
        return nil
    }

    /// Waits until the child's standard output contains `marker`; fails the wait after `timeout`.
    func waitForOutput(containing marker: String, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !text(of: .output).contains(marker) {
            guard ContinuousClock.now < deadline else { throw MarkerTimeout(marker: marker) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

struct MarkerTimeout: Error, CustomStringConvertible {
    var marker: String
    var description: String { "the child never printed '\(marker)'" }
}

/// A python3 script that prints its arguments as a JSON array.
let echoArgumentsScript = """
    import json, sys
    print(json.dumps(sys.argv[1:]))
    """

/// Arguments a shell would mangle; they must reach the child byte for byte.
let awkwardArguments = [
    "hello world", "it's", "\"double quoted\"", "--flag=value with spaces", "-x", "",
    "ünïcödé ✓ 🚀", "$HOME", "back\\slash", "*", "line\nbreak", "  padded  ",
]

func decodeJSONStrings(_ text: String) throws -> [String] {
    try JSONDecoder().decode([String].self, from: Data(text.utf8))
}

/// Deterministic bytes below 0x80 (`high == false`) or at and above it, so two payloads stay
/// separable after they have been interleaved in a log file.
func payload(byteCount: Int, high: Bool) -> [UInt8] {
    (0..<byteCount).map { index in
        let low = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 9) & 0x7F
        return high ? low | 0x80 : low
    }
}

/// The raw disposition of `signal` (handler address and flags), to check it is restored exactly.
func signalDisposition(_ signal: Int32) -> [UInt64] {
    var action = sigaction()
    sigaction(signal, nil, &action)
    #if canImport(Darwin)
        let handler = unsafeBitCast(action.__sigaction_u, to: UInt64.self)
    #else
        let handler = unsafeBitCast(action.__sigaction_handler, to: UInt64.self)
    #endif
    return [handler, UInt64(UInt32(bitPattern: action.sa_flags))]
}
