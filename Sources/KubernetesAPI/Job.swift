import MrunSupport

extension Kubernetes {
    /// A batch/v1 Job: one experiment run.
    public struct Job: KubernetesObject {
        public static let apiVersion = "batch/v1"
        public static let kind = "Job"
        public static let resource = "jobs"
        public static let isNamespaced = true

        public var apiVersion: String? = Self.apiVersion
        public var kind: String? = Self.kind
        public var metadata: ObjectMeta
        /// Optional only because watch BOOKMARK events carry a Job with nothing but metadata.
        public var spec: JobSpec?
        public var status: JobStatus?

        public init(
            apiVersion: String? = Self.apiVersion,
            kind: String? = Self.kind,
            metadata: ObjectMeta,
            spec: JobSpec? = nil,
            status: JobStatus? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.metadata = metadata
            self.spec = spec
            self.status = status
        }
    }

    /// mrun sets `backoffLimit` and `template`, and for a gang `completionMode: Indexed` with
    /// `completions` and `parallelism` both the number of nodes; the rest are the server's defaults,
    /// modelled so a fake server can echo them.
    public struct JobSpec: Codable, Sendable, Equatable {
        /// Pods running at once; defaulted to 1.
        public var parallelism: Int?
        /// Successful pods the Job needs (for an Indexed Job, its number of indexes). Defaulted to 1
        /// only when `parallelism` is unset too; an Indexed Job must set it.
        public var completions: Int?
        public var activeDeadlineSeconds: Int?
        /// Pod retries before the Job fails; mrun's default is 0 (one attempt).
        public var backoffLimit: Int?
        /// Set by the server to `controller-uid=<job uid>`.
        public var selector: SelectorSpec?
        public var manualSelector: Bool?
        public var template: PodTemplateSpec
        public var ttlSecondsAfterFinished: Int?
        /// `NonIndexed` (the default) or `Indexed` (``Kubernetes/CompletionMode``): each pod of an
        /// Indexed Job has an index from 0 to `completions - 1`, its hostname `<job>-<index>`.
        public var completionMode: String?
        public var suspend: Bool?
        /// An Indexed Job's retries per index (servers from v1.29; older ones drop the field): an
        /// index that fails more often is given up (`status.failedIndexes`) while the others go on.
        public var backoffLimitPerIndex: Int?

        public init(
            parallelism: Int? = nil,
            completions: Int? = nil,
            activeDeadlineSeconds: Int? = nil,
            backoffLimit: Int? = nil,
            selector: SelectorSpec? = nil,
            manualSelector: Bool? = nil,
            template: PodTemplateSpec,
            ttlSecondsAfterFinished: Int? = nil,
            completionMode: String? = nil,
            suspend: Bool? = nil,
            backoffLimitPerIndex: Int? = nil
        ) {
            self.parallelism = parallelism
            self.completions = completions
            self.activeDeadlineSeconds = activeDeadlineSeconds
            self.backoffLimit = backoffLimit
            self.selector = selector
            self.manualSelector = manualSelector
            self.template = template
            self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
            self.completionMode = completionMode
            self.suspend = suspend
            self.backoffLimitPerIndex = backoffLimitPerIndex
        }
    }

    /// The status goes `{}` → active → (briefly) only `uncountedTerminatedPods` → a `Complete` or
    /// `Failed` condition; `phase` folds that into one value.
    public struct JobStatus: Codable, Sendable, Equatable {
        public var conditions: [JobCondition]?
        public var startTime: String?
        /// Only on success.
        public var completionTime: String?
        public var active: Int?
        public var succeeded: Int?
        public var failed: Int?
        /// Pods that finished but are not yet counted in `succeeded`/`failed`.
        public var uncountedTerminatedPods: UncountedTerminatedPods?
        public var ready: Int?
        /// An Indexed Job's succeeded indexes, as the server writes them: `"0-2,5"`
        /// (``Kubernetes/CompletionIndexes`` reads it).
        public var completedIndexes: String?
        /// The indexes given up after `backoffLimitPerIndex` retries, in the same form.
        public var failedIndexes: String?

        public init(
            conditions: [JobCondition]? = nil,
            startTime: String? = nil,
            completionTime: String? = nil,
            active: Int? = nil,
            succeeded: Int? = nil,
            failed: Int? = nil,
            uncountedTerminatedPods: UncountedTerminatedPods? = nil,
            ready: Int? = nil,
            completedIndexes: String? = nil
        ) {
            self.conditions = conditions
            self.startTime = startTime
            self.completionTime = completionTime
            self.active = active
            self.succeeded = succeeded
            self.failed = failed
            self.uncountedTerminatedPods = uncountedTerminatedPods
            self.ready = ready
            self.completedIndexes = completedIndexes
        }
    }

    public struct JobCondition: Codable, Sendable, Equatable {
        /// `Complete`, `Failed`, `Suspended`, `FailureTarget`.
        public var type: String
        /// `"True"`, `"False"` or `"Unknown"`: a string in the API.
        public var status: String
        public var lastProbeTime: String?
        public var lastTransitionTime: String?
        /// `BackoffLimitExceeded`, `DeadlineExceeded`…
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

    public struct UncountedTerminatedPods: Codable, Sendable, Equatable {
        /// Pod UIDs.
        public var succeeded: [String]?
        public var failed: [String]?

        public init(succeeded: [String]? = nil, failed: [String]? = nil) {
            self.succeeded = succeeded
            self.failed = failed
        }
    }

    /// Where a Job is in its life, derived from its status.
    public enum JobPhase: String, Sendable, Equatable {
        /// No pod has started yet (status `{}`).
        case pending
        /// A pod exists or has just finished and is not yet counted.
        case active
        case succeeded
        case failed
    }

    /// The API's structured selector (`matchLabels`, `matchExpressions`), as in `Job.spec.selector`.
    public struct SelectorSpec: Codable, Sendable, Equatable {
        public var matchLabels: [String: String]?
        public var matchExpressions: [SelectorRequirement]?

        public init(matchLabels: [String: String]? = nil, matchExpressions: [SelectorRequirement]? = nil) {
            self.matchLabels = matchLabels
            self.matchExpressions = matchExpressions
        }
    }

    public struct SelectorRequirement: Codable, Sendable, Equatable {
        public var key: String
        /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
        public var `operator`: String
        public var values: [String]?

        public init(key: String, operator: String, values: [String]? = nil) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }
}

extension Kubernetes.JobStatus {
    /// The condition of that type whose status is `"True"`.
    public func condition(_ type: String) -> Kubernetes.JobCondition? {
        conditions?.first { $0.type == type && $0.status == "True" }
    }

    /// Terminal only on a `Complete` or `Failed` condition: between the pod's end and the
    /// condition there is a moment with no `active` count at all, which is still `active` here.
    public var phase: Kubernetes.JobPhase {
        if condition("Complete") != nil { return .succeeded }
        if condition("Failed") != nil { return .failed }
        let uncounted = (uncountedTerminatedPods?.succeeded?.count ?? 0) + (uncountedTerminatedPods?.failed?.count ?? 0)
        if (active ?? 0) > 0 || uncounted > 0 || startTime != nil { return .active }
        return .pending
    }
}

extension Kubernetes.Job {
    public var phase: Kubernetes.JobPhase { status?.phase ?? .pending }
}

extension Kubernetes.SelectorSpec {
    /// The same selection as a query-string selector; unknown operators make it match nothing,
    /// as the API server would refuse them.
    public var labelSelector: Kubernetes.LabelSelector {
        var requirements = (matchLabels ?? [:]).sorted { $0.key < $1.key }.map {
            Kubernetes.LabelSelector.Requirement(key: $0.key, operator: .equals, values: [$0.value])
        }
        for expression in matchExpressions ?? [] {
            let values = expression.values ?? []
            switch expression.operator {
            case "In": requirements.append(.init(key: expression.key, operator: .in, values: values))
            case "NotIn": requirements.append(.init(key: expression.key, operator: .notIn, values: values))
            case "Exists": requirements.append(.init(key: expression.key, operator: .exists, values: []))
            case "DoesNotExist":
                requirements.append(.init(key: expression.key, operator: .doesNotExist, values: []))
            default: requirements.append(.init(key: expression.key, operator: .in, values: []))
            }
        }
        return Kubernetes.LabelSelector(requirements: requirements)
    }
}
