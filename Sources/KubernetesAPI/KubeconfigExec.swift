import Crypto
import Foundation
import MrunSupport

/// A client-go credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`), run the way
/// kubectl runs it: `command` and `args` without a shell, the kubeconfig's `env` added to mrun's own
/// environment, and the request in `KUBERNETES_EXEC_INFO`. Credentials are cached through
/// ``ExecCredentialCache``.
public struct ExecCredentialPlugin: Sendable, CustomStringConvertible {
    public static let supportedVersions = [
        "client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1",
    ]

    /// What the plugin runs with, supplied by the loader.
    struct Environment: Sendable {
        var runner: any ProcessRunning
        var variables: [String: String]
        var workingDirectory: String
        var cache: ExecCredentialCache
    }

    /// `spec.cluster` of the request, sent when the kubeconfig sets `provideClusterInfo: true`.
    struct ClusterInfo: Codable, Sendable, Hashable {
        var server: String
        var tlsServerName: String?
        var insecureSkipTLSVerify: Bool?
        var certificateAuthorityData: String?

        enum CodingKeys: String, CodingKey {
            case server
            case tlsServerName = "tls-server-name"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case certificateAuthorityData = "certificate-authority-data"
        }
    }

    /// The kubeconfig's exec block, with `command` resolved and `interactiveMode` defaulted.
    public let config: KubeconfigExec
    public let userName: String
    let clusterInfo: ClusterInfo?
    let environment: Environment

    init(config: KubeconfigExec, userName: String, clusterInfo: ClusterInfo?, environment: Environment) {
        self.config = config
        self.userName = userName
        self.clusterInfo = clusterInfo
        self.environment = environment
    }

    public var command: String { config.command ?? "" }
    var apiVersion: String { config.apiVersion ?? "" }

    /// SHA-256 of everything that determines the plugin's answer; names the cache entry.
    public var cacheKey: String {
        struct Material: Encodable {
            var apiVersion: String
            var command: String
            var args: [String]
            var env: [KubeconfigExec.EnvVar]
            var interactiveMode: String?
            var cluster: ClusterInfo?
        }
        let material = Material(
            apiVersion: apiVersion, command: command, args: config.args ?? [], env: config.env ?? [],
            interactiveMode: config.interactiveMode, cluster: clusterInfo)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(material)) ?? Data("\(material)".utf8)
        return HexEncoding.hex(SHA256.hash(data: bytes))
    }

    /// The current credential: cached while it is valid, otherwise from a new run of the plugin.
    public func credential() async throws -> ExecCredential {
        try await environment.cache.credential(forKey: cacheKey) { try await run() }
    }

    func invalidate() async {
        await environment.cache.invalidate(key: cacheKey)
    }

    /// The `ExecCredential` request kubectl passes in `KUBERNETES_EXEC_INFO`; mrun never gives the
    /// plugin a terminal, so `interactive` is false.
    var execInfo: String {
        struct Request: Encodable {
            struct Spec: Encodable {
                var cluster: ClusterInfo?
                var interactive: Bool
            }
            var apiVersion: String
            var kind = "ExecCredential"
            var spec: Spec
        }
        let request = Request(apiVersion: apiVersion, spec: .init(cluster: clusterInfo, interactive: false))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(request)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    func run() async throws -> ExecCredential {
        var variables = environment.variables
        for variable in config.env ?? [] { variables[variable.name] = variable.value }
        variables["KUBERNETES_EXEC_INFO"] = execInfo
        let result: CommandResult
        do {
            result = try await environment.runner.run(
                [command] + (config.args ?? []), environment: variables,
                workingDirectory: environment.workingDirectory)
        } catch let error as ProcessError {
            if case .programNotFound = error {
                throw KubeconfigError.execNotFound(command: command, installHint: config.installHint)
            }
            throw KubeconfigError.execLaunchFailed(command: command, reason: error.description)
        }
        guard result.status.succeeded else {
            let lastLine = result.standardError.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .last { !$0.isEmpty }
            throw KubeconfigError.execFailed(
                command: command, status: result.status, lastErrorLine: lastLine, installHint: config.installHint)
        }
        return try parse(result.standardOutput)
    }

    /// Checks the plugin's answer like client-go does. Messages never quote the output: it holds secrets.
    func parse(_ output: String) throws(KubeconfigError) -> ExecCredential {
        struct Response: Decodable {
            struct Status: Decodable {
                var token: String?
                var clientCertificateData: String?
                var clientKeyData: String?
                var expirationTimestamp: String?
            }
            var apiVersion: String?
            var kind: String?
            var status: Status?
        }
        func invalid(_ problem: String) -> KubeconfigError {
            .execInvalidOutput(command: command, problem: problem)
        }
        guard let response = try? JSONDecoder().decode(Response.self, from: Data(output.utf8)) else {
            throw invalid("its output is not an ExecCredential JSON object")
        }
        guard response.kind == "ExecCredential" else {
            throw invalid("its output has kind \(quoted: response.kind ?? ""), expected 'ExecCredential'")
        }
        guard response.apiVersion == apiVersion else {
            throw invalid(
                "it answered with apiVersion \(quoted: response.apiVersion ?? "") but the kubeconfig asks for"
                    + " \(quoted: apiVersion); make them match")
        }
        guard let status = response.status else { throw invalid("its output has no status") }
        let token = status.token.flatMap { $0.isEmpty ? nil : $0 }
        let certificate = status.clientCertificateData.flatMap { $0.isEmpty ? nil : $0 }
        let key = status.clientKeyData.flatMap { $0.isEmpty ? nil : $0 }
        guard token != nil || certificate != nil || key != nil else {
            throw invalid("status has neither a token nor clientCertificateData and clientKeyData")
        }
        guard (certificate == nil) == (key == nil) else {
            throw invalid("status has only one of clientCertificateData and clientKeyData; both are needed")
        }
        var expiration: Date?
        if let timestamp = status.expirationTimestamp, !timestamp.isEmpty {
            guard let date = RFC3339.date(from: timestamp) else {
                throw invalid("status.expirationTimestamp \(quoted: timestamp) is not an RFC 3339 time")
            }
            expiration = date
        }
        return ExecCredential(
            token: token, clientCertificateData: certificate, clientKeyData: key, expiration: expiration)
    }

    public var description: String { "ExecCredentialPlugin(\(command), user \(quoted: userName))" }
}

/// What an exec plugin returned. Its description hides the secrets.
public struct ExecCredential: Sendable, Equatable, CustomStringConvertible {
    public var token: String?
    /// PEM text, as the plugin returns it (not base64).
    public var clientCertificateData: String?
    public var clientKeyData: String?
    /// nil: valid for the life of this process only.
    public var expiration: Date?

    public init(
        token: String? = nil, clientCertificateData: String? = nil, clientKeyData: String? = nil,
        expiration: Date? = nil
    ) {
        self.token = token
        self.clientCertificateData = clientCertificateData
        self.clientKeyData = clientKeyData
        self.expiration = expiration
    }

    public var description: String {
        let expires = expiration.map { RFC3339.string(from: $0) } ?? "never"
        return "ExecCredential(<redacted>, expires: \(expires))"
    }
}

/// Timestamps as Kubernetes writes them (`2024-05-01T12:00:00Z`, optionally with fractional seconds
/// or a numeric offset).
enum RFC3339 {
    static func date(from text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    static func string(from date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
