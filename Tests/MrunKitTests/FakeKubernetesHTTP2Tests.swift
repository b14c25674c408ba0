import FakeKubernetes
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunSupport

/// The fake speaks HTTP/2 as a real kube-apiserver does (ALPN `h2`, HTTP/1.1 for clients that ask
/// for it only), answers a create with the managedFields a real one adds, and counts how clients
/// talk to it; mrun's client sends concurrent requests as streams of one HTTP/2 connection.
@Suite struct FakeKubernetesHTTP2Tests {
    @Test(arguments: [(["h2", "http/1.1"], "h2"), (["http/1.1"], "http/1.1")])
    func alpnChoosesWhatTheClientPrefers(offered: [String], chosen: String) async throws {
        try await withFakeKubernetes { server in
            let negotiated = try await Self.negotiatedProtocol(server, offering: offered)
            #expect(negotiated == chosen)
        }
    }

    /// A client without ALPN (Python's http.client, as the Python kubernetes client connects)
    /// gets HTTP/1.1, exchange after exchange on one connection.
    @Test func aClientWithoutALPNSpeaksHTTP1() async throws {
        try await withFakeKubernetes { server in
            let sandbox = try Sandbox()
            let alice = try #require(server.pki.clients["alice"])
            let ca = try sandbox.write(server.pki.caPEM, to: "ca.crt")
            let certificate = try sandbox.write(alice.certificatePEM, to: "alice.crt")
            let key = try sandbox.write(alice.keyPEM, to: "alice.key", mode: 0o600)
            let script = """
                import http.client, ssl, sys
                context = ssl.create_default_context(cafile=sys.argv[1])
                context.load_cert_chain(sys.argv[2], sys.argv[3])
                connection = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[4]), context=context)
                for path in ["/version", "/api/v1/namespaces/default"]:
                    connection.request("GET", path)
                    answer = connection.getresponse()
                    print(answer.status, answer.version, len(answer.read()))
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script, ca.path, certificate.path, key.path, String(server.port)]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let lines = text.split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
            #expect(lines == ["200 11", "200 11"], "\(text)")
            let counts = server.traffic.current
            #expect(counts.http1Connections == 1 && counts.http2Connections == 0, "\(counts)")
            #expect(counts.requests == 2, "\(counts)")
        }
    }

    @Test func concurrentCreatesShareOneHTTP2Connection() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace("h2")
            // Held writes keep the requests in flight together, as etcd's commit does.
            server.writeLatency = .milliseconds(50)
            let client = try server.client()
            _ = try await client.version()
            server.traffic.reset()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        _ = try await client.createJob(Sample.job("stream-\(index)"), namespace: namespace)
                    }
                }
                try await group.waitForAll()
            }
            let counts = server.traffic.current
            #expect(counts.requests == 24)
            #expect(counts.http1Connections == 0, "\(counts)")
            #expect(counts.http2Connections == 0, "the connection of the version call is reused: \(counts)")
            #expect(counts.http2Streams == 24, "\(counts)")
            #expect(counts.peakInFlightPerConnection > 8, "the creates were not in flight together: \(counts)")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: namespace).count == 24)
        }
    }

    @Test func aCreatedObjectComesBackWithItsManagedFields() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace("managed")
            let client = try server.client()
            var request = KubernetesClient.APIRequest(path: "/apis/batch/v1/namespaces/\(namespace)/jobs")
            request.method = .POST
            request.body = try Kubernetes.encode(Sample.job("managed"))
            let reply = try await client.exchange(request, retry: .never)
            #expect(reply.status == 201)
            let fields = try JSONValue(json: reply.body)["metadata"]?["managedFields"]
            guard case .array(let entries) = fields, let entry = entries.first else {
                Issue.record("no managedFields in \(String(decoding: reply.body, as: UTF8.self))")
                return
            }
            #expect(entry["manager"]?.string == "mrun")
            #expect(entry["operation"]?.string == "Update")
            #expect(entry["apiVersion"]?.string == "batch/v1")
            #expect(entry["fieldsType"]?.string == "FieldsV1")
            let containers = entry["fieldsV1"]?["f:spec"]?["f:template"]?["f:spec"]?["f:containers"]
            #expect(
                containers?["k:{\"name\":\"main\"}"]?["f:image"] == .object([:]), "\(String(describing: containers))")
            #expect(entry["fieldsV1"]?["f:metadata"]?["f:name"] == nil, "the server's own metadata is not listed")
            // About the size of the recorded answer to the same Job (fixture 17: 3.6 kB).
            #expect(reply.body.count > 2500)
        }
    }

    /// The protocol the fake picks in a TLS handshake offering `protocols` (ALPN).
    static func negotiatedProtocol(_ server: FakeKubernetesServer, offering protocols: [String]) async throws
        -> String?
    {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(server.pki.caPEM.utf8)))
        configuration.applicationProtocols = protocols
        let context = try NIOSSLContext(configuration: configuration)
        let negotiated = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: String?.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(negotiated: negotiated))
                }
            }
            .connect(host: "127.0.0.1", port: server.port).get()
        defer { channel.close(promise: nil) }
        return try await negotiated.futureResult.get()
    }
}

/// Reports the protocol ALPN chose once the TLS handshake is done.
private final class HandshakeWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let negotiated: EventLoopPromise<String?>

    init(negotiated: EventLoopPromise<String?>) {
        self.negotiated = negotiated
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let chosen)? = event as? TLSUserEvent { negotiated.succeed(chosen) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        negotiated.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        negotiated.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}
