import Foundation
import NIOSSL
import Synchronization
import X509

import KubernetesAPI
import MrunSupport

package struct FakeIdentity: Sendable, Equatable {
    package var user: String
    package var groups: [String] = []

    package static let anonymous = FakeIdentity(user: "system:anonymous", groups: ["system:unauthenticated"])

    package init(user: String, groups: [String] = []) {
        self.user = user
        self.groups = groups
    }
}

/// What a connection's TLS client certificate proved. kube-apiserver requests a certificate but
/// does not fail the handshake over a bad one: the request is then answered 401.
package enum FakeCertificateIdentity: Sendable, Equatable {
    case none
    case valid(FakeIdentity)
    case invalid(reason: String)
}

package final class FakeConnectionState: Sendable {
    package let certificate = Mutex<FakeCertificateIdentity>(.none)
}

/// One RBAC allow rule; nil means any.
package struct FakeRBACRule: Sendable {
    package var verbs: Set<String>?
    package var resources: Set<String>?
    /// nil: every namespace and the cluster scope.
    package var namespaces: Set<String>?

    package static let everything = FakeRBACRule()

    package func allows(_ request: Kubernetes.RequestInfo) -> Bool {
        let resource = request.subresource.map { "\(request.resource)/\($0)" } ?? request.resource
        guard verbs?.contains(request.verb.rawValue) ?? true, resources?.contains(resource) ?? true else {
            return false
        }
        guard let namespaces else { return true }
        return request.namespace.map(namespaces.contains) ?? false
    }

    package init(verbs: Set<String>? = nil, resources: Set<String>? = nil, namespaces: Set<String>? = nil) {
        self.verbs = verbs
        self.resources = resources
        self.namespaces = namespaces
    }
}

/// Tokens and RBAC rules. Users: `alice` (certificate, system:masters), `bob` and `carol`
/// (certificates, mrun-users); tokens `admin-token` (admin, system:masters) and `nobody-token`
/// (mrun-nobody, no rights at all). Groups `system:masters` and `mrun-users` may do everything.
package final class FakeAuthorizer: Sendable {
    private let tokens = Mutex<[String: FakeIdentity]>([
        "admin-token": FakeIdentity(user: "admin", groups: ["system:masters"]),
        "nobody-token": FakeIdentity(user: "mrun-nobody", groups: []),
    ])
    /// Keyed `user:NAME` or `group:NAME`.
    private let rules = Mutex<[String: [FakeRBACRule]]>([
        "group:system:masters": [.everything],
        "group:mrun-users": [.everything],
    ])

    package func addToken(_ token: String, for identity: FakeIdentity) {
        tokens.withLock { $0[token] = identity }
    }

    package func removeToken(_ token: String) {
        tokens.withLock { $0[token] = nil }
    }

    package func allow(user: String, _ rule: FakeRBACRule) {
        rules.withLock { $0["user:\(user)", default: []].append(rule) }
    }

    /// Takes every rule away from the group, e.g. to make certificate users powerless.
    package func revoke(group: String) {
        rules.withLock { $0["group:\(group)"] = nil }
    }

    /// As kube-apiserver's union authenticator: a valid certificate or token wins; an invalid one
    /// of either is 401; nothing at all is the anonymous user.
    package func authenticate(certificate: FakeCertificateIdentity, authorization: String?) throws(FakeAPIError)
        -> FakeIdentity
    {
        if case .valid(let identity) = certificate { return identity }
        if let authorization {
            guard authorization.hasPrefix("Bearer "),
                let identity = tokens.withLock({ $0[String(authorization.dropFirst(7))] })
            else { throw .unauthorized }
            return identity
        }
        if case .invalid = certificate { throw .unauthorized }
        return .anonymous
    }

    package func authorize(_ identity: FakeIdentity, _ request: Kubernetes.RequestInfo) throws(FakeAPIError) {
        let subjects = ["user:\(identity.user)"] + identity.groups.map { "group:\($0)" }
        let allowed = rules.withLock { rules in
            subjects.contains { subject in (rules[subject] ?? []).contains { $0.allows(request) } }
        }
        if !allowed { throw .forbidden(user: identity.user, request: request) }
    }

    /// Checks a presented chain against the cluster CA with RFC 5280 rules (signature, validity);
    /// the leaf's CN names the user and each O a group.
    package static func verify(_ chain: [NIOSSLCertificate], authority: Certificate) async -> FakeCertificateIdentity {
        guard let leafBytes = try? chain.first?.toDERBytes(), let leaf = try? Certificate(derEncoded: leafBytes) else {
            return .invalid(reason: "unparsable certificate")
        }
        let intermediates = chain.dropFirst().compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        var verifier = Verifier(rootCertificates: CertificateStore([authority])) {
            RFC5280Policy()
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates))
        guard case .validCertificate = result else {
            return .invalid(reason: "x509: certificate signed by unknown authority or expired")
        }
        var user: String?
        var groups: [String] = []
        for attribute in leaf.subject.flatMap({ $0 }) {
            if attribute.type == .RDNAttributeType.commonName { user = attribute.value.description }
            if attribute.type == .RDNAttributeType.organizationName { groups.append(attribute.value.description) }
        }
        guard let user else { return .invalid(reason: "no common name") }
        return .valid(FakeIdentity(user: user, groups: groups))
    }
}
