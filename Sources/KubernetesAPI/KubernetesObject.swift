import Foundation
import MrunSupport

/// The subset of the Kubernetes API that mrun speaks, modelled on exchanges recorded from a real
/// kube-apiserver (v1.25). Decoding ignores every field not modelled here, because the server adds
/// many (managedFields, tolerations, projected volumes…); encoding omits nil fields, so an object
/// built by mrun carries exactly what it sets and the server fills in its defaults.
///
/// The types are nested here rather than top-level because names such as `Job`, `Status` and
/// `List` would otherwise collide with the Slurm and local backends' vocabulary.
///
/// Timestamps stay the strings the server sent (RFC 3339, seconds or nanoseconds), so a decoded
/// object re-encodes byte-for-byte; `Kubernetes.date(from:)` parses one when arithmetic is needed.
public enum Kubernetes {
    /// JSON as the API server accepts it: compact, `/` in label keys left unescaped so request
    /// bodies read like the ones kubectl sends, and keys sorted so equal objects give equal bytes.
    public static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return try encoder.encode(value)
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        try JSONDecoder().decode(type, from: data)
    }

    /// Parses an RFC 3339 timestamp as the API server writes it (`2026-11-21T20:35:42Z`) or as the
    /// kubelet prefixes log lines (`2026-11-21T20:35:47.857823Z`, up to nanoseconds).
    public static func date(from timestamp: String) -> Date? {
        if let date = try? Date(timestamp, strategy: .iso8601) { return date }
        return try? Date(timestamp, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// An API object with its own endpoint: what the client needs to build its path and what the
/// errors need to name it.
public protocol KubernetesObject: Codable, Sendable, Equatable {
    /// `v1` for the core group, `batch/v1` for Jobs.
    static var apiVersion: String { get }
    static var kind: String { get }
    /// The plural resource name used in URLs and RBAC rules (`jobs`).
    static var resource: String { get }
    static var isNamespaced: Bool { get }
    var metadata: Kubernetes.ObjectMeta { get set }
}

extension KubernetesObject {
    /// The API group, `""` for the core group (as RBAC rules spell it).
    public static var group: String {
        apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : ""
    }
}

extension Kubernetes {
    public struct ObjectMeta: Codable, Sendable, Equatable {
        public var name: String?
        /// Asks the server to name the object: it appends five random characters.
        public var generateName: String?
        public var namespace: String?
        public var uid: String?
        /// Opaque; sent back on update so a concurrent change is refused with 409 Conflict.
        public var resourceVersion: String?
        public var generation: Int?
        public var creationTimestamp: String?
        /// Set once deletion has started; the object lingers while finalizers run.
        public var deletionTimestamp: String?
        public var deletionGracePeriodSeconds: Int?
        public var labels: [String: String]?
        public var annotations: [String: String]?
        public var ownerReferences: [OwnerReference]?
        public var finalizers: [String]?

        public init(
            name: String? = nil,
            generateName: String? = nil,
            namespace: String? = nil,
            uid: String? = nil,
            resourceVersion: String? = nil,
            generation: Int? = nil,
            creationTimestamp: String? = nil,
            deletionTimestamp: String? = nil,
            deletionGracePeriodSeconds: Int? = nil,
            labels: [String: String]? = nil,
            annotations: [String: String]? = nil,
            ownerReferences: [OwnerReference]? = nil,
            finalizers: [String]? = nil
        ) {
            self.name = name
            self.generateName = generateName
            self.namespace = namespace
            self.uid = uid
            self.resourceVersion = resourceVersion
            self.generation = generation
            self.creationTimestamp = creationTimestamp
            self.deletionTimestamp = deletionTimestamp
            self.deletionGracePeriodSeconds = deletionGracePeriodSeconds
            self.labels = labels
            self.annotations = annotations
            self.ownerReferences = ownerReferences
            self.finalizers = finalizers
        }
    }

    /// Links a dependent (a Job's pods, a gang's Service) to its owner in the same namespace: the
    /// garbage collector deletes dependents whose owners are gone, so they go with the Job.
    public struct OwnerReference: Codable, Sendable, Equatable {
        public var apiVersion: String
        public var kind: String
        public var name: String
        /// The owner's uid, not its name: a dependent of a deleted Job is not adopted by a new Job
        /// of the same name, and one whose owners are all gone is collected.
        public var uid: String
        /// At most one reference of an object may be its controller.
        public var controller: Bool?
        /// A Foreground deletion of the owner waits for this dependent to be gone.
        public var blockOwnerDeletion: Bool?

        public init(
            apiVersion: String,
            kind: String,
            name: String,
            uid: String,
            controller: Bool? = nil,
            blockOwnerDeletion: Bool? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.name = name
            self.uid = uid
            self.controller = controller
            self.blockOwnerDeletion = blockOwnerDeletion
        }
    }
}

extension Kubernetes.OwnerReference {
    /// A reference making `owner` (as the server stored it: with its uid) the controller of the
    /// dependent, blocking the owner's Foreground deletion until the dependent is gone; nil when
    /// `owner` has no name or uid yet (it was not created).
    public init?<Owner: KubernetesObject>(controller owner: Owner) {
        guard let name = owner.metadata.name, let uid = owner.metadata.uid, !uid.isEmpty else { return nil }
        self.init(
            apiVersion: Owner.apiVersion, kind: Owner.kind, name: name, uid: uid, controller: true,
            blockOwnerDeletion: true)
    }
}

extension Kubernetes {
    public struct ListMeta: Codable, Sendable, Equatable {
        /// Where a watch continues so that it sees only changes made after the list.
        public var resourceVersion: String?
        /// Token for the next page when the list was requested with `limit`.
        public var `continue`: String?
        public var remainingItemCount: Int?

        public init(resourceVersion: String? = nil, remainingItemCount: Int? = nil) {
            self.resourceVersion = resourceVersion
            self.remainingItemCount = remainingItemCount
        }
    }

    /// `JobList`, `PodList`…: items carry no `kind`/`apiVersion` of their own.
    public struct List<Item: KubernetesObject>: Codable, Sendable, Equatable {
        public var apiVersion: String? = Item.apiVersion
        public var kind: String? = Item.kind + "List"
        public var metadata: ListMeta = ListMeta()
        public var items: [Item] = []

        enum CodingKeys: String, CodingKey {
            case apiVersion, kind, metadata, items
        }

        public init(
            apiVersion: String? = Item.apiVersion,
            kind: String? = Item.kind + "List",
            metadata: ListMeta = ListMeta(),
            items: [Item] = []
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.metadata = metadata
            self.items = items
        }
    }
}

extension Kubernetes.List {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        if let kind, kind != Item.kind + "List" {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "expected a \(Item.kind)List, got a \(kind)")
        }
        metadata = try container.decodeIfPresent(Kubernetes.ListMeta.self, forKey: .metadata) ?? .init()
        // Go writes a nil slice as null; an empty list is still a list.
        items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
    }
}
