import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// The cluster side of a launch before its Jobs: the connection from the kubeconfig, then the
/// namespace, the storage claim and the credentials Secret the Jobs use.
struct KubernetesSetup {
    var client: KubernetesClient
    var sink: any OutputSink

    /// A client for the kubeconfig context `kubeContext` (nil: the current one), found like kubectl
    /// finds it. A context that skips TLS verification is announced loudly on standard error.
    static func connect(
        kubeContext: String?, host: HostEnvironment, http: KubernetesHTTPClient, options: KubernetesClient.Options,
        sink: any OutputSink, warn: @escaping @Sendable (String) -> Void
    ) async throws -> KubernetesClient {
        let connection = try KubeconfigLoader(host: host).resolve(contextName: kubeContext)
        if let warning = connection.securityWarning {
            let rule = String(repeating: "!", count: 72)
            await sink.standardError(Array("\(rule)\nmrun: \(warning)\n\(rule)\n".utf8))
        }
        var options = options
        if options.warningHandler == nil {
            options.warningHandler = { warning in warn("the Kubernetes API server warns: \(warning)") }
        }
        return KubernetesClient(connection: connection, http: http, options: options)
    }

    /// Makes sure the namespace, the claim and (with secrets) the Secret of `plan` exist, the
    /// Secret holding the current values. Returns what exists now, for error messages; a failure
    /// part-way throws ``KubernetesBackendError/incomplete(cause:present:)`` naming what does.
    ///
    /// The three go to the server together: every launch of a project but its first finds the
    /// namespace there, and then the setup takes the longest of the three (the Secret's create,
    /// read and replace) instead of their sum. An object that arrived before its new namespace
    /// existed (404) is sent again once it does.
    func prepare(_ plan: ExperimentPlan, target: KubernetesTarget) async throws -> [String] {
        let namespace = target.namespace
        var present: [String] = []
        do {
            let claim = try plan.artefact(.persistentVolumeClaim).map {
                try KubernetesManifests.object(Kubernetes.PersistentVolumeClaim.self, from: $0).object
            }
            let secret = try KubernetesManifests.revealedSecret(of: plan)
            let client = self.client
            async let claimFirst = Self.attempt(claim) {
                try await client.ensurePersistentVolumeClaim($0, namespace: namespace)
            }
            async let secretFirst = Self.attempt(secret) { try await client.applySecret($0, namespace: namespace) }
            let unverified = try await ensureNamespace(plan, name: namespace)
            if unverified == nil { present.append("namespace \"\(namespace)\"") }
            if let claim {
                do {
                    try await Self.settle(claimFirst) {
                        _ = try await client.ensurePersistentVolumeClaim(claim, namespace: namespace)
                    }
                } catch let error as KubernetesError where error.statusCode == 404 && unverified != nil {
                    throw KubernetesBackendError.namespaceUnavailable(
                        namespace: namespace, createError: unverified?.description ?? "")
                }
                if unverified != nil { present.append("namespace \"\(namespace)\"") }
                present.append("PersistentVolumeClaim \"\(claim.metadata.name ?? target.claimName)\"")
            }
            if let secret {
                try await Self.settle(secretFirst) { _ = try await client.applySecret(secret, namespace: namespace) }
                let keys = plan.secrets.map(\.name).joined(separator: ", ")
                await note("mrun: Secret \(secret.metadata.name ?? target.secretName) holds \(keys) for the Job")
                present.append("Secret \"\(secret.metadata.name ?? target.secretName)\"")
            }
        } catch {
            throw Self.incomplete(error, present: present)
        }
        return present
    }

    /// How the first try at an object in the namespace went.
    private enum FirstTry: Sendable {
        case done
        /// Answered 404: perhaps the namespace did not exist yet.
        case notFound(KubernetesError)
        case failed(any Error)
    }

    private static func attempt<Object: Sendable, Answer: Sendable>(
        _ object: Object?, _ send: @Sendable (Object) async throws -> Answer
    ) async -> FirstTry {
        guard let object else { return .done }
        do {
            _ = try await send(object)
            return .done
        } catch let error as KubernetesError where error.statusCode == 404 {
            return .notFound(error)
        } catch {
            return .failed(error)
        }
    }

    /// After the namespace is there: the first try's error, or a second try after a 404.
    private static func settle(_ first: FirstTry, again: () async throws -> Void) async throws {
        switch first {
        case .done: return
        case .failed(let error): throw error
        case .notFound: try await again()
        }
    }

    /// Creates the namespace unless it exists. Returns nil when it surely exists now, or the 403
    /// of a user who may neither create nor read namespaces: it may exist all the same, which the
    /// next request into it tells.
    private func ensureNamespace(_ plan: ExperimentPlan, name: String) async throws -> KubernetesError? {
        var namespace = Kubernetes.Namespace(metadata: .init(name: name))
        if let artefact = plan.artefact(.namespace) {
            namespace = try KubernetesManifests.object(Kubernetes.Namespace.self, from: artefact).object
        }
        do {
            _ = try await client.create(namespace)
            await note("mrun: created namespace \(name)")
            return nil
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            return nil
        } catch let refused as KubernetesError where refused.statusCode == 403 {
            do {
                _ = try await client.get(Kubernetes.Namespace.self, name: name)
                return nil
            } catch let error as KubernetesError where error.statusCode == 404 {
                throw KubernetesBackendError.namespaceUnavailable(namespace: name, createError: refused.description)
            } catch let error as KubernetesError where error.statusCode == 403 {
                return refused
            }
        }
    }

    /// `error` with what exists now, unless nothing does.
    static func incomplete(_ error: any Error, present: [String]) -> any Error {
        if present.isEmpty { return error }
        if case .incomplete? = error as? KubernetesBackendError { return error }
        return KubernetesBackendError.incomplete(cause: "\(error)", present: present)
    }

    private func note(_ text: String) async {
        await sink.standardError(Array((text + "\n").utf8))
    }
}
