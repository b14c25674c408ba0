import MrunSupport

extension Kubernetes {
    /// A Job's pod template. The server adds `controller-uid` and `job-name` to its labels.
    public struct PodTemplateSpec: Codable, Sendable, Equatable {
        public var metadata: ObjectMeta?
        public var spec: PodSpec?

        public init(metadata: ObjectMeta? = nil, spec: PodSpec? = nil) {
            self.metadata = metadata
            self.spec = spec
        }
    }

    /// The fields mrun sets, plus the defaults the server echoes back (so a fake server can
    /// reproduce them): `terminationGracePeriodSeconds`, `dnsPolicy`, `schedulerName`,
    /// `securityContext`. The scheduling fields (`nodeSelector`, `tolerations`,
    /// `priorityClassName`) come from the context; `hostname` and `subdomain` give a gang's pods
    /// names in a headless Service's DNS.
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
        /// Node labels a node must carry to run the pod.
        public var nodeSelector: [String: String]?
        public var serviceAccountName: String?
        /// Set once the pod is scheduled.
        public var nodeName: String?
        public var securityContext: PodSecurityContext?
        public var imagePullSecrets: [LocalObjectReference]?
        public var schedulerName: String?
        /// A PriorityClass, for the scheduler's order and preemption.
        public var priorityClassName: String?
        /// Taints of nodes the pod may still run on.
        public var tolerations: [Toleration]?
        /// The pod's hostname instead of its name; the Job controller sets `<job>-<index>` for an
        /// Indexed Job's pods.
        public var hostname: String?
        /// With a headless Service of this name in the namespace, the pod resolves as
        /// `<hostname>.<subdomain>`.
        public var subdomain: String?

        public init(
            containers: [Container],
            initContainers: [Container]? = nil,
            volumes: [Volume]? = nil,
            restartPolicy: String? = nil,
            terminationGracePeriodSeconds: Int? = nil,
            activeDeadlineSeconds: Int? = nil,
            dnsPolicy: String? = nil,
            nodeSelector: [String: String]? = nil,
            serviceAccountName: String? = nil,
            nodeName: String? = nil,
            securityContext: PodSecurityContext? = nil,
            imagePullSecrets: [LocalObjectReference]? = nil,
            schedulerName: String? = nil,
            priorityClassName: String? = nil,
            tolerations: [Toleration]? = nil,
            hostname: String? = nil,
            subdomain: String? = nil
        ) {
            self.containers = containers
            self.initContainers = initContainers
            self.volumes = volumes
            self.restartPolicy = restartPolicy
            self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
            self.activeDeadlineSeconds = activeDeadlineSeconds
            self.dnsPolicy = dnsPolicy
            self.nodeSelector = nodeSelector
            self.serviceAccountName = serviceAccountName
            self.nodeName = nodeName
            self.securityContext = securityContext
            self.imagePullSecrets = imagePullSecrets
            self.schedulerName = schedulerName
            self.priorityClassName = priorityClassName
            self.tolerations = tolerations
            self.hostname = hostname
            self.subdomain = subdomain
        }
    }

    public struct PodSecurityContext: Codable, Sendable, Equatable {
        public var runAsUser: Int?
        public var runAsGroup: Int?
        public var runAsNonRoot: Bool?
        public var fsGroup: Int?

        public init(runAsUser: Int? = nil, runAsGroup: Int? = nil, runAsNonRoot: Bool? = nil, fsGroup: Int? = nil) {
            self.runAsUser = runAsUser
            self.runAsGroup = runAsGroup
            self.runAsNonRoot = runAsNonRoot
            self.fsGroup = fsGroup
        }
    }

    public struct LocalObjectReference: Codable, Sendable, Equatable {
        public var name: String

        public init(name: String) {
            self.name = name
        }
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

        public init(
            name: String,
            image: String? = nil,
            command: [String]? = nil,
            args: [String]? = nil,
            workingDir: String? = nil,
            env: [EnvVar]? = nil,
            resources: ResourceRequirements? = nil,
            volumeMounts: [VolumeMount]? = nil,
            imagePullPolicy: String? = nil,
            terminationMessagePath: String? = nil,
            terminationMessagePolicy: String? = nil
        ) {
            self.name = name
            self.image = image
            self.command = command
            self.args = args
            self.workingDir = workingDir
            self.env = env
            self.resources = resources
            self.volumeMounts = volumeMounts
            self.imagePullPolicy = imagePullPolicy
            self.terminationMessagePath = terminationMessagePath
            self.terminationMessagePolicy = terminationMessagePolicy
        }
    }

    /// Either a literal `value` or `valueFrom` a Secret key; secrets never appear in the Job.
    public struct EnvVar: Codable, Sendable, Equatable {
        public var name: String
        public var value: String?
        public var valueFrom: EnvVarSource?

        public init(name: String, value: String? = nil, valueFrom: EnvVarSource? = nil) {
            self.name = name
            self.value = value
            self.valueFrom = valueFrom
        }
    }

    public struct EnvVarSource: Codable, Sendable, Equatable {
        public var secretKeyRef: SecretKeySelector?
        public var configMapKeyRef: ConfigMapKeySelector?
        public var fieldRef: ObjectFieldSelector?

        public init(
            secretKeyRef: SecretKeySelector? = nil,
            configMapKeyRef: ConfigMapKeySelector? = nil,
            fieldRef: ObjectFieldSelector? = nil
        ) {
            self.secretKeyRef = secretKeyRef
            self.configMapKeyRef = configMapKeyRef
            self.fieldRef = fieldRef
        }
    }

    public struct SecretKeySelector: Codable, Sendable, Equatable {
        /// The Secret's name.
        public var name: String
        public var key: String
        /// When true a missing Secret or key leaves the variable unset instead of blocking the pod.
        public var optional: Bool?

        public init(name: String, key: String, optional: Bool? = nil) {
            self.name = name
            self.key = key
            self.optional = optional
        }
    }

    public struct ConfigMapKeySelector: Codable, Sendable, Equatable {
        public var name: String
        public var key: String
        public var optional: Bool?

        public init(name: String, key: String, optional: Bool? = nil) {
            self.name = name
            self.key = key
            self.optional = optional
        }
    }

    /// Exposes a pod field (`metadata.name`, `spec.nodeName`…) as a variable.
    public struct ObjectFieldSelector: Codable, Sendable, Equatable {
        public var apiVersion: String?
        public var fieldPath: String

        public init(apiVersion: String? = nil, fieldPath: String) {
            self.apiVersion = apiVersion
            self.fieldPath = fieldPath
        }
    }

    /// Quantities stay strings: the server canonicalises them (`4096Mi` comes back as `4Gi`).
    public struct ResourceRequirements: Codable, Sendable, Equatable {
        public var limits: [String: String]?
        public var requests: [String: String]?

        public init(limits: [String: String]? = nil, requests: [String: String]? = nil) {
            self.limits = limits
            self.requests = requests
        }
    }

    public struct VolumeMount: Codable, Sendable, Equatable {
        public var name: String
        public var mountPath: String
        public var readOnly: Bool?
        public var subPath: String?

        public init(name: String, mountPath: String, readOnly: Bool? = nil, subPath: String? = nil) {
            self.name = name
            self.mountPath = mountPath
            self.readOnly = readOnly
            self.subPath = subPath
        }
    }

    /// The volume sources mrun uses; others (the projected service-account token) decode with
    /// only their name.
    public struct Volume: Codable, Sendable, Equatable {
        public var name: String
        public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
        public var secret: SecretVolumeSource?
        /// `medium: Memory` gives PyTorch data loaders a `/dev/shm` larger than the default 64M.
        public var emptyDir: EmptyDirVolumeSource?

        public init(
            name: String,
            persistentVolumeClaim: PersistentVolumeClaimVolumeSource? = nil,
            secret: SecretVolumeSource? = nil,
            emptyDir: EmptyDirVolumeSource? = nil
        ) {
            self.name = name
            self.persistentVolumeClaim = persistentVolumeClaim
            self.secret = secret
            self.emptyDir = emptyDir
        }
    }

    public struct PersistentVolumeClaimVolumeSource: Codable, Sendable, Equatable {
        public var claimName: String
        public var readOnly: Bool?

        public init(claimName: String, readOnly: Bool? = nil) {
            self.claimName = claimName
            self.readOnly = readOnly
        }
    }

    public struct SecretVolumeSource: Codable, Sendable, Equatable {
        public var secretName: String?
        public var defaultMode: Int?
        public var optional: Bool?

        public init(secretName: String? = nil, defaultMode: Int? = nil, optional: Bool? = nil) {
            self.secretName = secretName
            self.defaultMode = defaultMode
            self.optional = optional
        }
    }

    public struct EmptyDirVolumeSource: Codable, Sendable, Equatable {
        public var medium: String?
        public var sizeLimit: String?

        public init(medium: String? = nil, sizeLimit: String? = nil) {
            self.medium = medium
            self.sizeLimit = sizeLimit
        }
    }
}
