import Foundation
import NIOCore
import Synchronization

import KubernetesAPI
import MrunSupport

/// An in-process kube-apiserver for tests, over real TLS on 127.0.0.1 with an ephemeral port. It
/// reproduces the behaviours recorded in the shared k8s fixtures (status codes, Status objects,
/// defaulting, resourceVersions, selectors, deletion, logs, watches), authenticates client
/// certificates and tokens, applies RBAC rules, and can inject faults or replay recorded answers.
///
/// ```swift
/// let server = try await FakeKubernetesServer.started()
/// defer { Task { await server.stop() } }
/// let connection = try server.connection(for: .certificate("alice"))
/// await server.controller.onJobCreated { job in … }
/// ```
package final class FakeKubernetesServer: Sendable {
    /// How a kubeconfig authenticates.
    package enum User: Sendable {
        /// A client certificate from ``FakeKubernetesPKI/clientNames``.
        case certificate(String)
        case token(String)
        case anonymous
        /// An exec plugin: the command and its arguments.
        case exec(command: String, arguments: [String])
    }

    /// Which CA the kubeconfig trusts.
    package enum Authority: Sendable {
        case cluster
        /// A CA that did not sign the server's certificate.
        case other
        /// The system trust store (which does not know the fake's CA).
        case system
        case insecureSkipVerify
    }

    package struct RequestRecord: Sendable {
        package var method: String
        package var path: String
        package var query: [String: String]
        /// The request's headers by lowercased name, with the Authorization value replaced by `Bearer REDACTED`.
        package var headers: [String: String]
        /// The authenticated user; nil when authentication failed or a fault answered.
        package var user: String?
        package var status: Int?
        package var fault: FakeFault?
        package var body: Data

        package init(
            method: String,
            path: String,
            query: [String: String],
            headers: [String: String],
            user: String? = nil,
            status: Int? = nil,
            fault: FakeFault? = nil,
            body: Data
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.user = user
            self.status = status
            self.fault = fault
            self.body = body
        }
    }

    package let pki: FakeKubernetesPKI
    /// Store, controller hooks, logs and watches.
    package let controller = FakeKubernetesCluster()
    package let authorizer = FakeAuthorizer()
    package let faults = FakeFaults()
    /// Connections, streams and requests in flight, as the clients made them.
    package let traffic = FakeTraffic()
    /// Which certificate the server presents.
    package enum ServerCertificate: Sendable {
        /// Signed by the cluster CA for 127.0.0.1 and localhost.
        case standard
        /// Signed by a CA the cluster CA does not vouch for.
        case untrusted
        /// Signed by the cluster CA for `kubernetes.fake` only.
        case namedOnly
    }

    package let certificate: ServerCertificate
    private let state = Mutex(State())

    private struct State {
        package var port = 0
        package var run: Task<Void, Never>?
        package var records: [RequestRecord] = []
        package var replay: [Fixture]?
        package var directory: URL?
        package var listener: (any Channel)?
        /// Open connections, closed by stop(): pooled keep-alive connections would otherwise
        /// hold it until the client's idle timeout.
        package var connections: [ObjectIdentifier: any Channel] = [:]
        package var stopping = false
        package var writeLatency = Duration.zero
        package var accepted = 0
    }

    package init(pki: FakeKubernetesPKI, certificate: ServerCertificate = .standard) {
        self.pki = pki
        self.certificate = certificate
    }

    /// A started server with the shared test PKI.
    package static func started(certificate: ServerCertificate = .standard) async throws -> FakeKubernetesServer {
        let server = FakeKubernetesServer(pki: try await .shared(), certificate: certificate)
        try await server.start()
        return server
    }

    /// How long every create, update, patch and delete waits before it is handled: a real
    /// kube-apiserver answers a write once etcd has committed it (about 10 ms), which is what makes
    /// a client's parallelism matter. Zero by default.
    package var writeLatency: Duration {
        get { state.withLock { $0.writeLatency } }
        set { state.withLock { $0.writeLatency = newValue } }
    }

    package var port: Int { state.withLock { $0.port } }
    package var url: URL { URL(string: "https://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/") }
    /// TCP connections accepted so far.
    package var acceptedConnections: Int { state.withLock { $0.accepted } }
    /// Where kubeconfigs and other per-server files go; removed by ``stop()``.
    package var workDirectory: URL { state.withLock { $0.directory } ?? FileManager.default.temporaryDirectory }
    /// Every request so far, in arrival order.
    package var requests: [RequestRecord] { state.withLock { $0.records } }

    private var certificatePEM: String {
        switch certificate {
        case .standard: pki.serverCertificatePEM
        case .untrusted: pki.untrustedServerCertificatePEM
        case .namedOnly: pki.namedServerCertificatePEM
        }
    }

    package func start() async throws {
        let channel = try await FakeKubernetesNetwork.bind(
            certificatePEM: certificatePEM,
            keyPEM: pki.serverKeyPEM, authorityPEM: pki.caPEM)
        let port = channel.channel.localAddress?.port ?? 0
        // Ends when stop() closes the listener. Every accepted connection must go through
        // executeThenClose, even one arriving while stopping: NIO traps on an abandoned one.
        let run = Task {
            _ = try? await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        let id = ObjectIdentifier(connection.channel)
                        let accepted = self.state.withLock { state in
                            if state.stopping { return false }
                            state.accepted += 1
                            state.connections[id] = connection.channel
                            return true
                        }
                        group.addTask {
                            if accepted {
                                await FakeKubernetesNetwork.serve(connection, traffic: self.traffic) { request in
                                    await self.respond(request)
                                }
                            } else {
                                await FakeKubernetesNetwork.refuse(connection)
                            }
                            _ = self.state.withLock { $0.connections.removeValue(forKey: id) }
                        }
                    }
                }
            }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrun-fake-k8s-\(port)-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        state.withLock {
            $0.port = port
            $0.run = run
            $0.directory = directory
            $0.listener = channel.channel
        }
        _ = try await controller.create(
            Kubernetes.Namespace(metadata: .init(name: "default")), namespace: nil)
    }

    /// Closes the listening socket and every connection, ending streams.
    package func stop() async {
        let (run, directory, listener, connections) = state.withLock {
            $0.stopping = true
            return ($0.run, $0.directory, $0.listener, Array($0.connections.values))
        }
        // A client may still be opening connections (a pool warming up). Stop accepting first and
        // let the accepted ones arrive, to be closed by the accept loop: a connection the loop never
        // takes would trap in NIO. Those still in the kernel's backlog are reset with the socket.
        try? await listener?.setOption(ChannelOptions.autoRead, value: false).get()
        for connection in connections { connection.close(promise: nil) }
        try? await Task.sleep(for: .milliseconds(100))
        try? await listener?.close()
        await run?.value
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// From now on, answers each request with a recorded exchange of the same method, path and
    /// query, whoever asks: the first not yet served, in the given order (the same GET is recorded
    /// before and after a change), else the last one. Requests without one get 404.
    package func replay(_ fixtures: [Fixture]) {
        state.withLock { $0.replay = fixtures }
    }

    private func respond(_ request: FakeHTTPRequest) async -> FakeAction {
        var headers = Dictionary(request.headers.map { ($0.key.lowercased(), $0.value) }) { $1 }
        if headers["authorization"] != nil { headers["authorization"] = "Bearer REDACTED" }
        var record = RequestRecord(
            method: request.method, path: request.path, query: request.query, headers: headers, body: request.body)
        defer { state.withLock { $0.records.append(record) } }
        if let fault = faults.take(method: request.method, path: request.path) {
            record.fault = fault
            switch fault {
            case .status(let code):
                record.status = code
                return .reply(.error(FakeAPIError(code: code, reason: .forHTTPStatus(code), message: "injected fault")))
            case .reset: return .reset
            case .stall(let duration): return .stall(duration)
            case .resetAfterHandling:
                let (_, user) = await FakeKubernetesRouter(cluster: controller, authorizer: authorizer).handle(request)
                record.user = user
                return .reset
            }
        }
        let latency = writeLatency
        if latency > .zero, ["POST", "PUT", "PATCH", "DELETE"].contains(request.method) {
            try? await Task.sleep(for: latency)
        }
        if let response = state.withLock({ Self.replayed(request, from: &$0.replay) }) {
            record.status = response.status
            return .reply(response)
        }
        let (response, user) = await FakeKubernetesRouter(cluster: controller, authorizer: authorizer).handle(request)
        record.user = user
        record.status = response.status
        return .reply(response)
    }

    /// nil when not replaying. Of several recordings of one request the first not yet served
    /// answers (the same GET is recorded before and after a change); served ones go to the back.
    private static func replayed(_ request: FakeHTTPRequest, from fixtures: inout [Fixture]?) -> FakeHTTPResponse? {
        guard let all = fixtures else { return nil }
        guard
            let index = all.firstIndex(where: {
                $0.request.method == request.method && $0.request.path == request.path
                    && $0.request.query == request.query
            })
        else {
            return .error(
                FakeAPIError(
                    code: 404, reason: .notFound, message: "no recorded exchange for \(request.method) \(request.path)")
            )
        }
        let fixture = all[index]
        fixtures?.remove(at: index)
        fixtures?.append(fixture)
        var headers: [(String, String)] = []
        for (name, value) in fixture.response.headers.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .string(let text): headers.append((name, text))
            case .array(let values): headers += values.compactMap(\.string).map { (name, $0) }
            default: break
            }
        }
        let body: Data
        if let text = fixture.text {
            body = Data(text.utf8)
        } else {
            body = (try? JSONEncoder().encode(fixture.response.body)) ?? Data()
        }
        let streamed = fixture.request.query["follow"] == "true" || fixture.request.query["watch"] == "true"
        if streamed {
            // Line by line, as the server flushed them.
            let (stream, continuation) = AsyncStream<Data>.makeStream()
            for line in String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            where !line.isEmpty {
                continuation.yield(Data((line + "\n").utf8))
            }
            continuation.finish()
            return FakeHTTPResponse(status: fixture.response.status, headers: headers, body: .stream(stream))
        }
        return FakeHTTPResponse(status: fixture.response.status, headers: headers, body: .data(body))
    }
}
