import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// An image name split the way docker splits it: `127.0.0.1:5000/proj/train:abc` is registry
/// `127.0.0.1:5000`, repository `proj/train`, tag `abc`.
struct ImageReference: Equatable, Sendable {
    /// The registry as written in the name; `docker.io` when the name has none.
    var registry: String
    var repository: String
    var tag: String

    init?(_ reference: String) {
        var name = Substring(reference)
        if let at = name.firstIndex(of: "@") { name = name[..<at] }
        let lastSlash = name.lastIndex(of: "/")
        let tagSeparator = name.lastIndex(of: ":").flatMap { colon in
            lastSlash.map { colon > $0 } ?? true ? colon : nil
        }
        tag = tagSeparator.map { String(name[name.index(after: $0)...]) } ?? "latest"
        if let tagSeparator { name = name[..<tagSeparator] }
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard let first = components.first, !first.isEmpty, !tag.isEmpty,
            components.allSatisfy({ !$0.isEmpty })
        else { return nil }
        // docker's rule: the first component names a registry only if it looks like a host.
        if components.count > 1, first.contains(".") || first.contains(":") || first == "localhost" {
            registry = String(first)
            repository = components.dropFirst().joined(separator: "/")
        } else {
            registry = "docker.io"
            repository = components.count == 1 ? "library/\(first)" : components.joined(separator: "/")
        }
    }

    var isDockerHub: Bool { ["docker.io", "index.docker.io", "registry-1.docker.io"].contains(registry) }

    /// Where the Registry HTTP API of the registry answers.
    var apiHost: String { isDockerHub ? "registry-1.docker.io" : registry }

    /// The key docker uses for the registry in `config.json` and with credential helpers.
    var credentialKey: String { isDockerHub ? "https://index.docker.io/v1/" : registry }

    /// The name without the tag, as `docker inspect` lists it in `RepoDigests`.
    var repositoryName: String {
        if isDockerHub {
            return repository.hasPrefix("library/") ? String(repository.dropFirst("library/".count)) : repository
        }
        return "\(registry)/\(repository)"
    }

    /// Whether the registry is on this machine; docker allows plain HTTP to those without configuration.
    var isLoopback: Bool {
        var host = Substring(registry)
        if host.hasPrefix("[") {
            host = host.dropFirst().prefix { $0 != "]" }
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
