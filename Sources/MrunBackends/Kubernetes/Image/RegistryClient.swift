import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// What a registry says about one tag.
enum RegistryLookup: Sendable, Equatable {
    case present(digest: String)
    case absent
    /// The registry would not tell mrun (only docker can use the login); building and pushing decides.
    case unknown(reason: String)
}

/// Asks a registry whether a tag exists, through the Registry HTTP API v2, logging in as docker
/// would: HTTP Basic, or a token from the realm a `WWW-Authenticate: Bearer` challenge names.
/// AsyncHTTPClient rather than URLSession: Foundation's networking on Linux pulls in libcurl and
/// its thirty libraries at start-up, and hides 401 answers behind its own challenge handling.
struct RegistryClient: Sendable {
    static let manifestTypes = [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
    /// Manifests are a few KiB; an index of many platforms stays far below this.
    static let maxBodyBytes = 4 << 20

    var reference: ImageReference
    var login: StoredLogin
    /// Tried in order; the next only when the previous could not connect at all.
    var schemes: [String]
    var timeout: TimeInterval = 30

    func lookup() async throws -> RegistryLookup {
        var failure = RegistryTransportFailure(reason: "no URL scheme to try")
        for scheme in schemes {
            do {
                return try await lookup(scheme: scheme)
            } catch let error as RegistryTransportFailure {
                failure = error
            }
        }
        throw ImageError.registryUnreachable(registry: reference.registry, reason: failure.reason)
    }

    private func lookup(scheme: String) async throws -> RegistryLookup {
        let address = "\(scheme)://\(reference.apiHost)/v2/\(reference.repository)/manifests/\(reference.tag)"
        guard URL(string: address) != nil else {
            throw ImageError.invalidTag("\(reference.repositoryName):\(reference.tag)")
        }
        var authorization: String?
        var response = try await send(manifestRequest(address, method: .HEAD, authorization: nil))
        if response.status == 401,
            let challenge = AuthChallenge(response.headers.first(name: "WWW-Authenticate") ?? "")
        {
            switch (challenge.scheme, login) {
            case (_, .opaque):
                return .unknown(reason: "docker's login for \(reference.registry) is a token only docker can use")
            case ("basic", .missing):
                throw ImageError.notLoggedIn(registry: reference.registry)
            case ("basic", .credentials(let credentials)):
                authorization = credentials.basicAuthorization
            case ("bearer", _):
                authorization = "Bearer " + (try await token(for: challenge))
            default:
                throw ImageError.registryFailed(
                    registry: reference.registry, reason: "unsupported authentication \(quoted: challenge.scheme)")
            }
            response = try await send(manifestRequest(address, method: .HEAD, authorization: authorization))
        }
        switch response.status {
        case 200:
            if let digest = response.headers.first(name: "Docker-Content-Digest"), digest.hasPrefix("sha256:") {
                return .present(digest: digest)
            }
            // A registry need not send the digest header; the digest is the manifest's own hash.
            let manifest = try await send(manifestRequest(address, method: .GET, authorization: authorization))
            return .present(digest: "sha256:" + HexEncoding.hex(SHA256.hash(data: manifest.body)))
        case 404:
            return .absent
        case 401 where authorization?.hasPrefix("Basic ") == true:
            if case .credentials(let credentials) = login {
                throw ImageError.wrongCredentials(registry: reference.registry, user: credentials.username)
            }
            throw ImageError.notLoggedIn(registry: reference.registry)
        case 401, 403:
            return .unknown(reason: "the registry did not let this login read \(reference.repository)")
        default:
            throw ImageError.registryFailed(
                registry: reference.registry, reason: "HTTP \(response.status) for HEAD \(address)")
        }
    }

    /// A bearer token from the challenge's realm, with docker's login as Basic credentials if there is one.
    private func token(for challenge: AuthChallenge) async throws -> String {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm) else {
            throw ImageError.registryFailed(registry: reference.registry, reason: "its token challenge names no realm")
        }
        var query = components.queryItems ?? []
        if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        let scope = challenge.parameters["scope"] ?? "repository:\(reference.repository):pull"
        query.append(URLQueryItem(name: "scope", value: scope))
        components.queryItems = query
        guard let url = components.url else {
            throw ImageError.registryFailed(registry: reference.registry, reason: "its token realm is not a URL")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        var credentials: RegistryCredentials?
        if case .credentials(let stored) = login {
            credentials = stored
            request.headers.add(name: "Authorization", value: stored.basicAuthorization)
        }
        let answer = try await send(request)
        switch answer.status {
        case 200:
            struct Answer: Decodable {
                enum CodingKeys: String, CodingKey {
                    case token
                    case accessToken = "access_token"
                }

                var token: String?
                var accessToken: String?
            }
            if let decoded = try? JSONDecoder().decode(Answer.self, from: answer.body),
                let token = decoded.token ?? decoded.accessToken, !token.isEmpty
            {
                return token
            }
            throw ImageError.registryFailed(registry: reference.registry, reason: "its token service sent no token")
        case 401, 403:
            if let credentials {
                throw ImageError.wrongCredentials(registry: reference.registry, user: credentials.username)
            }
            throw ImageError.notLoggedIn(registry: reference.registry)
        default:
            throw ImageError.registryFailed(
                registry: reference.registry, reason: "HTTP \(answer.status) from its token service \(realm)")
        }
    }

    private func manifestRequest(_ address: String, method: HTTPMethod, authorization: String?) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: address)
        request.method = method
        request.headers.add(name: "Accept", value: Self.manifestTypes.joined(separator: ", "))
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        return request
    }

    private struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    /// One client for the process; its connections are reused across the registry checks of a
    /// command (a sweep's, a rerun's).
    private static let http: HTTPClient = {
        var config = HTTPClient.Configuration()
        // AsyncHTTPClient would retry a refused connection or a failed handshake until the
        // deadline; a registry that cannot be reached is reported at once instead.
        config.connectionPool.retryConnectionEstablishment = false
        // Docker's credentials must not follow a redirect to another host.
        config.redirectConfiguration = .disallow
        config.timeout = .init(connect: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }()

    private func send(_ request: HTTPClientRequest) async throws -> Answer {
        do {
            let response = try await Self.http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let body = try await response.body.collect(upTo: Self.maxBodyBytes)
            return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
        } catch {
            throw RegistryTransportFailure(error, timeout: timeout)
        }
    }
}

/// The request never got an HTTP answer.
private struct RegistryTransportFailure: Error {
    var reason: String

    init(reason: String) { self.reason = reason }

    init(_ error: any Error, timeout: TimeInterval) {
        if let connection = error as? NIOConnectionError, connection.dnsAError != nil || connection.dnsAAAAError != nil,
            connection.connectionErrors.isEmpty
        {
            reason = "unknown host"
            return
        }
        let failure = TransportFailure(error, timeout: .milliseconds(Int64(timeout * 1000)))
        switch failure.kind {
        case .timedOut: reason = "timed out"
        case .unreachable: reason = failure.detail == "connect timeout" ? "timed out" : "connection refused"
        case .connectionLost: reason = "connection lost"
        case .untrusted, .nameMismatch, .tls: reason = "TLS handshake failed"
        case .failed, .fatal: reason = "network error: \(failure.detail)"
        }
    }
}

/// A parsed `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`.
struct AuthChallenge: Equatable {
    /// Lowercased: `basic` or `bearer`.
    var scheme: String
    var parameters: [String: String]

    init?(_ header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(where: \.isWhitespace) ?? (trimmed.isEmpty ? nil : trimmed.endIndex)
        else { return nil }
        scheme = trimmed[..<space].lowercased()
        parameters = [:]
        var rest = trimmed[space...].drop { $0.isWhitespace || $0 == "," }
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                value = String(rest.prefix { $0 != "," }).trimmingCharacters(in: .whitespaces)
                rest = rest.drop { $0 != "," }
            }
            parameters[key] = value
            rest = rest.drop { $0.isWhitespace || $0 == "," }
        }
    }
}
