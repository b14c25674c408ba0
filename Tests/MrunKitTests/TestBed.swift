import Foundation
import Subprocess
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real components `scripts/testbed/up.sh` starts, found through the endpoints it writes to
/// `$MRUN_TESTBED/env.sh` (default `/var/tmp/mrun-testbed/env.sh`). A test that needs a component
/// fails, never skips, when it is missing: `make test` brings the test bed up first.
struct TestBed {
    static let defaultDirectory = "/var/tmp/mrun-testbed"
    static let upCommand = "make testbed"

    let variables: [String: String]

    var dockerHost: String { variables["DOCKER_HOST"] ?? "" }
    var registry: String { variables["MRUN_TEST_REGISTRY"] ?? "" }
    var authRegistry: String { variables["MRUN_TEST_AUTH_REGISTRY"] ?? "" }
    var registryUser: String { variables["MRUN_TEST_REGISTRY_USER"] ?? "" }
    var baseImage: String { variables["MRUN_TEST_BASE_IMAGE"] ?? "" }
    /// `--network` for build and run when docker runs without a bridge network, else nil.
    var network: String? { variables["MRUN_TEST_DOCKER_NETWORK"].flatMap { $0.isEmpty ? nil : $0 } }

    var registryPassword: String {
        get throws {
            let path = try require("MRUN_TEST_REGISTRY_PASSWORD_FILE", component: "registry")
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The test bed with docker, both registries and the base image, checked to answer.
    static func withRegistries(sourceLocation: SourceLocation = #_sourceLocation) async throws -> TestBed {
        let bed = try load(sourceLocation: sourceLocation)
        let socket = try bed.require("DOCKER_HOST", component: "docker", sourceLocation: sourceLocation)
        if socket.hasPrefix("unix://"), !FileManager.default.fileExists(atPath: String(socket.dropFirst(7))) {
            throw bed.missing("docker", "its socket \(socket) does not exist", sourceLocation: sourceLocation)
        }
        for name in ["MRUN_TEST_REGISTRY", "MRUN_TEST_AUTH_REGISTRY"] {
            let registry = try bed.require(name, component: "registry", sourceLocation: sourceLocation)
            guard answers(registry) else {
                throw bed.missing("registry", "nothing answers at \(registry)", sourceLocation: sourceLocation)
            }
        }
        _ = try bed.require("MRUN_TEST_BASE_IMAGE", component: "base-image", sourceLocation: sourceLocation)
        return bed
    }

    static func load(sourceLocation: SourceLocation = #_sourceLocation) throws -> TestBed {
        let directory = ProcessInfo.processInfo.environment["MRUN_TESTBED"].flatMap { $0.isEmpty ? nil : $0 }
        let path = (directory ?? defaultDirectory) + "/env.sh"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            Issue.record(
                "the test bed is not set up: no \(path); run '\(upCommand)' as root", sourceLocation: sourceLocation)
            throw TestBedError.missing
        }
        return TestBed(variables: parseExports(text))
    }

    func require(_ name: String, component: String, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> String
    {
        guard let value = variables[name], !value.isEmpty else {
            throw missing(component, "env.sh has no \(name)", sourceLocation: sourceLocation)
        }
        return value
    }

    private func missing(_ component: String, _ reason: String, sourceLocation: SourceLocation) -> TestBedError {
        Issue.record(
            "test bed component '\(component)' is not up (\(reason)); run '\(Self.upCommand)' as root",
            sourceLocation: sourceLocation)
        return .missing
    }

    /// Whether something accepts TCP connections at `HOST:PORT` (an IPv4 address, as env.sh writes it).
    /// A plain connect: Foundation on Linux hangs on the login registry's `401` answer.
    private static func answers(_ registry: String) -> Bool {
        let parts = registry.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return false }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &address.sin_addr) == 1 else { return false }
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// The `export NAME=VALUE` lines of a shell file, with the shell's quoting undone (`'…'`,
    /// `"…"`, backslash escapes); nothing is executed.
    static func parseExports(_ text: String) -> [String: String] {
        var variables: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("export "), let equals = line.firstIndex(of: "=") else { continue }
            let name = line[line.index(line.startIndex, offsetBy: 7)..<equals].trimmingCharacters(in: .whitespaces)
            variables[name] = unquote(line[line.index(after: equals)...])
        }
        return variables
    }

    private static func unquote(_ word: Substring) -> String {
        var value = ""
        var rest = word[...]
        while let character = rest.popFirst() {
            switch character {
            case "'":
                value += rest.prefix { $0 != "'" }
                rest = rest.drop { $0 != "'" }.dropFirst()
            case "\"":
                while let inner = rest.popFirst(), inner != "\"" {
                    if inner == "\\", let next = rest.first, "\"\\$`".contains(next) {
                        value.append(next)
                        rest = rest.dropFirst()
                    } else {
                        value.append(inner)
                    }
                }
            case "\\":
                if let next = rest.popFirst() { value.append(next) }
            default:
                if character.isWhitespace { return value }
                value.append(character)
            }
        }
        return value
    }
}

enum TestBedError: Error { case missing }

/// Runs the real `docker` client with exactly `environment` (plus PATH), `input` on its stdin.
func runDocker(_ arguments: [String], environment: [String: String], input: String = "") async throws -> CLIResult {
    var variables = environment
    variables["PATH"] = variables["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let result = try await Subprocess.run(
        .name("docker"), arguments: Arguments(arguments),
        environment: .custom(
            Dictionary(uniqueKeysWithValues: variables.map { (Environment.Key(stringLiteral: $0.key), $0.value) })),
        input: .string(input), output: .string(limit: 1 << 24), error: .string(limit: 1 << 24))
    let status: Int32
    switch result.terminationStatus {
    case .exited(let code): status = code
    case .signaled(let signal): status = 128 + signal
    }
    return CLIResult(status: status, standardOutput: result.standardOutput, standardError: result.standardError)
}
