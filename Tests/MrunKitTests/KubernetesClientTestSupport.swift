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

/// Runs `body` against a started ``FakeKubernetesServer`` and stops it afterwards, also on failure.
func withFakeKubernetes<Result>(
    certificate: FakeKubernetesServer.ServerCertificate = .standard,
    _ body: (FakeKubernetesServer) async throws -> Result
) async throws -> Result {
    let server = try await FakeKubernetesServer.started(certificate: certificate)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

extension KubernetesClient.Options {
    /// Short backoff so that retries take milliseconds in tests. The request timeout stays long
    /// enough that a loaded 2-core machine running the whole suite never times out a request the
    /// fake answers (a retry would add a request that tests counting them see); tests of timeouts
    /// give their own.
    static func fast(timeout: Duration = .seconds(30), attempts: Int = 4) -> Self {
        var options = Self()
        options.requestTimeout = timeout
        options.maxAttempts = attempts
        options.initialBackoff = .milliseconds(10)
        options.maxBackoff = .milliseconds(50)
        return options
    }
}

extension FakeKubernetesServer {
    /// A client as `user` (alice, the admin certificate, by default) with test-speed retries.
    func client(
        _ user: User = .certificate("alice"), authority: Authority = .cluster,
        options: KubernetesClient.Options = .fast()
    ) throws -> KubernetesClient {
        KubernetesClient(
            connection: try connection(for: user, authority: authority), http: TestEnvironment.http, options: options)
    }

    /// A namespace to work in, created directly in the store.
    @discardableResult
    func makeNamespace(_ name: String = "mrun-test") async throws -> String {
        _ = try await controller.create(Kubernetes.Namespace(metadata: .init(name: name)), namespace: nil)
        return name
    }
}

/// Objects as mrun's backend will build them, after the recorded requests.
enum Sample {
    static func job(_ name: String, backoffLimit: Int = 0) -> Kubernetes.Job {
        let labels = ["app.kubernetes.io/managed-by": "mrun", "mrun/experiment": name, "mrun/project": "lr-sweep"]
        let container = Kubernetes.Container(
            name: "main", image: "127.0.0.1:5000/proj/exp:abc123", command: ["python", "train.py"],
            args: ["--lr", "0.01"], workingDir: "/workspace",
            env: [
                .init(
                    name: "NEPTUNE_API_TOKEN",
                    valueFrom: .init(secretKeyRef: .init(name: "mrun-neptune", key: "NEPTUNE_API_TOKEN"))),
                .init(name: "MRUN_EXPERIMENT", value: name),
            ],
            resources: .init(limits: ["cpu": "2", "memory": "8Gi"], requests: ["cpu": "1500m", "memory": "4096Mi"]),
            volumeMounts: [.init(name: "storage", mountPath: "/storage")], imagePullPolicy: "IfNotPresent")
        let pod = Kubernetes.PodSpec(
            containers: [container],
            volumes: [.init(name: "storage", persistentVolumeClaim: .init(claimName: "mrun-storage"))],
            restartPolicy: "Never")
        return Kubernetes.Job(
            metadata: .init(name: name, labels: labels, annotations: ["mrun/command": "python train.py --lr 0.01"]),
            spec: .init(backoffLimit: backoffLimit, template: .init(metadata: .init(labels: labels), spec: pod)))
    }

    static func secret(token: String = "FAKE-neptune-token") -> Kubernetes.Secret {
        Kubernetes.Secret(
            metadata: .init(name: "mrun-neptune", labels: ["app.kubernetes.io/managed-by": "mrun"]), type: "Opaque",
            stringData: ["NEPTUNE_API_TOKEN": token, "NEPTUNE_PROJECT": "team/lr-sweep"])
    }

    static func claim(size: String = "40Gi") -> Kubernetes.PersistentVolumeClaim {
        Kubernetes.PersistentVolumeClaim(
            metadata: .init(name: "mrun-storage", labels: ["app.kubernetes.io/managed-by": "mrun"]),
            spec: .init(accessModes: ["ReadWriteOnce"], resources: .init(requests: ["storage": size])))
    }
}

/// The error `body` threw, as `type`; records an issue when it threw nothing or something else.
func thrownError<Failure: Error>(
    _ expected: Failure.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> Failure? {
    do {
        try await body()
        Issue.record("expected a \(Failure.self), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as Failure {
        return error
    } catch {
        Issue.record("expected a \(Failure.self), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Everything a stream yields, or the error that ended it along with what came before.
func collect<Element>(_ stream: AsyncThrowingStream<Element, any Error>) async -> ([Element], (any Error)?) {
    var elements: [Element] = []
    do {
        for try await element in stream { elements.append(element) }
        return (elements, nil)
    } catch {
        return (elements, error)
    }
}
