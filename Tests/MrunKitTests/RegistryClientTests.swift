import FakeKubernetes
import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// A stand-in for a registry behind a token service (Docker Hub, GHCR, GCR), which the test bed
/// has none of: python3's http.server answering the manifest and token endpoints like they do.
final class FakeTokenRegistry: Sendable {
    static let script = #"""
        import base64, http.server, json, os, sys, threading
        USER, PASSWORD = "ada", "right-password"
        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, status, headers=(), body=b""):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                if self.path.startswith("/token"):
                    if not auth:
                        return self.answer(200, body=b'{"token": "anonymous"}')
                    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                    if auth != good:
                        return self.answer(401)
                    return self.answer(200, body=b'{"access_token": "good-token"}')
                repository, _, tag = self.path[len("/v2/"):].partition("/manifests/")
                if auth != "Bearer good-token":
                    realm = f"http://127.0.0.1:{self.server.server_port}/token"
                    challenge = f'Bearer realm="{realm}",service="fake",scope="repository:{repository}:pull"'
                    return self.answer(401, [("WWW-Authenticate", challenge)])
                if tag == "present":
                    return self.answer(200, [("Docker-Content-Digest", "sha256:" + "ab" * 32)], b"{}")
                if tag == "nodigest":
                    return self.answer(200, body=b"{}")
                return self.answer(404)
            do_HEAD = do_GET
            def log_message(self, *arguments):
                pass
        # Ends with the test process, which holds the other end of stdin.
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_port, flush=True)
        server.serve_forever()
        """#

    let process: Process
    let input = Pipe()
    let port: Int

    init() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw FakeRegistryError.didNotStart
        }
        self.port = port
    }

    deinit {
        try? input.fileHandleForWriting.close()
    }

    func lookup(tag: String, login: StoredLogin) async throws -> RegistryLookup {
        let reference = try #require(ImageReference("127.0.0.1:\(port)/team/train:\(tag)"))
        return try await RegistryClient(reference: reference, login: login, schemes: ["http"]).lookup()
    }

    enum FakeRegistryError: Error { case didNotStart }
}

@Suite struct RegistryClientTests {
    static let right = StoredLogin.credentials(RegistryCredentials(username: "ada", password: "right-password"))
    static let wrong = StoredLogin.credentials(RegistryCredentials(username: "ada", password: "wrong-password"))

    @Test func bearerTokenLoginFindsPresentAndAbsentTags() async throws {
        let registry = try FakeTokenRegistry()
        #expect(
            try await registry.lookup(tag: "present", login: Self.right)
                == .present(digest: "sha256:" + String(repeating: "ab", count: 32)))
        #expect(try await registry.lookup(tag: "other", login: Self.right) == .absent)
        // Without a digest header the digest is the manifest's own SHA-256 (here of "{}").
        #expect(
            try await registry.lookup(tag: "nodigest", login: Self.right)
                == .present(digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"))
    }

    @Test func tokenServiceRejectingTheLoginIsAWrongPassword() async throws {
        let registry = try FakeTokenRegistry()
        let error = await #expect(throws: ImageError.self) {
            try await registry.lookup(tag: "present", login: Self.wrong)
        }
        #expect(error == .wrongCredentials(registry: "127.0.0.1:\(registry.port)", user: "ada"))
        #expect(!(error?.description.contains("wrong-password") ?? true))
    }

    @Test func anonymousTokenThatCannotReadLeavesTheAnswerToThePush() async throws {
        let registry = try FakeTokenRegistry()
        let answer = try await registry.lookup(tag: "present", login: .missing)
        #expect(answer == .unknown(reason: "the registry did not let this login read team/train"))
    }
}
