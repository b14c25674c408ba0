import Foundation

import KubernetesAPI
import MrunSupport

package struct FakeKey: Hashable, Sendable, Comparable {
    package var resource: String
    /// "" for cluster-scoped objects.
    package var namespace: String
    package var name: String

    package static func < (lhs: FakeKey, rhs: FakeKey) -> Bool {
        (lhs.resource, lhs.namespace, lhs.name) < (rhs.resource, rhs.namespace, rhs.name)
    }
}

/// The fake cluster's state: objects, a global resourceVersion counter, the event history that
/// watches replay, pod logs, and the "controller" hooks tests drive. One actor, so every change
/// and the events it emits happen in one order.
package actor FakeKubernetesCluster {
    package var objects: [FakeKey: any FakeStorable] = [:]
    /// Every write bumps it; creates and updates carry the new value.
    package var resourceVersion = 100
    /// Watches from an older resourceVersion get 410 Expired.
    package var oldestWatchable = 100
    package var events: [FakeWatchEvent] = []
    package var watchers: [UUID: FakeWatcher] = [:]
    package var logs: [FakeKey: [String: [FakeLogLine]]] = [:]
    package var followers: [UUID: FakeLogFollower] = [:]
    package var jobCreatedHook: (@Sendable (Kubernetes.Job) async -> Void)?
    /// For pods created through the API (not by a Job, which the controller scripts).
    package var podCreatedHook: (@Sendable (Kubernetes.Pod) async -> Void)?

    package static let randomAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    package static func randomSuffix() -> String {
        String((0..<5).map { _ in randomAlphabet.randomElement() ?? "x" })
    }

    package static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(.iso8601)
    }

    package func key<Object: FakeStorable>(_ type: Object.Type, namespace: String?, name: String) -> FakeKey {
        FakeKey(resource: Object.resource, namespace: Object.isNamespaced ? namespace ?? "" : "", name: name)
    }

    package func nextResourceVersion() -> String {
        resourceVersion += 1
        return String(resourceVersion)
    }

    package func requireNamespace(_ namespace: String?) throws(FakeAPIError) {
        guard let namespace else { return }
        guard objects[FakeKey(resource: "namespaces", namespace: "", name: namespace)] != nil else {
            throw .namespaceNotFound(namespace)
        }
    }

    // MARK: - CRUD

    package func create<Object: FakeStorable>(_ object: Object, namespace: String?, dryRun: Bool = false)
        throws(FakeAPIError)
        -> Object
    {
        var object = object
        let namespace = Object.isNamespaced ? namespace : nil
        if let namespace, let declared = object.metadata.namespace, declared != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        try requireNamespace(namespace)
        if object.metadata.name == nil, let prefix = object.metadata.generateName {
            object.metadata.name = prefix + Self.randomSuffix()
        }
        let causes = object.validationCauses() + object.ownerReferenceCauses()
        if !causes.isEmpty {
            throw .invalid(kind: Object.kind, group: Object.group, name: object.metadata.name ?? "", causes: causes)
        }
        let name = object.metadata.name ?? ""
        let key = key(Object.self, namespace: namespace, name: name)
        if objects[key] != nil { throw .alreadyExists(resource: Object.resource, group: Object.group, name: name) }
        object.metadata.namespace = namespace
        object.metadata.uid = UUID().uuidString.lowercased()
        object.metadata.creationTimestamp = Self.timestamp()
        object.metadata.resourceVersion = nil
        object.applyServerDefaults()
        object.normalizeForStorage()
        if dryRun { return object }
        object.metadata.resourceVersion = nextResourceVersion()
        objects[key] = object
        record(.added, object)
        collectIfOwnersAreGone(object)
        if let job = object as? Kubernetes.Job, let hook = jobCreatedHook {
            Task { await hook(job) }
        }
        if let pod = object as? Kubernetes.Pod, pod.metadata.ownerReferences == nil, let hook = podCreatedHook {
            Task { await hook(pod) }
        }
        return object
    }

    package func get<Object: FakeStorable>(_ type: Object.Type, namespace: String?, name: String) throws(FakeAPIError)
        -> Object
    {
        guard let object = objects[key(type, namespace: namespace, name: name)] as? Object else {
            throw .notFound(resource: Object.resource, group: Object.group, name: name)
        }
        return object
    }

    package func replace<Object: FakeStorable>(_ object: Object, namespace: String?, name: String) throws(FakeAPIError)
        -> Object
    {
        var object = object
        let namespace = Object.isNamespaced ? namespace : nil
        if let namespace, let declared = object.metadata.namespace, declared != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if let declared = object.metadata.name, declared != name {
            throw .badRequest("the name of the object (\(declared)) does not match the name on the URL (\(name))")
        }
        let stored = try get(Object.self, namespace: namespace, name: name)
        if let expected = object.metadata.resourceVersion, expected != stored.metadata.resourceVersion {
            throw .conflict(resource: Object.resource, group: Object.group, name: name)
        }
        object.metadata.name = name
        object.metadata.namespace = namespace
        object.metadata.uid = stored.metadata.uid
        object.metadata.creationTimestamp = stored.metadata.creationTimestamp
        object.metadata.generation = stored.metadata.generation
        object.normalizeForStorage()
        object.metadata.resourceVersion = nextResourceVersion()
        objects[key(Object.self, namespace: namespace, name: name)] = object
        record(.modified, object)
        return object
    }

    /// Stores a changed object (the controller's status updates) with a new resourceVersion.
    @discardableResult
    package func update<Object: FakeStorable>(_ object: Object) -> Object {
        var object = object
        object.metadata.resourceVersion = nextResourceVersion()
        objects[key(Object.self, namespace: object.metadata.namespace, name: object.metadata.name ?? "")] = object
        record(.modified, object)
        return object
    }

    /// Sorted by namespace and name, as etcd returns them; items carry no kind/apiVersion.
    package func list<Object: FakeStorable>(
        _ type: Object.Type, namespace: String?, selector: Kubernetes.LabelSelector
    ) -> Kubernetes.List<Object> {
        let items = objects.filter { key, _ in
            key.resource == Object.resource && (namespace == nil || key.namespace == namespace)
        }
        .sorted { $0.key < $1.key }
        .compactMap { $0.value as? Object }
        .filter { selector.matches($0) }
        .map { item in
            var item = item
            item.listItemStripped()
            return item
        }
        return Kubernetes.List(metadata: .init(resourceVersion: String(resourceVersion)), items: items)
    }

    /// The stored objects of one type, for test assertions.
    package func all<Object: FakeStorable>(_ type: Object.Type, namespace: String? = nil) -> [Object] {
        list(type, namespace: namespace, selector: []).items
    }

    package func remove<Object: FakeStorable>(_ object: Object) {
        objects[key(Object.self, namespace: object.metadata.namespace, name: object.metadata.name ?? "")] = nil
        var gone = object
        gone.metadata.resourceVersion = nextResourceVersion()
        record(.deleted, gone)
    }
}

extension FakeStorable {
    /// List items have no kind/apiVersion of their own.
    package mutating func listItemStripped() {
        apiVersion = nil
        kind = nil
    }
}
