extension Kubernetes {
    /// A Job's pod template. The server adds `controller-uid` and `job-name` to its labels.
    public struct PodTemplateSpec: Codable, Sendable, Equatable {
        public var metadata: ObjectMeta?
        public var spec: PodSpec?
    }

    /// The fields mrun sets, plus the defaults the server echoes back (so a fake server can
    /// reproduce them): `terminationGracePeriodSeconds`, `dnsPolicy`, `schedulerName`,
    /// `securityContext`.
    public struct PodSpec: Codable, Sendable, Equatable {
        /// An empty list is kept as `[]`: the server reports it as "Required value".
        public var containers: [Container]
        public var initContainers: [Container]?
        public var volumes: [Volume]?
        /// `Never` or `OnFailure` for Jobs.
        public var restartPolicy: String?
        public var terminationGracePeriodSeconds: Int?
        public var activeDeadlineSeconds: Int?
        public var dnsPolicy: String?
        public var nodeSelector: [String: String]?
        public var serviceAccountName: String?
        /// Set once the pod is scheduled.
        public var nodeName: String?
        public var securityContext: PodSecurityContext?
        public var imagePullSecrets: [LocalObjectReference]?
        public var schedulerName: String?
        public var priorityClassName: String?
    }

    public struct PodSecurityContext: Codable, Sendable, Equatable {
        public var runAsUser: Int?
        public var runAsGroup: Int?
        public var runAsNonRoot: Bool?
        public var fsGroup: Int?
    }

    public struct LocalObjectReference: Codable, Sendable, Equatable {
        public var name: String
    }

    public struct Container: Codable, Sendable, Equatable {
        public var name: String
        public var image: String?
        /// Replaces the image's ENTRYPOINT.
        public var command: [String]?
        /// Replaces the image's CMD.
        public var args: [String]?
        public var workingDir: String?
        public var env: [EnvVar]?
        public var resources: ResourceRequirements?
        public var volumeMounts: [VolumeMount]?
        /// `IfNotPresent`, `Always`, `Never`.
        public var imagePullPolicy: String?
        public var terminationMessagePath: String?
        public var terminationMessagePolicy: String?
    }

    /// Either a literal `value` or `valueFrom` a Secret key; secrets never appear in the Job.
    public struct EnvVar: Codable, Sendable, Equatable {
        public var name: String
        public var value: String?
        public var valueFrom: EnvVarSource?
    }

    public struct EnvVarSource: Codable, Sendable, Equatable {
        public var secretKeyRef: SecretKeySelector?
        public var configMapKeyRef: ConfigMapKeySelector?
        public var fieldRef: ObjectFieldSelector?
    }

    public struct SecretKeySelector: Codable, Sendable, Equatable {
        /// The Secret's name.
        public var name: String
        public var key: String
        /// When true a missing Secret or key leaves the variable unset instead of blocking the pod.
        public var optional: Bool?
    }

    public struct ConfigMapKeySelector: Codable, Sendable, Equatable {
        public var name: String
        public var key: String
        public var optional: Bool?
    }

    /// Exposes a pod field (`metadata.name`, `spec.nodeName`…) as a variable.
    public struct ObjectFieldSelector: Codable, Sendable, Equatable {
        public var apiVersion: String?
        public var fieldPath: String
    }

    /// Quantities stay strings: the server canonicalises them (`4096Mi` comes back as `4Gi`).
    public struct ResourceRequirements: Codable, Sendable, Equatable {
        public var limits: [String: String]?
        public var requests: [String: String]?
    }

    public struct VolumeMount: Codable, Sendable, Equatable {
        public var name: String
        public var mountPath: String
        public var readOnly: Bool?
        public var subPath: String?
    }

    /// The volume sources mrun uses; others (the projected service-account token) decode with
    /// only their name.
    public struct Volume: Codable, Sendable, Equatable {
        public var name: String
        public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
        public var secret: SecretVolumeSource?
        /// `medium: Memory` gives PyTorch data loaders a `/dev/shm` larger than the default 64M.
        public var emptyDir: EmptyDirVolumeSource?
    }

    public struct PersistentVolumeClaimVolumeSource: Codable, Sendable, Equatable {
        public var claimName: String
        public var readOnly: Bool?
    }

    public struct SecretVolumeSource: Codable, Sendable, Equatable {
        public var secretName: String?
        public var defaultMode: Int?
        public var optional: Bool?
    }

    public struct EmptyDirVolumeSource: Codable, Sendable, Equatable {
        public var medium: String?
        public var sizeLimit: String?
    }
}
