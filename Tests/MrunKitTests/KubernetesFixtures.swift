import FakeKubernetes
import Foundation
import Testing

@testable import MrunKit

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
