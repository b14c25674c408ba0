import FakeKubernetes
import Foundation
import MrunKit
import Synchronization
import Testing

/// A temporary home with kubeconfig files; never the user's real `~/.kube`.
struct KubeSandbox {
    let sandbox: Sandbox
    var root: URL { sandbox.root }
    var home: URL { sandbox.home }
    var mrunHome: URL { sandbox.mrunHome }
    var defaultKubeconfig: URL { home.appendingPathComponent(".kube/config") }
    var serviceAccount: URL { root.appendingPathComponent("serviceaccount") }
    var cacheDirectory: URL { ExecCredentialCache.defaultDirectory(mrunHome: mrunHome) }

    init() throws {
        sandbox = try Sandbox()
    }

    /// Writes `text` at `relativePath` under the sandbox root (or `base`).
    @discardableResult
    func write(_ text: String, to relativePath: String, in base: URL? = nil, mode: Int? = nil) throws -> URL {
        try sandbox.write(text, to: relativePath, in: base ?? root, mode: mode)
    }

    /// A loader whose host has only PATH, HOME and MRUN_HOME from the sandbox, plus `variables`.
    func loader(
        _ variables: [String: String] = [:], cache: ExecCredentialCache? = nil, in directory: URL? = nil
    ) -> KubeconfigLoader {
        KubeconfigLoader(
            host: sandbox.host(variables, in: directory ?? root), credentialCache: cache,
            serviceAccountDirectory: serviceAccount)
    }

    /// A loader reading exactly `files` through `$KUBECONFIG`.
    func loader(files: [URL], cache: ExecCredentialCache? = nil) -> KubeconfigLoader {
        loader(["KUBECONFIG": files.map(\.path).joined(separator: ":")], cache: cache)
    }

    func fileMode(_ url: URL) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
    }
}

/// Runs `body` and returns the ``KubeconfigError`` it threw, recording an issue when it threw none.
func kubeconfigError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> KubeconfigError? {
    do {
        try body()
        Issue.record("expected a KubeconfigError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as KubeconfigError {
        return error
    } catch {
        Issue.record("expected a KubeconfigError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The async form of ``kubeconfigError(sourceLocation:_:)``.
func kubeconfigError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> KubeconfigError? {
    do {
        try await body()
        Issue.record("expected a KubeconfigError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as KubeconfigError {
        return error
    } catch {
        Issue.record("expected a KubeconfigError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date) {
        current = Mutex(start)
    }

    var now: Date { current.withLock { $0 } }

    func set(_ date: Date) {
        current.withLock { $0 = date }
    }

    var function: @Sendable () -> Date { { [self] in now } }
}

/// Fake PEM material: only the bytes matter here, the TLS client checks them later.
enum FakePEM {
    static let ca = "-----BEGIN CERTIFICATE-----\nY2EtY2VydA==\n-----END CERTIFICATE-----\n"
    static let certificate = "-----BEGIN CERTIFICATE-----\nY2xpZW50LWNlcnQ=\n-----END CERTIFICATE-----\n"
    static let key = "-----BEGIN EC PRIVATE KEY-----\nY2xpZW50LWtleQ==\n-----END EC PRIVATE KEY-----\n"

    static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }
}
