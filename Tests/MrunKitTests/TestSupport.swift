import Foundation
import MrunKit
import Subprocess
import Testing

/// A temporary directory tree for one test: a fake home, `$MRUN_HOME` and a project directory.
/// Tests never touch the user's real home, `~/.config` or `~/.neptune.yaml`.
struct Sandbox {
    let root: URL
    var home: URL { root.appendingPathComponent("home") }
    var mrunHome: URL { root.appendingPathComponent("mrun-home") }
    var project: URL { root.appendingPathComponent("project") }
    var store: ConfigStore { ConfigStore(home: mrunHome) }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("mrun-test-\(UUID().uuidString)")
        for directory in [home, mrunHome, project] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    /// The host as mrun sees it: only PATH from the real environment, plus `extra`.
    func host(_ extra: [String: String] = [:], in directory: URL? = nil) -> HostEnvironment {
        HostEnvironment(variables: environment(extra), homeDirectory: home, currentDirectory: directory ?? project)
    }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var variables = [
            "HOME": home.path, "MRUN_HOME": mrunHome.path,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        variables.merge(extra) { $1 }
        return variables
    }

    @discardableResult
    func write(_ text: String, to relativePath: String, in base: URL? = nil, mode: Int? = nil) throws -> URL {
        let url = (base ?? project).appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path) }
        return url
    }

    func read(_ url: URL) throws -> String {
        String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }
}

/// What a run of the real `mrun` binary printed and how it exited.
struct CLIResult {
    var status: Int32
    var standardOutput: String
    var standardError: String
}

enum CLI {
    /// The `mrun` executable built beside the test bundle.
    static var binary: URL {
        get throws { try executable("mrun") }
    }

    /// An executable product of this package built beside the test bundle.
    static func executable(_ name: String) throws -> URL {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [products, products.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        Issue.record("the \(name) executable is not built next to the tests (\(products.path)); run 'swift build'")
        throw CLIError.binaryMissing
    }

    enum CLIError: Error { case binaryMissing }

    /// Runs `mrun ARGS` in `directory` with exactly the sandbox's environment plus `extra`.
    static func run(
        _ arguments: [String], sandbox: Sandbox, in directory: URL? = nil, environment extra: [String: String] = [:],
        input: String = ""
    ) async throws -> CLIResult {
        var variables = sandbox.environment(extra)
        // MRUN_WRAPPER runs mrun through another program (setpriv, to drop root); the arguments then
        // start with the wrapper's own and the binary's path.
        let program = try variables.removeValue(forKey: "MRUN_WRAPPER") ?? binary.path
        let result = try await Subprocess.run(
            .path(.init(program)), arguments: Arguments(arguments),
            environment: .custom(
                Dictionary(uniqueKeysWithValues: variables.map { (Environment.Key(stringLiteral: $0.key), $0.value) })),
            workingDirectory: .init((directory ?? sandbox.project).path),
            input: .string(input), output: .string(limit: 1 << 24), error: .string(limit: 1 << 24))
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return CLIResult(
            status: status, standardOutput: result.standardOutput, standardError: result.standardError)
    }
}

/// What tests hand where mrun's CLI hands its environment's parts.
enum TestEnvironment {
    /// One pool of HTTP connections for the tests that talk to fake API servers without a backend
    /// that owns its own: as the CLI keeps one per command.
    static let http = KubernetesHTTPClient()

    /// Warnings go to the test's standard error, as mrun's do.
    static let warn: @Sendable (String) -> Void = MrunEnvironment.standardErrorWarning

    /// The environment of a command run in `sandbox`, with its own HTTP client.
    static func of(_ sandbox: Sandbox, host: HostEnvironment? = nil, sink: any OutputSink = RecordingSink())
        -> MrunEnvironment
    {
        MrunEnvironment(
            host: host ?? sandbox.host(), sink: sink, runner: SystemProcessRunner(), http: KubernetesHTTPClient(),
            warn: warn)
    }
}
