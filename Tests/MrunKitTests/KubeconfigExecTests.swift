import FakeKubernetes
import Foundation
import MrunKit
import Testing

private let v1 = "client.authentication.k8s.io/v1"
private let v1beta1 = "client.authentication.k8s.io/v1beta1"
/// 2030-01-01T00:00:00Z: the tests' clock starts here.
private let start = Date(timeIntervalSince1970: 1_893_456_000)

/// A real executable plugin next to its kubeconfig. It counts its runs in `count`, records its
/// request, arguments and environment, and prints `response.json` (or fails when `fail` exists).
struct ExecFixture {
    let kube: KubeSandbox
    var directory: URL { kube.root.appendingPathComponent("kube") }
    var script: URL { directory.appendingPathComponent("plugin.sh") }
    let config: URL

    static let pluginScript = """
        #!/bin/sh
        here=$(dirname "$0")
        echo run >> "$here/count"
        printf '%s' "$KUBERNETES_EXEC_INFO" > "$here/request.json"
        printf '%s\\n' "$@" > "$here/args"
        printf '%s' "$PLUGIN_GREETING" > "$here/greeting"
        if [ -f "$here/fail" ]; then
            echo "fetching a token" >&2
            echo "ERROR: not logged in" >&2
            echo "" >&2
            exit 3
        fi
        sleep "${PLUGIN_SLEEP:-0}"
        cat "$here/response.json"
        """

    init(
        apiVersion: String = v1, command: String = "./plugin.sh", extra: String = "interactiveMode: Never",
        sleep: String = "0"
    ) throws {
        kube = try KubeSandbox()
        try kube.write(Self.pluginScript, to: "kube/plugin.sh", mode: 0o755)
        config = try kube.write(
            """
            current-context: x
            clusters:
            - name: c
              cluster:
                server: https://k.example.com
                certificate-authority-data: \(FakePEM.base64(FakePEM.ca))
            users:
            - name: u
              user:
                exec:
                  apiVersion: \(apiVersion)
                  command: \(command)
                  args: [--flag, two words]
                  env: [{name: PLUGIN_GREETING, value: hello}, {name: PLUGIN_SLEEP, value: "\(sleep)"}]
                  installHint: |
                    Install the plugin:
                      see https://example.com/install
                  \(extra)
            contexts: [{name: x, context: {cluster: c, user: u}}]
            """, to: "kube/config")
        try respond(token: "tok-1", expiration: "2030-01-01T01:00:00Z")
    }

    func respond(apiVersion: String = v1, token: String? = nil, expiration: String? = nil) throws {
        var status: [String] = []
        if let token { status.append(#""token": "\#(token)""#) }
        if let expiration { status.append(#""expirationTimestamp": "\#(expiration)""#) }
        try respond(
            raw:
                #"{"apiVersion": "\#(apiVersion)", "kind": "ExecCredential", "status": {\#(status.joined(separator: ", "))}}"#
        )
    }

    func respond(raw: String) throws {
        try kube.write(raw, to: "kube/response.json")
    }

    var invocations: Int {
        let text = (try? String(contentsOf: directory.appendingPathComponent("count"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").count
    }

    func recorded(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    func request() throws -> NSDictionary? {
        try JSONSerialization.jsonObject(with: Data(recorded("request.json").utf8)) as? NSDictionary
    }

    func cache(_ clock: TestClock) -> ExecCredentialCache {
        ExecCredentialCache(directory: kube.cacheDirectory, now: clock.function)
    }

    func connection(cache: ExecCredentialCache) throws -> ClusterConnection {
        try kube.loader(files: [config], cache: cache).resolve(contextName: nil)
    }

    func plugin(cache: ExecCredentialCache) throws -> ExecCredentialPlugin? {
        guard case .exec(let plugin) = try connection(cache: cache).credentials else { return nil }
        return plugin
    }
}

@Suite struct KubeconfigExecTests {
    @Test func v1TokenIsCachedInMemoryThenOnDiskForOtherProcesses() async throws {
        let fixture = try ExecFixture()
        // A directory left too open by someone else is tightened before secrets go in.
        try FileManager.default.createDirectory(
            at: fixture.kube.cacheDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        let clock = TestClock(start)
        let loader = fixture.kube.loader(files: [fixture.config], cache: fixture.cache(clock))
        let connection = try loader.resolve(contextName: nil)
        #expect(try await connection.bearerToken() == "tok-1")
        #expect(fixture.invocations == 1)
        #expect(try await connection.bearerToken() == "tok-1")
        #expect(try await loader.resolve(contextName: nil).bearerToken() == "tok-1")
        #expect(fixture.invocations == 1, "the second resolve in this process uses the memory cache")

        let fresh = try fixture.connection(cache: fixture.cache(clock))
        #expect(try await fresh.bearerToken() == "tok-1")
        #expect(fixture.invocations == 1, "a fresh cache object reads the disk cache")

        #expect(
            try fixture.request()
                == ["apiVersion": v1, "kind": "ExecCredential", "spec": ["interactive": false]] as NSDictionary)
        #expect(try fixture.recorded("args") == "--flag\ntwo words\n")
        #expect(try fixture.recorded("greeting") == "hello")

        let plugin = try #require(try fixture.plugin(cache: fixture.cache(clock)))
        #expect(plugin.command == fixture.script.path)
        #expect(plugin.cacheKey.count == 64 && plugin.cacheKey.allSatisfy(\.isHexDigit))
        let file = fixture.kube.cacheDirectory.appendingPathComponent("\(plugin.cacheKey).json")
        #expect(try fixture.kube.fileMode(file) == 0o600)
        #expect(try fixture.kube.fileMode(fixture.kube.cacheDirectory) == 0o700)
        let entries = try FileManager.default.contentsOfDirectory(atPath: fixture.kube.cacheDirectory.path)
        #expect(entries == ["\(plugin.cacheKey).json"], "no temporary file is left behind")
    }

    @Test func v1beta1GetsClusterInfoAndDefaultsItsInteractiveMode() async throws {
        let fixture = try ExecFixture(apiVersion: v1beta1, extra: "provideClusterInfo: true")
        try fixture.respond(apiVersion: v1beta1, token: "beta-token", expiration: "2030-01-01T01:00:00Z")
        let connection = try fixture.connection(cache: fixture.cache(TestClock(start)))
        #expect(try await connection.bearerToken() == "beta-token")
        let expected: NSDictionary = [
            "apiVersion": v1beta1, "kind": "ExecCredential",
            "spec": [
                "interactive": false,
                "cluster": [
                    "server": "https://k.example.com", "certificate-authority-data": FakePEM.base64(FakePEM.ca),
                ],
            ],
        ]
        #expect(try fixture.request() == expected)
    }

    @Test func anExpiredTokenRunsThePluginAgain() async throws {
        let fixture = try ExecFixture()
        let clock = TestClock(start)
        let cache = fixture.cache(clock)
        let connection = try fixture.connection(cache: cache)
        #expect(try await connection.bearerToken() == "tok-1")
        try fixture.respond(token: "tok-2", expiration: "2030-01-01T02:00:00Z")
        clock.set(start.addingTimeInterval(3600 - 30))
        #expect(try await connection.bearerToken() == "tok-2", "within the safety margin counts as expired")
        #expect(fixture.invocations == 2)
        #expect(try await connection.bearerToken() == "tok-2")
        #expect(fixture.invocations == 2)

        try fixture.respond(token: "tok-3", expiration: "2030-01-01T04:00:00Z")
        let later = TestClock(start.addingTimeInterval(3 * 3600))
        #expect(try await fixture.connection(cache: fixture.cache(later)).bearerToken() == "tok-3")
        #expect(fixture.invocations == 3, "an expired disk entry is not reused")
    }

    @Test func withoutExpirationTheTokenIsKeptForThisProcessOnly() async throws {
        let fixture = try ExecFixture()
        try fixture.respond(token: "forever")
        let clock = TestClock(start)
        let connection = try fixture.connection(cache: fixture.cache(clock))
        #expect(try await connection.bearerToken() == "forever")
        clock.set(start.addingTimeInterval(365 * 86400))
        #expect(try await connection.bearerToken() == "forever")
        #expect(fixture.invocations == 1)
        #expect(!FileManager.default.fileExists(atPath: fixture.kube.cacheDirectory.path))
        #expect(try await fixture.connection(cache: fixture.cache(clock)).bearerToken() == "forever")
        #expect(fixture.invocations == 2)
    }

    @Test func aPluginMayReturnAClientCertificate() async throws {
        let fixture = try ExecFixture()
        let certificate = FakePEM.certificate.replacingOccurrences(of: "\n", with: "\\n")
        let key = FakePEM.key.replacingOccurrences(of: "\n", with: "\\n")
        try fixture.respond(
            raw:
                #"{"apiVersion": "\#(v1)", "kind": "ExecCredential", "status": {"clientCertificateData": "\#(certificate)", "clientKeyData": "\#(key)", "expirationTimestamp": "2030-01-01T01:00:00Z"}}"#
        )
        let clock = TestClock(start)
        let connection = try fixture.connection(cache: fixture.cache(clock))
        #expect(try await connection.bearerToken() == nil)
        let pair = try await connection.clientCertificate()
        #expect(
            pair == ClientCertificate(certificatePEM: Array(FakePEM.certificate.utf8), keyPEM: Array(FakePEM.key.utf8)))
        let fromDisk = try await fixture.connection(cache: fixture.cache(clock)).clientCertificate()
        #expect(fromDisk == pair)
        #expect(fixture.invocations == 1)
    }

    @Test func timestampsWithOffsetsAndFractionsAreRFC3339() async throws {
        let fixture = try ExecFixture()
        try fixture.respond(token: "t", expiration: "2030-01-01T03:00:00.5+02:00")
        let plugin = try #require(try fixture.plugin(cache: fixture.cache(TestClock(start))))
        #expect(try await plugin.credential().expiration == start.addingTimeInterval(3600.5))
    }

    @Test func concurrentRequestsShareOneRun() async throws {
        let fixture = try ExecFixture(sleep: "0.5")
        let connection = try fixture.connection(cache: fixture.cache(TestClock(start)))
        async let first = connection.bearerToken()
        async let second = connection.bearerToken()
        async let third = connection.bearerToken()
        #expect(try await [first, second, third] == ["tok-1", "tok-1", "tok-1"])
        #expect(fixture.invocations == 1)
    }

    @Test func invalidatingForgetsMemoryAndDisk() async throws {
        let fixture = try ExecFixture()
        let clock = TestClock(start)
        let connection = try fixture.connection(cache: fixture.cache(clock))
        #expect(try await connection.bearerToken() == "tok-1")
        try fixture.respond(token: "tok-2", expiration: "2030-01-01T01:00:00Z")
        await connection.invalidateCredentials()
        #expect(try await connection.bearerToken() == "tok-2")
        #expect(try await fixture.connection(cache: fixture.cache(clock)).bearerToken() == "tok-2")
        #expect(fixture.invocations == 2)
    }

    @Test func aFailingPluginIsOneLineWithStatusStderrAndHint() async throws {
        let fixture = try ExecFixture()
        try fixture.kube.write("", to: "kube/fail")
        let connection = try fixture.connection(cache: fixture.cache(TestClock(start)))
        let error = await kubeconfigError { _ = try await connection.bearerToken() }
        #expect(
            error?.description
                == "exec plugin '\(fixture.script.path)' failed with exit status 3: ERROR: not logged in;"
                + " Install the plugin: see https://example.com/install")
    }

    @Test func aMissingPluginShowsTheInstallHint() async throws {
        let fixture = try ExecFixture(command: "mrun-test-no-such-plugin")
        let connection = try fixture.connection(cache: fixture.cache(TestClock(start)))
        let error = await kubeconfigError { _ = try await connection.bearerToken() }
        #expect(
            error?.description
                == "exec plugin 'mrun-test-no-such-plugin' not found; Install the plugin: see https://example.com/install"
        )
    }

    @Test(arguments: [
        ("token: SECRET-1", "its output is not an ExecCredential JSON object"),
        (
            #"{"apiVersion": "\#(v1)", "kind": "Secret", "status": {"token": "SECRET-1"}}"#,
            "its output has kind 'Secret', expected 'ExecCredential'"
        ),
        (
            #"{"apiVersion": "\#(v1beta1)", "kind": "ExecCredential", "status": {"token": "SECRET-1"}}"#,
            "it answered with apiVersion '\(v1beta1)' but the kubeconfig asks for '\(v1)'; make them match"
        ),
        (#"{"apiVersion": "\#(v1)", "kind": "ExecCredential"}"#, "its output has no status"),
        (
            #"{"apiVersion": "\#(v1)", "kind": "ExecCredential", "status": {}}"#,
            "status has neither a token nor clientCertificateData and clientKeyData"
        ),
        (
            #"{"apiVersion": "\#(v1)", "kind": "ExecCredential", "status": {"clientKeyData": "SECRET-1"}}"#,
            "status has only one of clientCertificateData and clientKeyData; both are needed"
        ),
        (
            #"{"apiVersion": "\#(v1)", "kind": "ExecCredential", "status": {"token": "SECRET-1", "expirationTimestamp": "tomorrow"}}"#,
            "status.expirationTimestamp 'tomorrow' is not an RFC 3339 time"
        ),
    ])
    func unusableOutputIsRefusedWithoutQuotingIt(output: String, problem: String) async throws {
        let fixture = try ExecFixture()
        try fixture.respond(raw: output)
        let connection = try fixture.connection(cache: fixture.cache(TestClock(start)))
        let error = await kubeconfigError { _ = try await connection.bearerToken() }
        #expect(error?.description == "exec plugin '\(fixture.script.path)' returned no usable credential: \(problem)")
        #expect(!FileManager.default.fileExists(atPath: fixture.kube.cacheDirectory.path))
    }
}
