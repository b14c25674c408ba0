import Foundation
import MrunSupport

extension Kubernetes {
    public struct Namespace: KubernetesObject {
        public static let apiVersion = "v1"
        public static let kind = "Namespace"
        public static let resource = "namespaces"
        public static let isNamespaced = false

        public var apiVersion: String? = Self.apiVersion
        public var kind: String? = Self.kind
        public var metadata: ObjectMeta
        public var spec: NamespaceSpec?
        public var status: NamespaceStatus?

        public init(
            apiVersion: String? = Self.apiVersion,
            kind: String? = Self.kind,
            metadata: ObjectMeta,
            spec: NamespaceSpec? = nil,
            status: NamespaceStatus? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.metadata = metadata
            self.spec = spec
            self.status = status
        }
    }

    public struct NamespaceSpec: Codable, Sendable, Equatable {
        public var finalizers: [String]?

        public init(finalizers: [String]? = nil) {
            self.finalizers = finalizers
        }
    }

    public struct NamespaceStatus: Codable, Sendable, Equatable {
        /// `Active`, or `Terminating` while its contents are deleted (creating objects then fails).
        public var phase: String?

        public init(phase: String? = nil) {
            self.phase = phase
        }
    }

    public struct PersistentVolumeClaim: KubernetesObject {
        public static let apiVersion = "v1"
        public static let kind = "PersistentVolumeClaim"
        public static let resource = "persistentvolumeclaims"
        public static let isNamespaced = true

        public var apiVersion: String? = Self.apiVersion
        public var kind: String? = Self.kind
        public var metadata: ObjectMeta
        public var spec: PersistentVolumeClaimSpec?
        public var status: PersistentVolumeClaimStatus?

        public init(
            apiVersion: String? = Self.apiVersion,
            kind: String? = Self.kind,
            metadata: ObjectMeta,
            spec: PersistentVolumeClaimSpec? = nil,
            status: PersistentVolumeClaimStatus? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.metadata = metadata
            self.spec = spec
            self.status = status
        }
    }

    public struct PersistentVolumeClaimSpec: Codable, Sendable, Equatable {
        /// `ReadWriteOnce`, `ReadWriteMany`…
        public var accessModes: [String]?
        /// `requests.storage` is the size, a quantity such as `40Gi`.
        public var resources: ResourceRequirements?
        /// Nil means the cluster's default StorageClass.
        public var storageClassName: String?
        public var volumeMode: String?
        public var volumeName: String?

        public init(
            accessModes: [String]? = nil,
            resources: ResourceRequirements? = nil,
            storageClassName: String? = nil,
            volumeMode: String? = nil,
            volumeName: String? = nil
        ) {
            self.accessModes = accessModes
            self.resources = resources
            self.storageClassName = storageClassName
            self.volumeMode = volumeMode
            self.volumeName = volumeName
        }
    }

    public struct PersistentVolumeClaimStatus: Codable, Sendable, Equatable {
        /// `Pending` until a volume is bound (without a StorageClass it stays so), then `Bound`.
        public var phase: String?
        public var accessModes: [String]?
        public var capacity: [String: String]?

        public init(phase: String? = nil, accessModes: [String]? = nil, capacity: [String: String]? = nil) {
            self.phase = phase
            self.accessModes = accessModes
            self.capacity = capacity
        }
    }

    /// Holds the Neptune credentials the Job reads through `secretKeyRef`.
    public struct Secret: KubernetesObject {
        public static let apiVersion = "v1"
        public static let kind = "Secret"
        public static let resource = "secrets"
        public static let isNamespaced = true

        public var apiVersion: String? = Self.apiVersion
        public var kind: String? = Self.kind
        public var metadata: ObjectMeta
        /// `Opaque` for mrun's secrets.
        public var type: String?
        /// Values in base64, as stored; read them with `value(forKey:)`.
        public var data: [String: String]?
        /// Write-only plain-text values: the server merges them into `data` and never returns them.
        public var stringData: [String: String]?
        public var immutable: Bool?

        public init(
            apiVersion: String? = Self.apiVersion,
            kind: String? = Self.kind,
            metadata: ObjectMeta,
            type: String? = nil,
            data: [String: String]? = nil,
            stringData: [String: String]? = nil,
            immutable: Bool? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.metadata = metadata
            self.type = type
            self.data = data
            self.stringData = stringData
            self.immutable = immutable
        }
    }
}

extension Kubernetes.Secret {
    /// The decoded bytes of `data[key]`; nil when the key is missing or not valid base64.
    public func value(forKey key: String) -> Data? {
        data?[key].flatMap { Data(base64Encoded: $0) }
    }

    /// The value as UTF-8 text; nil when missing, not base64, or not UTF-8.
    public func stringValue(forKey key: String) -> String? {
        value(forKey: key).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// Every entry of `data` decoded; entries that are not valid base64 are left out.
    public var decodedData: [String: Data] {
        (data ?? [:]).compactMapValues { Data(base64Encoded: $0) }
    }

    /// Stores `values` in `data` (base64), for callers holding bytes rather than text.
    public mutating func setData(_ values: [String: Data]) {
        data = values.mapValues { $0.base64EncodedString() }
    }
}
