import Foundation
import Yams
import MrunSupport
import MrunConfig
import MrunTemplates

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
            let text = { () throws(FileProblem) -> String in try document.scalar(valueNode, key: key) }
            switch key {
            case "project": config.project = try text()
            case "name": config.name = try text()
            case "description": config.description = try text()
            case "tags":
                if let items = valueNode.sequence {
                    config.tags = try items.map { item throws(FileProblem) in try document.scalar(item, key: key) }
                } else {
                    guard valueNode.scalar != nil else {
                        throw document.error(at: valueNode, "tags: must be a tag or a list of tags")
                    }
                    config.tags = [try text()]
                }
            case "parameters":
                config.parameters = try parameters(valueNode, document: document)
            default:
                throw document.error(
                    at: keyNode,
                    "unknown key \(quoted: key)\(Suggestion.hint(for: key, in: knownKeys));"
                        + " known: \(knownKeys.joined(separator: ", "))")
            }
        }
        return config
    }

    /// Parameters as a mapping (`lr: 0.1`) or as Neptune 1's list of `{name, default}` items.
    private static func parameters(_ node: Node, document: YAMLDocument) throws -> [(name: String, value: String)] {
        if let mapping = node.mapping {
            return try mapping.map { key, value throws(FileProblem) in
                let name = try document.scalar(key, key: "parameters")
                return (name, try document.scalar(value, key: "parameters.\(name)"))
            }
        }
        if let sequence = node.sequence {
            return try sequence.map { item in
                guard let name = item["name"]?.scalar?.string else {
                    throw document.error(at: item, "each parameter needs a 'name'")
                }
                let value = try (item["default"] ?? item["value"]).map { value throws(FileProblem) in
                    try document.scalar(value, key: "parameters.\(name)")
                }
                return (name, value ?? "")
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
                guard let node = document.root[key] else { continue }
                let value = try document.scalar(node, key: key)
                if key == "port", !value.isEmpty,
                    !(value.allSatisfy(\.isNumber) && Int(value).map { (1...65535).contains($0) } == true)
                {
                    throw document.error(at: node, "port: must be a port number from 1 to 65535, got \(quoted: value)")
                }
                if !value.isEmpty {
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
