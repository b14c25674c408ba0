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

/// Many creates at once over the pooled connections, as a sweep submits its experiments.
@Suite struct KubernetesClientLoadTests {
    static let jobs = 200
    static let inFlight = 32

    @Test func twoHundredJobsAreCreatedWithBoundedConcurrency() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client(options: .fast(timeout: .seconds(30)))
            _ = try await client.version()  // the TLS handshake of the first connection is not measured
            let clock = ContinuousClock()
            let started = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<Self.jobs {
                    if index >= Self.inFlight { try await group.next() }
                    group.addTask { _ = try await client.createJob(Sample.job("exp-\(index)"), namespace: namespace) }
                }
                try await group.waitForAll()
            }
            let elapsed = clock.now - started
            let stored = await server.controller.all(Kubernetes.Job.self, namespace: namespace)
            #expect(stored.count == Self.jobs)
            #expect(Set(stored.compactMap(\.metadata.name)).count == Self.jobs)
            let perSecond = Double(Self.jobs) / elapsed.seconds
            print(
                "KubernetesClientLoad: \(Self.jobs) Jobs created, \(Self.inFlight) in flight, in"
                    + " \(String(format: "%.3f", elapsed.seconds)) s (\(Int(perSecond)) creates/s) over"
                    + " \(server.acceptedConnections) TLS connections")
            #expect(server.acceptedConnections <= Self.inFlight + 1)
            // Generous: a loaded 2-core CI machine still does this in a few seconds.
            #expect(elapsed < .seconds(60))
        }
    }
}
