import FakeKubernetes
import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

enum Fixtures {
    static let count = 75

    /// `Fixtures/k8s` in the test bundle (copied from the test target's folder at build time). A
    /// missing folder fails the tests that need it: skipping would hide that nothing was checked.
    static func directory() throws -> URL {
        guard let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw FixtureError(
                description: "the test bundle has no Fixtures folder (\(Bundle.module.bundlePath));"
                    + " Package.swift must declare it as a resource of MrunKitTests")
        }
        let directory = fixtures.appendingPathComponent("k8s")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw FixtureError(
                description: "the recorded Kubernetes fixtures are missing: \(directory.path) is not a directory")
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
