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

/// `mrun-fake-apiserver`, the fake as a process of its own (what `make bench` runs kubectl, the
/// Python client and mrun against): it announces itself on one line, writes a private kubeconfig
/// that reaches it, serves the discovery documents clients need, delays writes as asked, and ends
/// when its input closes.
@Suite struct FakeAPIServerProcessTests {
    @Test func servesUntilItsInputClosesThroughAKubeconfigItWrote() async throws {
        let sandbox = try Sandbox()
        let kubeconfig = sandbox.root.appendingPathComponent("fake-kubeconfig")
        let process = Process()
        process.executableURL = try CLI.executable("mrun-fake-apiserver")
        process.arguments = ["--write-latency", "150", kubeconfig.path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let announced = try await Task.detached { try Self.firstLine(of: output.fileHandleForReading) }.value
        let words = announced.split(separator: " ").map(String.init)
        try #require(words.count == 2, "announcement: \(announced)")
        #expect(words[0].hasPrefix("https://127.0.0.1:"))
        #expect(words[1] == kubeconfig.path)
        let mode = try FileManager.default.attributesOfItem(atPath: kubeconfig.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let host = HostEnvironment(
            variables: ["KUBECONFIG": kubeconfig.path, "HOME": sandbox.home.path, "PATH": "/usr/bin:/bin"],
            homeDirectory: sandbox.home, currentDirectory: sandbox.root)
        let connection = try KubeconfigLoader(host: host).resolve(contextName: nil)
        #expect(connection.server.absoluteString == words[0])
        let client = KubernetesClient(connection: connection, http: TestEnvironment.http, options: .fast())
        _ = try await client.create(Kubernetes.Namespace(metadata: .init(name: "bench")))
        let started = ContinuousClock.now
        _ = try await client.createJob(Sample.job("one"), namespace: "bench")
        #expect(ContinuousClock.now - started >= .milliseconds(150), "a write answered before its latency")
        #expect(try await client.listJobs(namespace: "bench").items.map(\.metadata.name) == ["one"])

        let batch = try await client.exchange(.init(path: "/apis/batch/v1"), retry: .idempotent)
        #expect(batch.status == 200)
        let resources = try JSONValue(json: batch.body)["resources"]
        guard case .array(let items) = resources else {
            Issue.record("no resources in /apis/batch/v1: \(String(decoding: batch.body, as: UTF8.self))")
            return
        }
        #expect(items.compactMap { $0["name"]?.string } == ["jobs"])
        let core = try JSONValue(json: try await client.exchange(.init(path: "/api/v1"), retry: .idempotent).body)
        guard case .array(let coreItems) = core["resources"] else {
            Issue.record("no resources in /api/v1")
            return
        }
        #expect(
            Set(coreItems.compactMap { $0["name"]?.string })
                == ["namespaces", "persistentvolumeclaims", "pods", "pods/log", "secrets"])
        let groups = try JSONValue(json: try await client.exchange(.init(path: "/apis"), retry: .idempotent).body)
        #expect(groups["kind"]?.string == "APIGroupList")

        // What the client did, as the process counted it: HTTP/2, one connection.
        try input.fileHandleForWriting.write(contentsOf: Data("traffic\n".utf8))
        let line = try await Task.detached { try Self.firstLine(of: output.fileHandleForReading) }.value
        let traffic = try JSONValue(json: Data(line.utf8))
        #expect(traffic["http2Connections"] == .integer(1), "\(line)")
        #expect(traffic["http1Connections"] == .integer(0), "\(line)")
        #expect(traffic["requests"] == .integer(6), "\(line)")

        try input.fileHandleForWriting.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!process.isRunning, "still serving 10 s after its input closed")
        #expect(process.terminationStatus == 0)
    }

    @Test func withoutAKubeconfigPathItPrintsItsUsage() async throws {
        let process = Process()
        process.executableURL = try CLI.executable("mrun-fake-apiserver")
        let error = Pipe()
        process.standardError = error
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(text.hasPrefix("mrun-fake-apiserver: usage: mrun-fake-apiserver [--write-latency MS] KUBECONFIG"))
        #expect(text.split(separator: "\n").count == 1)
    }

    @Test func aLatencyThatIsNotMillisecondsIsAUsageError() async throws {
        let process = Process()
        process.executableURL = try CLI.executable("mrun-fake-apiserver")
        process.arguments = ["--write-latency", "soon", "kubeconfig"]
        let error = Pipe()
        process.standardError = error
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(text.hasPrefix("mrun-fake-apiserver: --write-latency takes milliseconds (e.g. 3 or 2.5)"))
    }

    /// Reads up to the first newline; the server writes it once it listens.
    private static func firstLine(of handle: FileHandle) throws -> String {
        var data = Data()
        while !data.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { throw FixtureError(description: "mrun-fake-apiserver ended before announcing itself") }
            data.append(chunk)
        }
        return String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }
}
