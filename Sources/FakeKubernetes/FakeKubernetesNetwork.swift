import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Synchronization
import X509

/// A fault the fake applies to the next matching requests instead of answering normally.
package enum FakeFault: Sendable, Equatable {
    /// Answers with this status and an InternalError Status.
    case status(Int)
    /// Resets the TCP connection before handling the request.
    case reset
    /// Handles the request (a create takes effect), then resets instead of answering.
    case resetAfterHandling
    /// Never answers; closes the connection after this long.
    case stall(Duration)
}

package final class FakeFaults: Sendable {
    private struct Entry {
        package var fault: FakeFault
        package var remaining: Int
        package var method: String?
        package var pathContains: String?
    }

    private let entries = Mutex<[Entry]>([])

    /// The next `count` requests (with this method and a path containing `pathContains`, when
    /// given) get `fault`.
    package func inject(_ fault: FakeFault, count: Int = 1, method: String? = nil, pathContains: String? = nil) {
        entries.withLock {
            $0.append(Entry(fault: fault, remaining: count, method: method, pathContains: pathContains))
        }
    }

    package func take(method: String, path: String) -> FakeFault? {
        entries.withLock { entries in
            guard
                let index = entries.firstIndex(where: { entry in
                    (entry.method.map { $0 == method } ?? true) && (entry.pathContains.map(path.contains) ?? true)
                })
            else { return nil }
            let fault = entries[index].fault
            entries[index].remaining -= 1
            if entries[index].remaining <= 0 { entries.remove(at: index) }
            return fault
        }
    }
}

/// What the server does with one request.
package enum FakeAction: Sendable {
    case reply(FakeHTTPResponse)
    case reset
    case stall(Duration)
}

package typealias FakeConnection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

/// What ALPN chose for a connection: HTTP/1.1 (one exchange at a time), or HTTP/2 with its
/// streams, each a `FakeConnection` of HTTP/1-style parts that carries one exchange.
package typealias FakeNegotiated = NIONegotiatedHTTPVersion<
    FakeConnection, (Void, NIOHTTP2Handler.AsyncStreamMultiplexer<FakeConnection>)
>

/// An accepted TCP connection before and after its TLS handshake and ALPN.
package struct FakeAccepted: Sendable {
    package var channel: any Channel
    package var state: FakeConnectionState
    package var negotiated: EventLoopFuture<FakeNegotiated>
}

/// HTTPS on 127.0.0.1 with NIO, HTTP/2 or HTTP/1.1 as the client's ALPN asks (a real
/// kube-apiserver prefers `h2`, and so do kubectl, AsyncHTTPClient and curl; Python's clients
/// ask for HTTP/1.1): TLS that asks for (but does not insist on) a client certificate, and one
/// task per HTTP/1.1 connection or HTTP/2 stream answering its requests in order.
package enum FakeKubernetesNetwork {
    /// What a real kube-apiserver announces (Go's HTTP/2 server's default, which
    /// `--http2-max-streams-per-connection` 0 keeps).
    package static let maxConcurrentStreams = 250

    package static func bind(
        certificatePEM: String, keyPEM: String, authorityPEM: String
    ) async throws -> NIOAsyncChannel<FakeAccepted, Never> {
        let authority = try Certificate(pemEncoded: authorityPEM)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        configuration.certificateVerification = .optionalVerification
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authorityPEM.utf8)))
        configuration.applicationProtocols = ["h2", "http/1.1"]
        // A peer that vanished without close_notify must not hold stop() for the default 5 s.
        configuration.shutdownTimeout = .milliseconds(200)
        let context = try NIOSSLContext(configuration: configuration)
        var http2Settings = NIOHTTP2Handler.Configuration()
        http2Settings.connection.initialSettings =
            nioDefaultSettings.filter { $0.parameter != .maxConcurrentStreams }
            + [HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams)]
        let http2 = http2Settings
        // One loop for the listener and its connections keeps accepting and closing in order.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        return try await ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                let state = FakeConnectionState()
                let tls = NIOSSLServerHandler(context: context) { chain, promise in
                    promise.completeWithTask {
                        let identity = await FakeAuthorizer.verify(chain, authority: authority)
                        state.certificate.withLock { $0 = identity }
                        return .certificateVerified
                    }
                }
                do {
                    try child.pipeline.syncOperations.addHandler(tls)
                } catch {
                    return child.eventLoop.makeFailedFuture(error)
                }
                // NIOHTTP2's configureAsyncHTTPServerPipeline would add HTTP/1.1's handlers with
                // pipelining assistance; the fake needs them without (below).
                return child.configureHTTP2AsyncSecureUpgrade(
                    http1ConnectionInitializer: { connection in
                        connection.eventLoop.makeCompletedFuture {
                            // Without pipelining assistance, which stops reading while a response
                            // is out: a client closing a followed log must be noticed mid-stream.
                            try connection.pipeline.syncOperations.configureHTTPServerPipeline(
                                withPipeliningAssistance: false)
                            return try FakeConnection(wrappingChannelSynchronously: connection)
                        }
                    },
                    http2ConnectionInitializer: { connection in
                        connection.configureAsyncHTTP2Pipeline(mode: .server, configuration: http2) { stream in
                            stream.eventLoop.makeCompletedFuture {
                                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                                return try FakeConnection(wrappingChannelSynchronously: stream)
                            }
                        }.map { streams in ((), streams) }
                    }
                ).map { negotiated in FakeAccepted(channel: child, state: state, negotiated: negotiated) }
            }
    }

    /// Serves an accepted connection until it closes: its one HTTP/1.1 exchange after another, or
    /// every HTTP/2 stream at once. A connection whose handshake fails ends here.
    package static func serve(
        _ accepted: FakeAccepted, traffic: FakeTraffic,
        respond: @escaping @Sendable (FakeHTTPRequest) async -> FakeAction
    ) async {
        guard let negotiated = try? await accepted.negotiated.get() else { return }
        switch negotiated {
        case .http1_1(let connection):
            let counter = traffic.opened(http2: false)
            await serve(connection, state: accepted.state, traffic: counter, respond: respond)
        case .http2((_, let streams)):
            let counter = traffic.opened(http2: true)
            await withDiscardingTaskGroup { group in
                do {
                    for try await stream in streams.inbound {
                        counter.streamOpened()
                        group.addTask {
                            await serve(stream, state: accepted.state, traffic: counter, respond: respond)
                        }
                    }
                } catch {}
            }
        }
    }

    /// Closes a connection the server will not serve (it arrived while stopping) once its
    /// handshake is done: NIO traps on an async channel that is never run.
    package static func refuse(_ accepted: FakeAccepted) async {
        guard let negotiated = try? await accepted.negotiated.get() else { return }
        switch negotiated {
        case .http1_1(let connection): try? await connection.executeThenClose { _, _ in }
        case .http2: try? await accepted.channel.close()
        }
    }

    /// Answers the connection's requests until it closes or the task is cancelled.
    private static func serve(
        _ connection: FakeConnection, state: FakeConnectionState, traffic: FakeTraffic.Connection,
        respond: @escaping @Sendable (FakeHTTPRequest) async -> FakeAction
    ) async {
        let channel = connection.channel
        // The client going away ends the loop with an error; nothing is left to answer then.
        do {
            try await serveRequests(connection, state: state, channel: channel, traffic: traffic, respond: respond)
        } catch {}
    }

    private static func serveRequests(
        _ connection: FakeConnection, state: FakeConnectionState, channel: any Channel,
        traffic: FakeTraffic.Connection, respond: @escaping @Sendable (FakeHTTPRequest) async -> FakeAction
    ) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    guard let requestHead = head else { continue }
                    let request = makeRequest(requestHead, body: body, state: state)
                    traffic.requestStarted()
                    defer { traffic.requestEnded() }
                    switch await respond(request) {
                    case .reply(let response):
                        try await write(response, version: requestHead.version, to: outbound, channel: channel)
                    case .reset:
                        // SO_LINGER 0: close sends RST, as a crashed proxy or server would; an
                        // HTTP/2 stream's TCP connection is its parent channel's.
                        let socket = channel.parent ?? channel
                        try? await (socket as? any SocketOptionProvider)?
                            .setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                        try? await socket.close()
                        return
                    case .stall(let duration):
                        await withTaskGroup(of: Void.self) { group in
                            group.addTask { try? await Task.sleep(for: duration) }
                            group.addTask { for await _ in closed(channel) {} }
                            await group.next()
                            group.cancelAll()
                        }
                        try? await channel.close()
                        return
                    }
                }
            }
        }
    }

    /// Ends when the channel closes; unlike a future's get(), iterating it can be cancelled.
    private static func closed(_ channel: any Channel) -> AsyncStream<Void> {
        let (closed, closing) = AsyncStream<Void>.makeStream()
        channel.closeFuture.whenComplete { _ in closing.finish() }
        return closed
    }

    private static func makeRequest(_ head: HTTPRequestHead, body: ByteBuffer, state: FakeConnectionState)
        -> FakeHTTPRequest
    {
        let components = URLComponents(string: head.uri)
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        var headers: [String: String] = [:]
        for (name, value) in head.headers { headers[name] = value }
        return FakeHTTPRequest(
            method: head.method.rawValue, path: components?.path ?? head.uri, query: query, headers: headers,
            body: Data(buffer: body), certificate: state.certificate.withLock { $0 })
    }

    private static func write(
        _ response: FakeHTTPResponse, version: HTTPVersion,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        channel: any Channel
    ) async throws {
        var headers = HTTPHeaders(response.headers)
        let status = HTTPResponseStatus(statusCode: response.status)
        switch response.body {
        case .data(let data):
            if response.status != 204 { headers.add(name: "Content-Length", value: String(data.count)) }
            try await outbound.write(.head(HTTPResponseHead(version: version, status: status, headers: headers)))
            if !data.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(data: data)))) }
            try await outbound.write(.end(nil))
        case .stream(let stream):
            headers.add(name: "Cache-Control", value: "no-cache, private")
            try await outbound.write(.head(HTTPResponseHead(version: version, status: status, headers: headers)))
            // A quiet stream would otherwise outlive a client that went away.
            let closed = closed(channel)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await chunk in stream {
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(data: chunk))))
                    }
                    try await outbound.write(.end(nil))
                }
                group.addTask {
                    for await _ in closed {}
                    if !Task.isCancelled { throw CancellationError() }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
