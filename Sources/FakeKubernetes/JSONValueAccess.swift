import Foundation
import KubernetesAPI
import MrunSupport

/// Test helpers on the library's JSON value (compared structurally: key order never matters).
extension JSONValue {
    package init(json data: Data) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The JSON a value encodes to, the way mrun would send it.
    package init(encoding value: some Encodable) throws {
        try self.init(json: try Kubernetes.encode(value))
    }

    package func data() throws -> Data { try JSONEncoder().encode(self) }

    package subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// Where `self` says something `original` does not: a member `original` lacks or holds
    /// differently. Members `original` has beyond `self` are allowed (fields not modelled); an
    /// explicit `null` there counts as absent.
    package func firstDeviation(from original: JSONValue, at path: String = "") -> String? {
        switch (self, original) {
        case (.object(let mine), .object(let theirs)):
            for (key, value) in mine.sorted(by: { $0.key < $1.key }) {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let other = theirs[key], other != .null else { return "\(childPath) is not in the original" }
                if let deviation = value.firstDeviation(from: other, at: childPath) { return deviation }
            }
            return nil
        case (.array(let mine), .array(let theirs)):
            guard mine.count == theirs.count else { return "\(path) has \(mine.count) items, not \(theirs.count)" }
            for (index, pair) in zip(mine, theirs).enumerated() {
                if let deviation = pair.0.firstDeviation(from: pair.1, at: "\(path)[\(index)]") { return deviation }
            }
            return nil
        default:
            return self == original ? nil : "\(path) is \(self), not \(original)"
        }
    }

    /// Drops the member at a path as the API server names it: `spec.template.spec.containers[0].gpuCount`.
    package func removing(path: String) -> JSONValue {
        var steps: [Substring] = []
        for part in path.split(separator: ".") {
            let pieces = part.split(separator: "[")
            steps += pieces.prefix(1) + pieces.dropFirst().map { $0.dropLast() }
        }
        return removing(steps[...])
    }

    private func removing(_ steps: ArraySlice<Substring>) -> JSONValue {
        guard let step = steps.first else { return self }
        switch self {
        case .object(var members):
            let key = String(step)
            if steps.count == 1 {
                members[key] = nil
            } else if let child = members[key] {
                members[key] = child.removing(steps.dropFirst())
            }
            return .object(members)
        case .array(var items):
            if let index = Int(step), items.indices.contains(index) {
                items[index] = items[index].removing(steps.dropFirst())
            }
            return .array(items)
        default:
            return self
        }
    }
}
