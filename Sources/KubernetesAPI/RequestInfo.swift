import MrunSupport

extension Kubernetes {
    /// The RBAC verbs, as the API server derives them from the HTTP method and path.
    public enum Verb: String, Sendable, Equatable {
        case get, list, watch, create, update, patch, delete, deletecollection
    }

    /// What a request is about: enough to build its path, and for an error to name what failed
    /// and which RBAC rule would allow it.
    public struct RequestInfo: Sendable, Equatable {
        public var verb: Verb
        /// `""` for the core group.
        public var group: String
        public var version: String
        /// Plural, as in URLs and RBAC rules (`jobs`).
        public var resource: String
        /// `log` for pod logs.
        public var subresource: String?
        /// Nil for cluster-scoped resources and for lists across all namespaces.
        public var namespace: String?
        /// Also set for a create, from the object's metadata, so errors can name it.
        public var name: String?

        public init(
            verb: Verb, group: String = "", version: String = "v1", resource: String, subresource: String? = nil,
            namespace: String? = nil, name: String? = nil
        ) {
            self.verb = verb
            self.group = group
            self.version = version
            self.resource = resource
            self.subresource = subresource
            self.namespace = namespace
            self.name = name
        }

        /// For a cluster-scoped type (Namespace) `namespace` is dropped, so callers can pass the
        /// experiment's namespace whatever they address.
        public init<Object: KubernetesObject>(
            _ verb: Verb, _ type: Object.Type, namespace: String? = nil, name: String? = nil, subresource: String? = nil
        ) {
            let version = Object.apiVersion.split(separator: "/").last.map(String.init) ?? Object.apiVersion
            self.init(
                verb: verb, group: Object.group, version: version, resource: Object.resource, subresource: subresource,
                namespace: Object.isNamespaced ? namespace : nil, name: name)
        }

        /// The URL path: `/apis/batch/v1/namespaces/NS/jobs/NAME`. A create or list posts to the
        /// collection, so the name is left out unless a subresource needs it.
        public var path: String {
            var parts = group.isEmpty ? ["api", version] : ["apis", group, version]
            if let namespace, resource != Namespace.resource { parts += ["namespaces", namespace] }
            parts.append(resource)
            let addressesCollection = [.create, .list, .deletecollection].contains(verb) && subresource == nil
            if let name, !addressesCollection {
                parts.append(name)
                if let subresource { parts.append(subresource) }
            }
            return "/" + parts.joined(separator: "/")
        }

        /// Reads a resource request the way kube-apiserver does; nil for non-resource paths such
        /// as `/version` and for what is not a resource path at all.
        public init?(method: String, path: String, query: [String: String] = [:]) {
            var parts = path.split(separator: "/").map(String.init)
            guard let root = parts.first else { return nil }
            if root == "api", parts.count >= 2 {
                group = ""
                version = parts[1]
                parts.removeFirst(2)
            } else if root == "apis", parts.count >= 3 {
                group = parts[1]
                version = parts[2]
                parts.removeFirst(3)
            } else {
                return nil
            }
            namespace = nil
            // `/namespaces/NS/status` is the namespace's own subresource, not a resource inside it.
            if parts.first == Namespace.resource, parts.count >= 3, !["status", "finalize"].contains(parts[2]) {
                namespace = parts[1]
                parts.removeFirst(2)
            }
            guard (1...3).contains(parts.count) else { return nil }
            resource = parts[0]
            name = parts.count > 1 ? parts[1] : nil
            subresource = parts.count > 2 ? parts[2] : nil

            let watching = ["true", "1"].contains(query["watch"]?.lowercased() ?? "")
            switch method.uppercased() {
            case "GET", "HEAD": verb = watching ? .watch : (name == nil ? .list : .get)
            case "POST": verb = .create
            case "PUT": verb = .update
            case "PATCH": verb = .patch
            case "DELETE": verb = name == nil ? .deletecollection : .delete
            default: return nil
            }
        }
    }
}
