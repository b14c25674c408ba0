import FakeKubernetes
import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunSupport

/// A launch's connection opened while it is planned: a warm-up's client and the launch's own
/// (another client of the same credentials) share one TLS connection to the fake server.
@Suite struct KubernetesWarmUpTests {
    @Test func theLaunchUsesTheConnectionTheWarmUpOpened() async throws {
        try await withFakeKubernetes { server in
            let http = KubernetesHTTPClient()
            let warming = KubernetesClient(connection: try server.connection(for: .certificate("alice")), http: http)
            await warming.warmUp()
            #expect(server.acceptedConnections == 1)
            #expect(server.requests.map(\.path) == ["/version"])

            let launching = KubernetesClient(
                connection: try server.connection(for: .certificate("alice")), http: http, options: .fast())
            let namespace = try await launching.create(Kubernetes.Namespace(metadata: .init(name: "warm")))
            #expect(namespace.metadata.name == "warm")
            #expect(server.acceptedConnections == 1, "the launch opened a connection of its own")

            // Other credentials never share it.
            let other = KubernetesClient(
                connection: try server.connection(for: .certificate("bob")), http: http, options: .fast())
            _ = try? await other.version()
            #expect(server.acceptedConnections == 2)
            try await http.shutdown()
        }
    }

    @Test func aWarmUpFailsQuietlyAndAnExecPluginIsNotRunForIt() async throws {
        let unreachable = ClusterConnection(
            server: try #require(URL(string: "https://127.0.0.1:9")), contextName: "nowhere")
        let http = KubernetesHTTPClient()
        await KubernetesClient(connection: unreachable, http: http).warmUp()

        try await withFakeKubernetes { server in
            let plugin = try server.connection(for: .exec(command: "/bin/false", arguments: []))
            await KubernetesClient(connection: plugin, http: http).warmUp()
            #expect(server.requests.isEmpty && server.acceptedConnections == 0)
        }
        try await http.shutdown()
    }

    @Test func onlyContextsWithAClusterWarmUp() {
        #expect(Backends.entries[.kubernetes]?.warmUp != nil)
        for type in [ContextType.local, .slurm, .ssh] {
            #expect(Backends.entries[type]?.warmUp == nil, "\(type)")
        }
    }
}
