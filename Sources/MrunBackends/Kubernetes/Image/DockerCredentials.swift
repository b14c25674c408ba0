import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A registry login as docker stores it. The password is never printed: not by `description`, not
/// in errors, not in the arguments of a process.
struct RegistryCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    var username: String
    var password: String

    var description: String { "credentials of '\(username)'" }
    var debugDescription: String { description }

    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// What docker knows about logging in to one registry.
enum StoredLogin: Sendable, Equatable {
    case missing
    case credentials(RegistryCredentials)
    /// A login mrun cannot use for its own registry check (an OAuth identity token); docker can.
    case opaque
}

/// docker's client configuration, `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`),
/// read for the logins `docker login` stored there or in a credential helper.
struct DockerConfig: Sendable {
    private struct File: Decodable {
        struct Entry: Decodable {
            var auth: String?
            var username: String?
            var password: String?
            var identitytoken: String?
        }

        var auths: [String: Entry]?
        var credsStore: String?
        var credHelpers: [String: String]?
    }

    /// The directory docker reads; child `docker` processes are pointed at it explicitly.
    let directory: URL
    private let file: File

    static func directory(for host: HostEnvironment) -> URL {
        if let explicit = host.variables["DOCKER_CONFIG"], !explicit.isEmpty { return host.resolve(explicit) }
        return host.homeDirectory.appendingPathComponent(".docker")
    }

    /// Reads the configuration; a missing file is an empty one, as it is for docker.
    init(host: HostEnvironment) throws {
        directory = Self.directory(for: host)
        let path = directory.appendingPathComponent("config.json")
        let data: Data
        do {
            data = try Data(contentsOf: path)
        } catch CocoaError.fileReadNoSuchFile {
            file = File()
            return
        } catch {
            throw ImageError.dockerConfigInvalid(path: path.path, reason: error.localizedDescription)
        }
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw ImageError.dockerConfigInvalid(path: path.path, reason: "not valid JSON")
        }
    }

    /// The login for `registry` (a `config.json` key such as `127.0.0.1:5000`), looked up as docker
    /// does: a registry-specific helper, else an `auths` entry, else the default helper.
    func login(for registry: String, host: HostEnvironment) async throws -> StoredLogin {
        if let helper = file.credHelpers?[registry], !helper.isEmpty {
            return try await Self.askHelper(helper, registry: registry, host: host)
        }
        if let entry = entry(for: registry) {
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw ImageError.dockerConfigInvalid(
                        path: directory.appendingPathComponent("config.json").path,
                        reason: "the login of \(registry) is not base64 'user:password'")
                }
                return .credentials(
                    RegistryCredentials(
                        username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...])))
            }
            if let username = entry.username, let password = entry.password {
                return .credentials(RegistryCredentials(username: username, password: password))
            }
            if entry.identitytoken != nil { return .opaque }
        }
        if let store = file.credsStore, !store.isEmpty {
            return try await Self.askHelper(store, registry: registry, host: host)
        }
        return .missing
    }

    /// The `auths` entry of `registry`; docker accepts keys written as URLs (`https://host/v1/`).
    private func entry(for registry: String) -> File.Entry? {
        guard let auths = file.auths else { return nil }
        if let exact = auths[registry] { return exact }
        return auths.first { Self.hostname(of: $0.key) == Self.hostname(of: registry) }?.value
    }

    private static func hostname(of key: String) -> Substring {
        var host = Substring(key)
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host = host.dropFirst(scheme.count) }
        return host.prefix { $0 != "/" }
    }

    /// Runs `docker-credential-HELPER get`, which reads the registry on stdin and answers JSON.
    private static func askHelper(_ helper: String, registry: String, host: HostEnvironment) async throws
        -> StoredLogin
    {
        struct Answer: Decodable {
            enum CodingKeys: String, CodingKey {
                case username = "Username"
                case secret = "Secret"
            }

            var username: String
            var secret: String
        }
        let program = "docker-credential-\(helper)"
        let result: CommandResult
        do {
            result = try await DockerCLI.run([program, "get"], input: registry, environment: host.variables)
        } catch {
            throw ImageError.credentialHelperFailed(helper: program, registry: registry, reason: "cannot run it")
        }
        guard result.status.succeeded else {
            let message = result.standardError + result.standardOutput
            // Helpers report a missing login as an error; docker treats it as "not logged in".
            if message.lowercased().contains("credentials not found") { return .missing }
            let reason = message.split(separator: "\n").last.map(String.init) ?? "it failed"
            throw ImageError.credentialHelperFailed(helper: program, registry: registry, reason: reason)
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(result.standardOutput.utf8))
        else {
            throw ImageError.credentialHelperFailed(
                helper: program, registry: registry, reason: "its answer is not JSON")
        }
        // `<token>` marks an identity token, which only docker's own token exchange understands.
        if answer.username == "<token>" { return .opaque }
        return .credentials(RegistryCredentials(username: answer.username, password: answer.secret))
    }
}
