import Foundation
import MrunSupport

/// One kubeconfig file as kubectl reads it (`apiVersion: v1`, `kind: Config`), limited to the fields
/// mrun uses; unknown keys are ignored like kubectl ignores them. Paths are kept as written until
/// ``resolvingPaths(against:)``.
public struct KubeconfigFile: Codable, Sendable, Equatable {
    public var currentContext: String?
    public var clusters: [KubeconfigNamed<KubeconfigCluster>]?
    public var users: [KubeconfigNamed<KubeconfigUser>]?
    public var contexts: [KubeconfigNamed<KubeconfigContext>]?

    enum CodingKeys: String, CodingKey {
        case currentContext = "current-context"
        case clusters, users, contexts
    }

    public init(
        currentContext: String? = nil, clusters: [KubeconfigNamed<KubeconfigCluster>]? = nil,
        users: [KubeconfigNamed<KubeconfigUser>]? = nil, contexts: [KubeconfigNamed<KubeconfigContext>]? = nil
    ) {
        self.currentContext = currentContext
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
    }

    /// The file with relative paths made absolute against `directory`, the kubeconfig's own
    /// directory, as kubectl does: CA, client certificate and key, token file, and an exec command
    /// that contains a `/` (a bare name is looked up on PATH instead).
    public func resolvingPaths(against directory: URL) -> KubeconfigFile {
        func absolute(_ path: String?) -> String? {
            guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
            return directory.appendingPathComponent(path).standardizedFileURL.path
        }
        var copy = self
        copy.clusters = clusters?.map { named in
            var named = named
            named.entry.certificateAuthority = absolute(named.entry.certificateAuthority)
            return named
        }
        copy.users = users?.map { named in
            var named = named
            named.entry.clientCertificate = absolute(named.entry.clientCertificate)
            named.entry.clientKey = absolute(named.entry.clientKey)
            named.entry.tokenFile = absolute(named.entry.tokenFile)
            if let command = named.entry.exec?.command, command.contains("/") {
                named.entry.exec?.command = absolute(command)
            }
            return named
        }
        return copy
    }
}

/// An entry of a kubeconfig list (`clusters`, `users`, `contexts`): a name and the value under the
/// list's own key (`cluster`, `user`, `context`).
public protocol KubeconfigEntry: Codable, Sendable, Equatable {
    static var entryKey: String { get }
    init()
}

public struct KubeconfigNamed<Entry: KubeconfigEntry>: Codable, Sendable, Equatable {
    public var name: String
    public var entry: Entry

    public init(name: String, entry: Entry) {
        self.name = name
        self.entry = entry
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        name = try container.decode(String.self, forKey: Key("name"))
        // kubectl treats a missing body as an empty one.
        entry = try container.decodeIfPresent(Entry.self, forKey: Key(Entry.entryKey)) ?? Entry()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(name, forKey: Key("name"))
        try container.encode(entry, forKey: Key(Entry.entryKey))
    }
}

public struct KubeconfigCluster: KubeconfigEntry {
    public static let entryKey = "cluster"
    public var server: String?
    public var certificateAuthority: String?
    /// Base64 as in the file; decoded when the context is resolved, so errors can name the context.
    public var certificateAuthorityData: String?
    public var insecureSkipTLSVerify: Bool?
    public var tlsServerName: String?

    enum CodingKeys: String, CodingKey {
        case server
        case certificateAuthority = "certificate-authority"
        case certificateAuthorityData = "certificate-authority-data"
        case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        case tlsServerName = "tls-server-name"
    }

    public init() {}
}

public struct KubeconfigUser: KubeconfigEntry {
    public static let entryKey = "user"
    public var clientCertificate: String?
    public var clientCertificateData: String?
    public var clientKey: String?
    public var clientKeyData: String?
    public var token: String?
    public var tokenFile: String?
    public var username: String?
    public var password: String?
    public var authProvider: AuthProvider?
    public var exec: KubeconfigExec?

    public struct AuthProvider: Codable, Sendable, Equatable {
        public var name: String?
    }

    enum CodingKeys: String, CodingKey {
        case clientCertificate = "client-certificate"
        case clientCertificateData = "client-certificate-data"
        case clientKey = "client-key"
        case clientKeyData = "client-key-data"
        case token, tokenFile, username, password
        case authProvider = "auth-provider"
        case exec
    }

    public init() {}
}

extension KubeconfigUser: CustomStringConvertible, CustomDebugStringConvertible {
    /// Which credentials are set, never their values.
    public var description: String {
        let fields: [(String, Bool)] = [
            ("client-certificate", clientCertificate != nil), ("client-certificate-data", clientCertificateData != nil),
            ("client-key", clientKey != nil), ("client-key-data", clientKeyData != nil), ("token", token != nil),
            ("tokenFile", tokenFile != nil), ("username", username != nil), ("password", password != nil),
            ("auth-provider", authProvider != nil), ("exec", exec != nil),
        ]
        let set = fields.filter(\.1).map(\.0)
        return "KubeconfigUser(\(set.joined(separator: ", ")): <redacted>)"
    }

    public var debugDescription: String { description }
}

/// A client-go credential plugin (`users[].user.exec`).
public struct KubeconfigExec: Codable, Sendable, Equatable, Hashable {
    public var command: String?
    public var args: [String]?
    public var env: [EnvVar]?
    public var apiVersion: String?
    public var installHint: String?
    public var provideClusterInfo: Bool?
    public var interactiveMode: String?

    public struct EnvVar: Codable, Sendable, Equatable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(
        command: String? = nil, args: [String]? = nil, env: [EnvVar]? = nil, apiVersion: String? = nil,
        installHint: String? = nil, provideClusterInfo: Bool? = nil, interactiveMode: String? = nil
    ) {
        self.command = command
        self.args = args
        self.env = env
        self.apiVersion = apiVersion
        self.installHint = installHint
        self.provideClusterInfo = provideClusterInfo
        self.interactiveMode = interactiveMode
    }
}

extension KubeconfigExec: CustomStringConvertible, CustomDebugStringConvertible {
    /// `env` values may be secrets; only their names are shown.
    public var description: String {
        let names = (env ?? []).map(\.name).joined(separator: ", ")
        return "KubeconfigExec(command: \(command ?? ""), args: \(args ?? []), env: [\(names)],"
            + " apiVersion: \(apiVersion ?? ""))"
    }

    public var debugDescription: String { description }
}

public struct KubeconfigContext: KubeconfigEntry {
    public static let entryKey = "context"
    public var cluster: String?
    public var user: String?
    public var namespace: String?

    public init() {}
}

/// Several kubeconfig files merged with kubectl's rules: for clusters, users and contexts the first
/// file that defines a name wins (the whole entry, not field by field), and `current-context` comes
/// from the first file that sets one.
public struct Kubeconfig: Sendable {
    /// A merged entry and the file it came from, so errors can name that file.
    public struct Located<Value: Sendable>: Sendable {
        public var value: Value
        public var file: URL
    }

    /// The files that were read, in order.
    public var files: [URL] = []
    public var currentContext: String?
    public var clusters: [String: Located<KubeconfigCluster>] = [:]
    public var users: [String: Located<KubeconfigUser>] = [:]
    public var contexts: [String: Located<KubeconfigContext>] = [:]

    public init() {}

    /// Merges files given in `$KUBECONFIG` order, paths already resolved.
    public init(merging files: [(url: URL, file: KubeconfigFile)]) {
        for (url, file) in files {
            self.files.append(url)
            if currentContext == nil, let current = file.currentContext, !current.isEmpty {
                currentContext = current
            }
            for named in file.clusters ?? [] where clusters[named.name] == nil {
                clusters[named.name] = Located(value: named.entry, file: url)
            }
            for named in file.users ?? [] where users[named.name] == nil {
                users[named.name] = Located(value: named.entry, file: url)
            }
            for named in file.contexts ?? [] where contexts[named.name] == nil {
                contexts[named.name] = Located(value: named.entry, file: url)
            }
        }
    }

    /// Nothing defined: kubectl then falls back to the in-cluster config.
    public var isEmpty: Bool {
        currentContext == nil && clusters.isEmpty && users.isEmpty && contexts.isEmpty
    }
}
