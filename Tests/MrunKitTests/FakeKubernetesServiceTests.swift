import FakeKubernetes
import Foundation
import Testing

@testable import KubernetesAPI
@testable import MrunSupport

/// Services through the client against the fake: the defaults a v1.25 server fills in, and its
/// errors in the Status shape of the recorded ones (fixtures 04, 05, 47).
@Suite struct FakeKubernetesServiceTests {
    typealias K = Kubernetes

    static func service(_ name: String, headless: Bool = true) -> K.Service {
        K.Service(
            metadata: .init(name: name, labels: ["app.kubernetes.io/managed-by": "mrun"]),
            spec: .init(
                clusterIP: headless ? K.ServiceSpec.headlessClusterIP : nil, selector: ["job-name": name],
                ports: [.init(name: "rdzv", port: 29500)], publishNotReadyAddresses: true))
    }

    @Test func aHeadlessServiceIsCreatedWithTheServersDefaultsAndRoundTrips() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            let made = try await client.createService(Self.service("gang"), namespace: namespace)
            let spec = try #require(made.spec)
            #expect(spec.clusterIP == "None" && spec.clusterIPs == ["None"])
            #expect(spec.type == "ClusterIP" && spec.sessionAffinity == "None")
            #expect(spec.ipFamilies == ["IPv4"] && spec.ipFamilyPolicy == "SingleStack")
            #expect(spec.internalTrafficPolicy == "Cluster")
            #expect(spec.ports == [.init(name: "rdzv", protocol: "TCP", port: 29500, targetPort: .int(29500))])
            #expect(spec.selector == ["job-name": "gang"] && spec.publishNotReadyAddresses == true)
            #expect(made.status == K.ServiceStatus(loadBalancer: .init()))
            #expect(made.metadata.uid?.count == 36 && made.metadata.namespace == namespace)
            #expect(made.metadata.creationTimestamp.flatMap(Kubernetes.date(from:)) != nil)
            #expect(Int(made.metadata.resourceVersion ?? "") != nil)
            #expect(made.metadata.annotations?[KubernetesClient.requestIDAnnotation] != nil)
            #expect(made.kind == "Service" && made.apiVersion == "v1")
            let post = try #require(server.requests.last { $0.method == "POST" })
            #expect(post.path == "/api/v1/namespaces/\(namespace)/services" && post.status == 201)

            #expect(try await client.getService("gang", namespace: namespace) == made)
            let deleted = try await client.deleteService("gang", namespace: namespace)
            #expect(deleted?.metadata.uid == made.metadata.uid)
            #expect(deleted?.metadata.deletionTimestamp == nil, "the service registry returns it as stored")
            let gone = await thrownError(KubernetesError.self) {
                _ = try await client.getService("gang", namespace: namespace)
            }
            #expect(gone?.statusCode == 404)
        }
    }

    @Test func aServiceWithAVirtualIPGetsOneFromTheServiceRange() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let made = try await server.client().createService(
                Self.service("web", headless: false), namespace: namespace)
            let address = try #require(made.spec?.clusterIP)
            #expect(address.hasPrefix("10.43.") && address.split(separator: ".").count == 4)
            #expect(made.spec?.clusterIPs == [address])
        }
    }

    @Test func errorsHaveTheRecordedStatusShape() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createService(Self.service("gang"), namespace: namespace)

            let again = await thrownError(KubernetesError.self) {
                _ = try await client.createService(Self.service("gang"), namespace: namespace)
            }
            #expect(
                again?.status
                    == K.Status(
                        status: "Failure", message: "services \"gang\" already exists", reason: .alreadyExists,
                        details: .init(name: "gang", kind: "services"), code: 409))

            let missing = await thrownError(KubernetesError.self) {
                _ = try await client.getService("nope", namespace: namespace)
            }
            #expect(
                missing?.status
                    == K.Status(
                        status: "Failure", message: "services \"nope\" not found", reason: .notFound,
                        details: .init(name: "nope", kind: "services"), code: 404))
            let deleteMissing = await thrownError(KubernetesError.self) {
                try await client.deleteService("nope", namespace: namespace)
            }
            #expect(deleteMissing?.status == missing?.status)

            // A Service's name is a DNS-1035 label: a leading digit, fine for a Job, is refused.
            for name in ["Rank_0", "0rank"] {
                let invalid = await thrownError(KubernetesError.self) {
                    _ = try await client.createService(Self.service(name), namespace: namespace)
                }
                #expect(invalid?.statusCode == 422)
                #expect(invalid?.status?.reason == .invalid)
                #expect(invalid?.status?.details?.kind == "Service" && invalid?.status?.details?.group == nil)
                let cause = invalid?.status?.details?.causes?.first
                #expect(cause?.field == "metadata.name" && cause?.reason == "FieldValueInvalid")
                #expect(
                    invalid?.status?.message
                        == "Service \"\(name)\" is invalid: metadata.name: Invalid value: \"\(name)\": a DNS-1035 label"
                        + " must consist of lower case alphanumeric characters or '-', start with an alphabetic"
                        + " character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex"
                        + " used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
            }
            #expect(await server.controller.all(K.Service.self, namespace: namespace).count == 1)
        }
    }

    @Test func onlyAHeadlessServiceMayHaveNoPorts() async throws {
        try await withFakeKubernetes { server in
            let namespace = try await server.makeNamespace()
            let client = try server.client()
            _ = try await client.createService(
                K.Service.headless(name: "bare", selector: ["a": "b"]), namespace: namespace)
            var proxied = Self.service("proxied", headless: false)
            proxied.spec?.ports = nil
            let refused = await thrownError(KubernetesError.self) {
                _ = try await client.createService(proxied, namespace: namespace)
            }
            #expect(
                refused?.status?.details?.causes == [
                    .init(reason: "FieldValueRequired", message: "Required value", field: "spec.ports")
                ])
            var twoPorts = Self.service("two")
            twoPorts.spec?.ports = [.init(name: "a", port: 1), .init(port: 70000)]
            let ports = await thrownError(KubernetesError.self) {
                _ = try await client.createService(twoPorts, namespace: namespace)
            }
            #expect(
                ports?.status?.details?.causes?.map(\.field) == ["spec.ports[1].name", "spec.ports[1].port"],
                "\(String(describing: ports?.status?.message))")
        }
    }
}
