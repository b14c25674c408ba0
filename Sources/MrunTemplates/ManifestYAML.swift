import Foundation
import Yams
import MrunSupport

/// Rendered manifests read as JSON values, the way Kubernetes' own YAML reader types them (YAML
/// 1.1: `yes` is true, `0x1F` is 31, quoted scalars stay strings).
///
/// Yams' `load` resolves the type of every plain scalar, mapping keys included, with a list of
/// regular expressions, and again to check keys for duplicates: most of a sweep's planning went
/// there. Composed with no type rules, only the values that could be something other than a
/// string (they start with a digit, a sign, a dot, `~`, or a letter of `yes`, `no`, `on`, `off`,
/// `true`, `false`, `null`) are given to those rules. The encoding is given: Yams' default reads
/// the whole process environment on every parse.
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
                switch (quantities, converted) {
                case (true, .integer(let integer)): fields[name] = .string(String(integer))
                case (true, .number(let number)): fields[name] = .string(number.formatted(.number.grouping(.never)))
                default: fields[name] = converted
                }
            }
            return .object(fields)
        case .alias:
            throw Problem(reason: "aliases are not supported in manifests")
        }
    }

    private static let typedStarts = Set("0123456789+-.~yYnNoOtTfF")

    private static func scalar(_ scalar: Node.Scalar) throws -> JSONValue {
        let text = scalar.string
        let tag: Tag.Name
        switch Tag.Name(rawValue: scalar.tag.rawValue) {
        case .implicit:
            guard text.isEmpty || typedStarts.contains(text.first ?? " ") else { return .string(text) }
            tag = Resolver.default.resolveTag(of: .scalar(Node.Scalar(text)))
        case let explicit:
            tag = explicit
        }
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
