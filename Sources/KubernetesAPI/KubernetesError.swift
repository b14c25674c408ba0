import Foundation
import MrunSupport

/// A request the Kubernetes API server refused or failed, as one line that says what failed and
/// what to do about it. Built from the HTTP status, the Status object the server sends with every
/// error, and what mrun was asking for.
public struct KubernetesError: UserFacingError, Equatable {
    /// The HTTP status, or the Status's `code` for a watch `ERROR` event (which arrives with 200).
    public var statusCode: Int
    public var status: Kubernetes.Status?
    /// Nil for non-resource requests such as `/version`.
    public var request: Kubernetes.RequestInfo?
    /// What the client knows and the server did not say, e.g. that the client certificate it sent
    /// has expired; appended to the message.
    public var note: String?

    public init(statusCode: Int, status: Kubernetes.Status?, request: Kubernetes.RequestInfo?, note: String? = nil) {
        self.statusCode = statusCode
        self.status = status
        self.request = request
        self.note = note
    }

    /// From a watch `ERROR` event, whose Status carries the code.
    public init(status: Kubernetes.Status, request: Kubernetes.RequestInfo?) {
        self.init(statusCode: status.code ?? 500, status: status, request: request)
    }

    /// From a raw response body: a Status when it is one, else its first line as the message,
    /// since proxies in front of the API server answer with text or HTML.
    public init(statusCode: Int, body: Data, request: Kubernetes.RequestInfo?) {
        if let status = try? Kubernetes.decode(Kubernetes.Status.self, from: body), status.kind == "Status" {
            self.init(statusCode: statusCode, status: status, request: request)
            return
        }
        let text = String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline).first
        let message = text.map { String($0.trimmingCharacters(in: .whitespaces).prefix(200)) }
        self.init(
            statusCode: statusCode, status: message.map { Kubernetes.Status(status: "Failure", message: $0) },
            request: request)
    }

    public var reason: Kubernetes.StatusReason {
        status?.reason ?? .forHTTPStatus(statusCode)
    }

    /// Worth repeating unchanged: the server failed or asked to slow down.
    public var isRetryable: Bool {
        statusCode >= 500 || statusCode == 429
    }

    public var description: String {
        note.map { message + "; " + $0 } ?? message
    }

    private var message: String {
        switch statusCode {
        case 401: return unauthorized
        case 403: return forbidden
        case 404: return notFound
        case 409: return reason == .alreadyExists ? alreadyExists : conflict
        case 410: return expired
        case 422: return invalid
        case 400: return "bad request to \(action) (\(codeAndReason)): \(serverMessage)"
        case 429:
            return "the Kubernetes API server is throttling requests (\(codeAndReason)) to \(action);"
                + " mrun retries these, so try again later if it persists"
        case 500...:
            return "the Kubernetes API server failed to \(action) (\(codeAndReason): \(serverMessage));"
                + " such errors are retried, so the cluster's control plane is likely overloaded or down"
        default:
            return "could not \(action) (\(codeAndReason)): \(serverMessage)"
        }
    }

    // MARK: - Messages by status

    private var unauthorized: String {
        "the Kubernetes API server rejected the credentials (\(codeAndReason)); check the user of the"
            + " kubeconfig context: its token may be expired or wrong, or its client certificate not trusted"
    }

    private var forbidden: String {
        let denial = Denial(message: status?.message ?? "")
        let verb = denial?.verb ?? request?.verb.rawValue ?? "access"
        let resource = denial?.resource ?? resourcePath
        let group = denial?.group ?? request?.group ?? ""
        // A parsed denial without a namespace was at the cluster scope, whatever was asked.
        let namespace = denial.map(\.namespace) ?? request?.namespace
        let scope = namespace.map { " in namespace \(quoted($0))" } ?? ""
        let what = "\(verb) \(resource)\(scope)"
        guard let user = denial?.user else {
            return "not allowed to \(what) (\(codeAndReason)): \(serverMessage); a cluster admin must grant it"
        }
        if user == "system:anonymous" {
            return "the Kubernetes API server received no credentials, and \"system:anonymous\" may not"
                + " \(what) (\(codeAndReason)); give the kubeconfig context a user with a token or client"
                + " certificate"
        }
        let rule = "{apiGroups: [\(quoted(group))], resources: [\(quoted(resource))], verbs: [\(quoted(verb))]}"
        let grant =
            namespace.map { "a Role in namespace \(quoted($0)) with the rule \(rule) and a RoleBinding" }
            ?? "a ClusterRole with the rule \(rule) and a ClusterRoleBinding"
        return "user \(quoted(user)) may not \(what) (\(codeAndReason)); a cluster admin must grant it,"
            + " e.g. \(grant) of it to \(quoted(user))"
    }

    private var notFound: String {
        let details = status?.details
        if details?.kind == Kubernetes.Namespace.resource, request?.resource != Kubernetes.Namespace.resource,
            let namespace = details?.name ?? request?.namespace
        {
            return "namespace \(quoted(namespace)) does not exist (\(codeAndReason)); create it with"
                + " 'kubectl create namespace \(namespace)' or choose another with the context's 'namespace' key"
        }
        guard let name = details?.name ?? request?.name else {
            return "could not \(action) (\(codeAndReason)): \(serverMessage)"
        }
        let kind = Self.kindName(forResource: details?.kind ?? request?.resource ?? "object")
        let afterDelete = request?.verb == .delete ? "; it may have been deleted already" : ""
        return "\(kind) \(quoted(name)) does not exist\(namespaceSuffix) (\(codeAndReason))\(afterDelete)"
    }

    private var alreadyExists: String {
        let kind = Self.kindName(forResource: status?.details?.kind ?? request?.resource ?? "object")
        let name = status?.details?.name ?? request?.name ?? "?"
        return "\(kind) \(quoted(name)) already exists\(namespaceSuffix) (\(codeAndReason));"
            + " choose another name or delete it first"
    }

    private var conflict: String {
        guard let name = status?.details?.name ?? request?.name else {
            return "could not \(action) (\(codeAndReason)): \(serverMessage)"
        }
        let kind = Self.kindName(forResource: status?.details?.kind ?? request?.resource ?? "object")
        return "\(kind) \(quoted(name))\(namespaceSuffix) was changed since it was read (\(codeAndReason):"
            + " stale resourceVersion); read it again and retry the update"
    }

    private var expired: String {
        if request?.verb == .watch {
            let watched = request.map(Self.collection) ?? "objects"
            return "the watch of \(watched) started from a resourceVersion the server no longer keeps"
                + " (\(codeAndReason): \(serverMessage)); list again and watch from the list's resourceVersion"
        }
        return "could not \(action) (\(codeAndReason): \(serverMessage)); the resourceVersion or continue"
            + " token is too old: list again"
    }

    private var invalid: String {
        let details = status?.details
        let kind = details?.kind ?? request.map { Self.kindName(forResource: $0.resource) } ?? "object"
        let name = details?.name ?? request?.name
        let causes = (details?.causes ?? []).map { cause in
            [cause.field, cause.message].compactMap { $0 }.joined(separator: ": ")
        }
        let problems = causes.isEmpty ? serverMessage : causes.joined(separator: "; ")
        return "the Kubernetes API server refused \(kind)\(name.map { " " + quoted($0) } ?? "") as invalid"
            + " (\(codeAndReason)): \(problems); fix the template or context settings that produced it"
    }

    // MARK: - Pieces

    private var codeAndReason: String { "\(statusCode) \(reason.rawValue)" }

    private var serverMessage: String {
        status?.message ?? "the server gave no details"
    }

    private var resourcePath: String {
        guard let request else { return "this resource" }
        return request.subresource.map { "\(request.resource)/\($0)" } ?? request.resource
    }

    private var namespaceSuffix: String {
        request?.namespace.map { " in namespace \(quoted($0))" } ?? ""
    }

    private var action: String { Self.action(request) }

    /// `list jobs in namespace "x"`, `get the log of Pod "p" in namespace "x"`, `create Job "j" …`;
    /// also what transport errors say they were doing.
    static func action(_ request: Kubernetes.RequestInfo?) -> String {
        guard let request else { return "reach the Kubernetes API server" }
        let namespaceSuffix = request.namespace.map { " in namespace \(quoted($0))" } ?? ""
        let kind = Self.kindName(forResource: request.resource)
        if [.list, .watch, .deletecollection].contains(request.verb) {
            return "\(request.verb.rawValue) \(Self.collection(request))"
        }
        var object = request.name.map { "\(kind) \(quoted($0))" } ?? (request.verb == .create ? "a \(kind)" : kind)
        if request.subresource == "log" {
            return "get the log of \(object)\(namespaceSuffix)"
        }
        if let subresource = request.subresource { object = "the \(subresource) of \(object)" }
        return "\(request.verb.rawValue) \(object)\(namespaceSuffix)"
    }

    /// `jobs in namespace "x"`, `jobs in all namespaces`, `namespaces`.
    private static func collection(_ request: Kubernetes.RequestInfo) -> String {
        if let namespace = request.namespace { return "\(request.resource) in namespace \(quoted(namespace))" }
        let everywhere = Self.namespacedResources.contains(request.resource) ? " in all namespaces" : ""
        return request.resource + everywhere
    }

    private func quoted(_ text: String) -> String { Self.quoted(text) }

    private static func quoted(_ text: String) -> String { "\"\(text)\"" }

    private static let namespacedResources: Set<String> = [
        Kubernetes.Job.resource, Kubernetes.Pod.resource, Kubernetes.Secret.resource,
        Kubernetes.PersistentVolumeClaim.resource,
    ]

    /// Names objects by their Kind, as `kubectl` and the 422 messages do.
    static func kindName(forResource resource: String) -> String {
        switch resource {
        case Kubernetes.Job.resource: return Kubernetes.Job.kind
        case Kubernetes.Pod.resource: return Kubernetes.Pod.kind
        case Kubernetes.Secret.resource: return Kubernetes.Secret.kind
        case Kubernetes.Namespace.resource: return Kubernetes.Namespace.kind
        case Kubernetes.PersistentVolumeClaim.resource: return Kubernetes.PersistentVolumeClaim.kind
        default: return resource
        }
    }
}

/// The parts of an RBAC denial: `User "u" cannot list resource "jobs" in API group "batch" in the
/// namespace "x"`. The server's wording is the only place the user's identity appears.
private struct Denial {
    var user: String
    var verb: String
    var resource: String
    var group: String?
    var namespace: String?

    init?(message: String) {
        // A multi-line literal ignores whitespace, hence the escaped spaces.
        let pattern =
            #/
            User\ "(?<user>[^"]*)"\ cannot\ (?<verb>\S+)\ resource\ "(?<resource>[^"]*)"
            (?:\ in\ API\ group\ "(?<group>[^"]*)")?
            (?:\ in\ the\ namespace\ "(?<namespace>[^"]*)")?
            /#
        guard let match = message.firstMatch(of: pattern) else { return nil }
        user = String(match.user)
        verb = String(match.verb)
        resource = String(match.resource)
        group = match.group.map(String.init)
        namespace = match.namespace.map(String.init)
    }
}
