import Foundation
import Testing

@testable import MrunKit

/// Test helpers on the library's JSON value (compared structurally: key order never matters).
extension JSONValue {
    init(json data: Data) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The JSON a value encodes to, the way mrun would send it.
    init(encoding value: some Encodable) throws {
        try self.init(json: try Kubernetes.encode(value))
    }

    func data() throws -> Data { try JSONEncoder().encode(self) }

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Where `self` says something `original` does not: a member `original` lacks or holds
    /// differently. Members `original` has beyond `self` are allowed (fields not modelled); an
    /// explicit `null` there counts as absent.
    func firstDeviation(from original: JSONValue, at path: String = "") -> String? {
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
    func removing(path: String) -> JSONValue {
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

/// One recorded exchange with kube-apiserver v1.25 (see the fixtures' README.md).
struct Fixture: Decodable, Sendable {
    struct Request: Decodable, Sendable {
        var method: String
        var path: String
        var query: [String: String]
        var headers: [String: String]
        var body: JSONValue?
    }

    struct Response: Decodable, Sendable {
        var status: Int
        var headers: [String: JSONValue]
        var body: JSONValue
    }

    var request: Request
    var response: Response
    /// The file name, e.g. `56-get-job-complete.json`.
    var name: String = ""

    enum CodingKeys: String, CodingKey { case request, response }

    var number: String { String(name.prefix(2)) }

    var requestInfo: Kubernetes.RequestInfo? {
        Kubernetes.RequestInfo(method: request.method, path: request.path, query: request.query)
    }

    /// The `Warning` headers, always recorded as a list.
    var warnings: [String] {
        guard case .array(let values) = response.headers["Warning"] else { return [] }
        return values.compactMap(\.string)
    }

    /// A text body (logs, watch streams, the empty 204).
    var text: String? { response.body.string }

    func body<Value: Decodable>(as type: Value.Type) throws -> Value {
        try Kubernetes.decode(type, from: try response.body.data())
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

enum Fixtures {
    static let count = 75

    /// `MRUN_K8S_FIXTURES`, else `../shared/k8s-fixtures` beside the worktree. A missing folder
    /// fails the tests that need it: skipping would hide that nothing was checked.
    static func directory() throws -> URL {
        if let override = ProcessInfo.processInfo.environment["MRUN_K8S_FIXTURES"], !override.isEmpty {
            return try existing(URL(fileURLWithPath: override), source: "MRUN_K8S_FIXTURES")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let directory = root.appendingPathComponent("../shared/k8s-fixtures").standardizedFileURL
        return try existing(directory, source: "the worktree's ../shared/k8s-fixtures")
    }

    private static func existing(_ directory: URL, source: String) throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw FixtureError(
                description: "the recorded Kubernetes fixtures are missing: \(directory.path) (from \(source)) is"
                    + " not a directory; set MRUN_K8S_FIXTURES to the folder of NN-*.json exchanges")
        }
        return directory
    }

    static func all() throws -> [Fixture] {
        let directory = try directory()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    /// The fixture whose file name starts with `number` (`"56"`).
    static func named(_ number: String) throws -> Fixture {
        let directory = try directory()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix(number + "-") && $0.hasSuffix(".json") }
        guard names.count == 1, let name = names.first else {
            throw FixtureError(
                description: "expected one fixture \(number)-*.json in \(directory.path), found \(names)")
        }
        return try load(directory.appendingPathComponent(name))
    }

    private static func load(_ url: URL) throws -> Fixture {
        do {
            var fixture = try JSONDecoder().decode(Fixture.self, from: try Data(contentsOf: url))
            fixture.name = url.lastPathComponent
            return fixture
        } catch {
            throw FixtureError(description: "\(url.lastPathComponent): \(error)")
        }
    }
}
