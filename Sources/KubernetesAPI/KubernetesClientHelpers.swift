import Foundation
import MrunSupport

/// What the backend does before submitting a Job: make sure the namespace, the storage claim and
/// the credentials Secret exist, whoever created them first.
extension KubernetesClient {
    /// Creates the namespace unless it exists. Users often may not create namespaces (403) yet
    /// have one made for them, so a refused create that finds the namespace present succeeds too.
    public func ensureNamespace(_ name: String, labels: [String: String] = [:]) async throws {
        let namespace = Kubernetes.Namespace(metadata: .init(name: name, labels: labels.isEmpty ? nil : labels))
        do {
            _ = try await create(namespace)
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            return
        } catch let error as KubernetesError where error.statusCode == 403 {
            guard (try? await get(Kubernetes.Namespace.self, name: name)) != nil else { throw error }
        }
    }

    /// Creates the claim unless one of that name exists, and returns the stored one. An existing
    /// claim is kept as it is: its size cannot shrink and its data must survive. Read first: every
    /// launch of a project but its first finds it, in one round trip.
    public func ensurePersistentVolumeClaim(
        _ claim: Kubernetes.PersistentVolumeClaim, namespace: String
    ) async throws -> Kubernetes.PersistentVolumeClaim {
        if let name = claim.metadata.name {
            do {
                return try await get(Kubernetes.PersistentVolumeClaim.self, name: name, namespace: namespace)
            } catch let error as KubernetesError where error.statusCode == 404 || error.statusCode == 403 {
                // Missing, or not readable by this user: the create says which.
            }
        }
        do {
            return try await create(claim, namespace: namespace)
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            guard let name = claim.metadata.name else { throw error }
            return try await get(Kubernetes.PersistentVolumeClaim.self, name: name, namespace: namespace)
        }
    }

    /// Creates the Secret, or replaces the stored one with it: the Neptune token may have changed
    /// since the last run. Replaced first, unconditionally (as the last writer wins either way):
    /// every launch of a project but its first finds it, in one round trip. A concurrent change
    /// (409 Conflict) is retried from a fresh read.
    public func applySecret(_ secret: Kubernetes.Secret, namespace: String) async throws -> Kubernetes.Secret {
        if secret.metadata.name != nil {
            var unconditional = secret
            unconditional.metadata.resourceVersion = nil
            do {
                return try await replace(unconditional, namespace: namespace)
            } catch let error as KubernetesError where error.statusCode == 404 || error.statusCode == 403 {
                // Missing, or not to be replaced by this user: the create says which.
            }
        }
        do {
            return try await create(secret, namespace: namespace)
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            guard let name = secret.metadata.name else { throw error }
            var lastConflict = error
            for _ in 0..<options.maxAttempts {
                let stored = try await get(Kubernetes.Secret.self, name: name, namespace: namespace)
                var replacement = secret
                replacement.metadata.resourceVersion = stored.metadata.resourceVersion
                do {
                    return try await replace(replacement, namespace: namespace)
                } catch let conflict as KubernetesError where conflict.statusCode == 409 {
                    lastConflict = conflict
                }
            }
            throw lastConflict
        }
    }
}
