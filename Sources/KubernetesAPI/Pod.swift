import MrunSupport

extension Kubernetes {
    /// A pod of an experiment's Job (labelled `job-name=<job>` plus the template's labels).
    public struct Pod: KubernetesObject {
        public static let apiVersion = "v1"
        public static let kind = "Pod"
        public static let resource = "pods"
        public static let isNamespaced = true

        public var apiVersion: String? = Self.apiVersion
        public var kind: String? = Self.kind
        public var metadata: ObjectMeta
        public var spec: PodSpec?
        public var status: PodStatus?

        public init(
            apiVersion: String? = Self.apiVersion,
            kind: String? = Self.kind,
            metadata: ObjectMeta,
            spec: PodSpec? = nil,
            status: PodStatus? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.metadata = metadata
            self.spec = spec
            self.status = status
        }
    }

    public struct PodStatus: Codable, Sendable, Equatable {
        public var phase: PodPhase?
        public var conditions: [PodCondition]?
        /// Why the pod as a whole failed, e.g. `Evicted`.
        public var reason: String?
        public var message: String?
        public var hostIP: String?
        public var podIP: String?
        public var startTime: String?
        /// Absent until the pod is bound to a node.
        public var containerStatuses: [ContainerStatus]?
        public var initContainerStatuses: [ContainerStatus]?
        public var qosClass: String?

        public init(
            phase: PodPhase? = nil,
            conditions: [PodCondition]? = nil,
            reason: String? = nil,
            message: String? = nil,
            hostIP: String? = nil,
            podIP: String? = nil,
            startTime: String? = nil,
            containerStatuses: [ContainerStatus]? = nil,
            initContainerStatuses: [ContainerStatus]? = nil,
            qosClass: String? = nil
        ) {
            self.phase = phase
            self.conditions = conditions
            self.reason = reason
            self.message = message
            self.hostIP = hostIP
            self.podIP = podIP
            self.startTime = startTime
            self.containerStatuses = containerStatuses
            self.initContainerStatuses = initContainerStatuses
            self.qosClass = qosClass
        }
    }

    /// An open set: a newer server may report a phase this version does not know.
    public struct PodPhase: RawRepresentable, Codable, Sendable, Hashable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let pending = PodPhase(rawValue: "Pending")
        public static let running = PodPhase(rawValue: "Running")
        public static let succeeded = PodPhase(rawValue: "Succeeded")
        public static let failed = PodPhase(rawValue: "Failed")
        public static let unknown = PodPhase(rawValue: "Unknown")
    }

    public struct PodCondition: Codable, Sendable, Equatable {
        /// `PodScheduled`, `Initialized`, `ContainersReady`, `Ready`.
        public var type: String
        public var status: String
        public var lastProbeTime: String?
        public var lastTransitionTime: String?
        /// `Unschedulable` on `PodScheduled` says why a pod stays Pending.
        public var reason: String?
        public var message: String?

        public init(
            type: String,
            status: String,
            lastProbeTime: String? = nil,
            lastTransitionTime: String? = nil,
            reason: String? = nil,
            message: String? = nil
        ) {
            self.type = type
            self.status = status
            self.lastProbeTime = lastProbeTime
            self.lastTransitionTime = lastTransitionTime
            self.reason = reason
            self.message = message
        }
    }

    public struct ContainerStatus: Codable, Sendable, Equatable {
        public var name: String
        public var state: ContainerState?
        /// The previous run's state, when the container was restarted.
        public var lastState: ContainerState?
        public var ready: Bool?
        public var restartCount: Int?
        public var image: String?
        public var imageID: String?
        public var containerID: String?
        public var started: Bool?

        public init(
            name: String,
            state: ContainerState? = nil,
            lastState: ContainerState? = nil,
            ready: Bool? = nil,
            restartCount: Int? = nil,
            image: String? = nil,
            imageID: String? = nil,
            containerID: String? = nil,
            started: Bool? = nil
        ) {
            self.name = name
            self.state = state
            self.lastState = lastState
            self.ready = ready
            self.restartCount = restartCount
            self.image = image
            self.imageID = imageID
            self.containerID = containerID
            self.started = started
        }
    }

    /// At most one of the three is set; `{}` (none) appears as `lastState` of a first run.
    public struct ContainerState: Codable, Sendable, Equatable {
        public var waiting: ContainerStateWaiting?
        public var running: ContainerStateRunning?
        public var terminated: ContainerStateTerminated?

        public init(
            waiting: ContainerStateWaiting? = nil,
            running: ContainerStateRunning? = nil,
            terminated: ContainerStateTerminated? = nil
        ) {
            self.waiting = waiting
            self.running = running
            self.terminated = terminated
        }
    }

    public struct ContainerStateWaiting: Codable, Sendable, Equatable {
        /// `ContainerCreating`, `ErrImagePull`, `ImagePullBackOff`, `CrashLoopBackOff`…
        public var reason: String?
        public var message: String?

        public init(reason: String? = nil, message: String? = nil) {
            self.reason = reason
            self.message = message
        }
    }

    public struct ContainerStateRunning: Codable, Sendable, Equatable {
        public var startedAt: String?

        public init(startedAt: String? = nil) {
            self.startedAt = startedAt
        }
    }

    public struct ContainerStateTerminated: Codable, Sendable, Equatable {
        public var exitCode: Int
        public var signal: Int?
        /// `Completed`, `Error`, `OOMKilled`…
        public var reason: String?
        public var message: String?
        public var startedAt: String?
        public var finishedAt: String?
        public var containerID: String?

        public init(
            exitCode: Int,
            signal: Int? = nil,
            reason: String? = nil,
            message: String? = nil,
            startedAt: String? = nil,
            finishedAt: String? = nil,
            containerID: String? = nil
        ) {
            self.exitCode = exitCode
            self.signal = signal
            self.reason = reason
            self.message = message
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.containerID = containerID
        }
    }
}

extension Kubernetes.Pod {
    /// The status of the named container, or of the only one when `name` is nil.
    public func containerStatus(_ name: String? = nil) -> Kubernetes.ContainerStatus? {
        guard let statuses = status?.containerStatuses else { return nil }
        if let name { return statuses.first { $0.name == name } }
        return statuses.count == 1 ? statuses.first : nil
    }
}
