import Foundation
import Yams
import MrunSupport

/// Rendered manifests read as JSON values, the way Kubernetes' own YAML reader types them (YAML
/// 1.1: `yes` is true, `0x1F` is 31, quoted scalars stay strings).
///
/// Yams' `load` resolves the type of every plain scalar, mapping keys included, with a list of
/// regular expressions, and again to check keys for duplicates: most of a sweep's planning went
/// there. Read from libyaml's events (``ManifestYAMLEvents``), or composed with no type rules, only
/// the values that could be something other than a string (they start with a digit, a sign, a
/// dot or `~`, or are one of the words of booleans and nulls) are given to those rules. The
/// encoding is given: Yams' default reads the whole process environment on every parse.
package enum ManifestYAML {
    package struct Problem: Error {
        package var reason: String
    }

    /// Checks that `text` is one YAML document (no typing: cheaper than ``json(_:quantityKeys:)``).
    package static func check(_ text: String) throws {
        _ = try Yams.compose(yaml: text, .basic, .default, .utf8)
    }

    /// The document as JSON; nil for an empty one. Integers and decimals under `quantityKeys`
    /// (`cpu: 4` in `limits`) become strings, the form the typed objects keep quantities in.
    package static func json(_ text: String, quantityKeys: Set<String> = []) throws -> JSONValue? {
        do {
            return try ManifestYAMLEvents.json(text, quantityKeys: quantityKeys)
        } catch is ManifestYAMLEvents.Unsupported {
            return try jsonThroughNodes(text, quantityKeys: quantityKeys)
        }
    }

    /// ``json(_:quantityKeys:)`` through Yams' nodes: for what the events reader leaves, and the
    /// reference it is tested against.
    package static func jsonThroughNodes(_ text: String, quantityKeys: Set<String> = []) throws -> JSONValue? {
        guard let node = try Yams.compose(yaml: text, .basic, .default, .utf8) else { return nil }
        return try value(of: node, key: nil, quantityKeys: quantityKeys)
    }

    /// `key`: the mapping key `node` is the value of, if any.
    private static func value(of node: Node, key: String?, quantityKeys: Set<String>) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return try self.scalar(scalar)
        case .sequence(let sequence):
            return .array(try sequence.map { try value(of: $0, key: key, quantityKeys: quantityKeys) })
        case .mapping(let mapping):
            let quantities = key.map(quantityKeys.contains) ?? false
            var fields: [String: JSONValue] = [:]
            for (keyNode, item) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw Problem(reason: "a mapping key is not a scalar")
                }
                let name = keyScalar.string
                let converted = try value(of: item, key: name, quantityKeys: quantityKeys)
                fields[name] = quantities ? quantity(converted) : converted
            }
            return .object(fields)
        case .alias:
            throw Problem(reason: "aliases are not supported in manifests")
        }
    }

    /// A number under a quantity key, as the string a typed object keeps it in.
    static func quantity(_ value: JSONValue) -> JSONValue {
        switch value {
        case .integer(let integer): return .string(String(integer))
        case .number(let number): return .string(number.formatted(.number.grouping(.never)))
        default: return value
        }
    }

    private static let typedStarts = Set("0123456789+-.~")
    /// The words Yams' rules make something other than a string (booleans and nulls): a plain
    /// scalar starting with a letter is one of these or a string.
    private static let typedWords: Set<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
    ]

    /// A plain scalar without a tag, typed by Yams' rules.
    static func implicitScalar(_ text: String) throws -> JSONValue {
        guard let first = text.first else { return .null }
        guard typedStarts.contains(first) || typedWords.contains(text) else {
            return .string(text)
        }
        return try typed(text, tag: Resolver.default.resolveTag(of: .scalar(Node.Scalar(text))))
    }

    private static func scalar(_ scalar: Node.Scalar) throws -> JSONValue {
        let text = scalar.string
        switch Tag.Name(rawValue: scalar.tag.rawValue) {
        case .implicit: return try implicitScalar(text)
        case let explicit: return try typed(text, tag: explicit)
        }
    }

    private static func typed(_ text: String, tag: Tag.Name) throws -> JSONValue {
        let plain = Node.Scalar(text)
        switch tag {
        case .null: return .null
        case .bool: return Bool.construct(from: plain).map(JSONValue.bool) ?? .string(text)
        case .int:
            if let integer = Int.construct(from: plain) { return .integer(Int64(integer)) }
            return .string(text)
        case .float:
            guard let number = Double.construct(from: plain) else { return .string(text) }
            guard number.isFinite else { throw Problem(reason: "\(text) is not a JSON number") }
            return .number(number)
        case .timestamp:
            return Date.construct(from: plain).map { .string($0.formatted(.iso8601)) } ?? .string(text)
        default:
            return .string(text)
        }
    }
}
