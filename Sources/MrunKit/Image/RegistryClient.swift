import Crypto
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What a registry says about one tag.
enum RegistryLookup: Sendable, Equatable {
    case present(digest: String)
    case absent
    /// The registry would not tell mrun (only docker can use the login); building and pushing decides.
    case unknown(reason: String)
}

/// Asks a registry whether a tag exists, through the Registry HTTP API v2, logging in as docker
/// would: HTTP Basic, or a token from the realm a `WWW-Authenticate: Bearer` challenge names.
struct RegistryClient: Sendable {
    static let manifestTypes = [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]

    var reference: ImageReference
    var login: StoredLogin
    /// Tried in order; the next only when the previous could not connect at all.
    var schemes: [String]
    var timeout: TimeInterval = 30

    func lookup() async throws -> RegistryLookup {
        let session = URLSession(
            configuration: Self.configuration(timeout: timeout), delegate: ChallengeRecorder(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        var failure = RegistryTransportFailure(reason: "no URL scheme to try")
        for scheme in schemes {
            do {
                return try await lookup(scheme: scheme, session: session)
            } catch let error as RegistryTransportFailure {
                failure = error
            }
        }
        throw ImageError.registryUnreachable(registry: reference.registry, reason: failure.reason)
    }

    private func lookup(scheme: String, session: URLSession) async throws -> RegistryLookup {
        let address = "\(scheme)://\(reference.apiHost)/v2/\(reference.repository)/manifests/\(reference.tag)"
        guard let url = URL(string: address) else {
            throw ImageError.invalidTag("\(reference.repositoryName):\(reference.tag)")
        }
        var authorization: String?
        var response = try await send(manifestRequest(url, method: "HEAD", authorization: nil), session).response
        if response.statusCode == 401,
            let challenge = AuthChallenge(header(response, "WWW-Authenticate") ?? "")
        {
            switch (challenge.scheme, login) {
            case (_, .opaque):
                return .unknown(reason: "docker's login for \(reference.registry) is a token only docker can use")
            case ("basic", .missing):
                throw ImageError.notLoggedIn(registry: reference.registry)
            case ("basic", .credentials(let credentials)):
                authorization = credentials.basicAuthorization
            case ("bearer", _):
                authorization = "Bearer " + (try await token(for: challenge, session: session))
            default:
                throw ImageError.registryFailed(
                    registry: reference.registry, reason: "unsupported authentication '\(challenge.scheme)'")
            }
            response = try await send(manifestRequest(url, method: "HEAD", authorization: authorization), session)
                .response
        }
        switch response.statusCode {
        case 200:
            if let digest = header(response, "Docker-Content-Digest"), digest.hasPrefix("sha256:") {
                return .present(digest: digest)
            }
            // A registry need not send the digest header; the digest is the manifest's own hash.
            let manifest = try await send(manifestRequest(url, method: "GET", authorization: authorization), session)
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
                registry: reference.registry, reason: "HTTP \(response.statusCode) for HEAD \(address)")
        }
    }

    /// A bearer token from the challenge's realm, with docker's login as Basic credentials if there is one.
    private func token(for challenge: AuthChallenge, session: URLSession) async throws -> String {
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
        var request = URLRequest(url: url)
        var credentials: RegistryCredentials?
        if case .credentials(let stored) = login {
            credentials = stored
            request.setValue(stored.basicAuthorization, forHTTPHeaderField: "Authorization")
        }
        let (response, body) = try await send(request, session)
        switch response.statusCode {
        case 200:
            struct Answer: Decodable {
                enum CodingKeys: String, CodingKey {
                    case token
                    case accessToken = "access_token"
                }

                var token: String?
                var accessToken: String?
            }
            if let answer = try? JSONDecoder().decode(Answer.self, from: body),
                let token = answer.token ?? answer.accessToken, !token.isEmpty
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
                registry: reference.registry, reason: "HTTP \(response.statusCode) from its token service \(realm)")
        }
    }

    private func manifestRequest(_ url: URL, method: String, authorization: String?) -> URLRequest {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue(Self.manifestTypes.joined(separator: ", "), forHTTPHeaderField: "Accept")
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        return request
    }

    private func send(_ request: URLRequest, _ session: URLSession) async throws -> (
        response: HTTPURLResponse, body: Data
    ) {
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError where error.code == .cancelled {
            guard let url = request.url, let method = (session.delegate as? ChallengeRecorder)?.challenge(for: url),
                let answer = HTTPURLResponse(
                    url: url, statusCode: 401, httpVersion: "HTTP/1.1", headerFields: ["WWW-Authenticate": method])
            else { throw RegistryTransportFailure(error) }
            return (answer, Data())
        } catch {
            throw RegistryTransportFailure(error)
        }
        guard let http = response as? HTTPURLResponse else {
            throw RegistryTransportFailure(reason: "not an HTTP answer")
        }
        return (http, data)
    }

    private func header(_ response: HTTPURLResponse, _ name: String) -> String? {
        for (key, value) in response.allHeaderFields {
            if let key = key as? String, key.caseInsensitiveCompare(name) == .orderedSame { return value as? String }
        }
        return nil
    }

    private static func configuration(timeout: TimeInterval) -> URLSessionConfiguration {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 2
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        return configuration
    }
}

/// Turns HTTP authentication challenges back into the 401 answers they came from.
///
/// Foundation on Linux never completes a request answered `401` with a `Basic` challenge unless a
/// delegate settles the challenge, and then reports a cancellation instead of the answer. mrun
/// answers challenges itself, so the delegate cancels them and remembers which URL was challenged.
private final class ChallengeRecorder: NSObject, URLSessionTaskDelegate, Sendable {
    private let challenged = Mutex<[URL: String]>([:])

    func challenge(for url: URL) -> String? {
        challenged.withLock { $0.removeValue(forKey: url) }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        let method = challenge.protectionSpace.authenticationMethod
        guard method == NSURLAuthenticationMethodHTTPBasic || method == NSURLAuthenticationMethodHTTPDigest,
            let url = task.originalRequest?.url
        else {
            completionHandler(.performDefaultHandling, nil)
            return
        }
        let scheme = method == NSURLAuthenticationMethodHTTPBasic ? "Basic" : "Digest"
        challenged.withLock { $0[url] = "\(scheme) realm=\"\(challenge.protectionSpace.realm ?? "")\"" }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }
}

/// The request never got an HTTP answer.
private struct RegistryTransportFailure: Error {
    var reason: String

    init(reason: String) { self.reason = reason }

    init(_ error: any Error) {
        // URLError's own text is a generic "operation could not be completed" on Linux.
        guard let urlError = error as? URLError else {
            reason = "\(error)"
            return
        }
        switch urlError.code {
        case .cannotConnectToHost: reason = "connection refused"
        case .cannotFindHost, .dnsLookupFailed: reason = "unknown host"
        case .timedOut: reason = "timed out"
        case .networkConnectionLost: reason = "connection lost"
        case .notConnectedToInternet: reason = "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            reason = "TLS handshake failed"
        default: reason = "network error \(urlError.code.rawValue)"
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
