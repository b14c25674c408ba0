import Foundation
import Yams

/// An environment variable passed to the experiment. Secret values are kept in memory for the
/// backend but never encoded or printed: every textual form shows them redacted.
public struct EnvironmentVariable: Codable, Sendable, Equatable {
    public var name: String
    public var value: String
    public var secret: Bool

    public static let redacted = "<redacted>"

    public init(name: String, value: String, secret: Bool = false) {
        self.name = name
        self.value = value
        self.secret = secret
    }

    public var displayValue: String { secret ? Self.redacted : value }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(displayValue, forKey: .value)
        try container.encode(secret, forKey: .secret)
    }
}

/// The experiment file given with `--config` (Neptune's format): project, name, tags, parameters.
public struct NeptuneExperimentConfig: Sendable, Equatable {
    public var project: String?
    public var name: String?
    public var description: String?
    public var tags: [String] = []
    /// Parameter names and values as JSON-compatible text values, in file order.
    public var parameters: [(name: String, value: String)] = []

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.project == rhs.project && lhs.name == rhs.name && lhs.tags == rhs.tags
            && lhs.parameters.map(\.name) == rhs.parameters.map(\.name)
            && lhs.parameters.map(\.value) == rhs.parameters.map(\.value)
    }

    static let knownKeys = ["project", "name", "description", "tags", "parameters"]

    public static func parse(_ text: String, file: String) throws -> NeptuneExperimentConfig {
        let document = try YAMLDocument.mapping(text, file: file, what: "a Neptune experiment config")
        var config = NeptuneExperimentConfig()
        for (keyNode, valueNode) in document.pairs {
            let key = keyNode.scalar?.string ?? ""
            switch key {
            case "project": config.project = valueNode.scalar?.string
            case "name": config.name = valueNode.scalar?.string
            case "description": config.description = valueNode.scalar?.string
            case "tags":
                config.tags =
                    valueNode.sequence.map { $0.compactMap { $0.scalar?.string } }
                    ?? valueNode.scalar.map { [$0.string] } ?? []
            case "parameters":
                config.parameters = try parameters(valueNode, document: document)
            default:
                throw document.error(
                    at: keyNode,
                    "unknown key '\(key)'\(Suggestion.hint(for: key, in: knownKeys));"
                        + " known: \(knownKeys.joined(separator: ", "))")
            }
        }
        return config
    }

    /// Parameters as a mapping (`lr: 0.1`) or as Neptune 1's list of `{name, default}` items.
    private static func parameters(_ node: Node, document: YAMLDocument) throws -> [(name: String, value: String)] {
        if let mapping = node.mapping {
            return mapping.compactMap { key, value in
                key.scalar.map { ($0.string, value.scalar?.string ?? "") }
            }
        }
        if let sequence = node.sequence {
            return try sequence.map { item in
                guard let name = item["name"]?.scalar?.string else {
                    throw document.error(at: item, "each parameter needs a 'name'")
                }
                return (name, (item["default"] ?? item["value"])?.scalar?.string ?? "")
            }
        }
        throw document.error(at: node, "parameters must be a mapping of names to values")
    }
}

/// Where Neptune credentials come from: the environment, and Neptune 1's `~/.neptune.yaml`.
public enum NeptuneCredentials {
    public static func variables(host: HostEnvironment, project: String?) throws -> [EnvironmentVariable] {
        var variables: [EnvironmentVariable] = []
        let legacyFile = host.homeDirectory.appendingPathComponent(".neptune.yaml")
        if let text = try FileText.readIfPresent(legacyFile), !text.allSatisfy(\.isWhitespace) {
            let document = try YAMLDocument.mapping(text, file: legacyFile.path, what: "Neptune settings")
            // Neptune owns this file and may add keys: read the ones mrun knows, ignore the rest.
            let names: [(key: String, variable: String, secret: Bool)] = [
                ("host", "NEPTUNE_HOST", false), ("port", "NEPTUNE_PORT", false),
                ("username", "NEPTUNE_USER", false), ("password", "NEPTUNE_PASSWORD", true),
                ("api_token", "NEPTUNE_API_TOKEN", true),
            ]
            for (key, variable, secret) in names {
                if let value = document.root[key]?.scalar?.string, !value.isEmpty {
                    variables.append(EnvironmentVariable(name: variable, value: value, secret: secret))
                }
            }
        }
        if let token = host.variables["NEPTUNE_API_TOKEN"], !token.isEmpty {
            variables.removeAll { $0.name == "NEPTUNE_API_TOKEN" }
            variables.append(EnvironmentVariable(name: "NEPTUNE_API_TOKEN", value: token, secret: true))
        }
        if let neptuneProject = project ?? host.variables["NEPTUNE_PROJECT"], !neptuneProject.isEmpty {
            variables.append(EnvironmentVariable(name: "NEPTUNE_PROJECT", value: neptuneProject))
        }
        return variables
    }
}
