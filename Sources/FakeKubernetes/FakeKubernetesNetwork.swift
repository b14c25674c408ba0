import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
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

/// HTTPS over HTTP/1.1 on 127.0.0.1 with NIO: TLS that asks for (but does not insist on) a
/// client certificate, and one task per connection answering its requests in order.
package enum FakeKubernetesNetwork {
    package static func bind(
        certificatePEM: String, keyPEM: String, authorityPEM: String
    ) async throws -> NIOAsyncChannel<(FakeConnection, FakeConnectionState), Never> {
        let authority = try Certificate(pemEncoded: authorityPEM)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        configuration.certificateVerification = .optionalVerification
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authorityPEM.utf8)))
        configuration.applicationProtocols = ["http/1.1"]
        // A peer that vanished without close_notify must not hold stop() for the default 5 s.
        configuration.shutdownTimeout = .milliseconds(200)
        let context = try NIOSSLContext(configuration: configuration)
        // One loop for the listener and its connections keeps accepting and closing in order.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        return try await ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    let state = FakeConnectionState()
                    let tls = NIOSSLServerHandler(context: context) { chain, promise in
                        promise.completeWithTask {
                            let identity = await FakeAuthorizer.verify(chain, authority: authority)
                            state.certificate.withLock { $0 = identity }
                            return .certificateVerified
                        }
                    }
                    try child.pipeline.syncOperations.addHandler(tls)
                    // Without pipelining assistance, which stops reading while a response is out:
                    // a client closing a followed log must be noticed mid-stream.
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
                    return (try FakeConnection(wrappingChannelSynchronously: child), state)
                }
            }
    }

    /// Answers the connection's requests until it closes or the task is cancelled.
    package static func serve(
        _ connection: FakeConnection, state: FakeConnectionState,
        respond: @escaping @Sendable (FakeHTTPRequest) async -> FakeAction
    ) async {
        let channel = connection.channel
        // The client going away ends the loop with an error; nothing is left to answer then.
        do {
            try await serveRequests(connection, state: state, channel: channel, respond: respond)
        } catch {}
    }

    private static func serveRequests(
        _ connection: FakeConnection, state: FakeConnectionState, channel: any Channel,
        respond: @escaping @Sendable (FakeHTTPRequest) async -> FakeAction
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
                    switch await respond(request) {
                    case .reply(let response):
                        try await write(response, version: requestHead.version, to: outbound, channel: channel)
                    case .reset:
                        // SO_LINGER 0: close sends RST, as a crashed proxy or server would.
                        try? await (channel as? any SocketOptionProvider)?
                            .setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                        try? await channel.close()
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
