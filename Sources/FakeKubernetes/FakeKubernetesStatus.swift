import Foundation

import KubernetesAPI
import MrunSupport

/// An error answer of the fake, with the Status object kube-apiserver v1.25 sends (see the
/// fixtures' README): `details.kind` is the plural resource for NotFound/AlreadyExists/Conflict,
/// the Kind for Invalid, and absent for 400/401.
package struct FakeAPIError: Error, Sendable {
    package var status: Kubernetes.Status

    package var code: Int { status.code ?? 500 }

    package init(code: Int, reason: Kubernetes.StatusReason, message: String, details: Kubernetes.StatusDetails? = nil)
    {
        status = Kubernetes.Status(status: "Failure", message: message, reason: reason, details: details, code: code)
    }

    /// `jobs.batch`, `secrets`: how messages name a resource.
    package static func qualified(_ resource: String, group: String) -> String {
        group.isEmpty ? resource : "\(resource).\(group)"
    }

    package static func notFound(resource: String, group: String, name: String) -> FakeAPIError {
        FakeAPIError(
            code: 404, reason: .notFound, message: "\(qualified(resource, group: group)) \"\(name)\" not found",
            details: .init(name: name, group: group.isEmpty ? nil : group, kind: resource))
    }

    package static func namespaceNotFound(_ namespace: String) -> FakeAPIError {
        notFound(resource: "namespaces", group: "", name: namespace)
    }

    package static func alreadyExists(resource: String, group: String, name: String) -> FakeAPIError {
        FakeAPIError(
            code: 409, reason: .alreadyExists,
            message: "\(qualified(resource, group: group)) \"\(name)\" already exists",
            details: .init(name: name, group: group.isEmpty ? nil : group, kind: resource))
    }

    package static func conflict(resource: String, group: String, name: String) -> FakeAPIError {
        FakeAPIError(
            code: 409, reason: .conflict,
            message: "Operation cannot be fulfilled on \(qualified(resource, group: group)) \"\(name)\": the object"
                + " has been modified; please apply your changes to the latest version and try again",
            details: .init(name: name, group: group.isEmpty ? nil : group, kind: resource))
    }

    /// `Job.batch "x" is invalid: field: message`, or `[a, b]` for several causes.
    package static func invalid(kind: String, group: String, name: String, causes: [Kubernetes.StatusCause])
        -> FakeAPIError
    {
        let problems = causes.map { "\($0.field ?? ""): \($0.message ?? "")" }
        let listed = problems.count == 1 ? problems[0] : "[" + problems.joined(separator: ", ") + "]"
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        return FakeAPIError(
            code: 422, reason: .invalid, message: "\(qualifiedKind) \"\(name)\" is invalid: \(listed)",
            details: .init(name: name, group: group.isEmpty ? nil : group, kind: kind, causes: causes))
    }

    package static func badRequest(_ message: String) -> FakeAPIError {
        FakeAPIError(code: 400, reason: .badRequest, message: message)
    }

    package static let unauthorized = FakeAPIError(code: 401, reason: .unauthorized, message: "Unauthorized")

    package static func forbidden(user: String, request: Kubernetes.RequestInfo) -> FakeAPIError {
        let resource = request.subresource.map { "\(request.resource)/\($0)" } ?? request.resource
        let subject =
            request.name.map { "\(qualified(resource, group: request.group)) \"\($0)\"" }
            ?? qualified(resource, group: request.group)
        let scope = request.namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        return FakeAPIError(
            code: 403, reason: .forbidden,
            message: "\(subject) is forbidden: User \"\(user)\" cannot \(request.verb.rawValue) resource"
                + " \"\(resource)\" in API group \"\(request.group)\" \(scope)",
            details: .init(name: request.name, group: request.group.isEmpty ? nil : request.group, kind: resource))
    }

    /// In a watch stream: `ERROR` with code 410, though the HTTP status was 200.
    package static func expired(requested: Int, oldest: Int) -> FakeAPIError {
        FakeAPIError(code: 410, reason: .expired, message: "too old resource version: \(requested) (\(oldest))")
    }

    package static func internalError(_ message: String) -> FakeAPIError {
        FakeAPIError(code: 500, reason: .internalError, message: message)
    }
}
