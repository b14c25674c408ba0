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
    }

    /// mrun sets `backoffLimit` and `template`; the rest are the server's defaults, modelled so a
    /// fake server can echo them.
    public struct JobSpec: Codable, Sendable, Equatable {
        public var parallelism: Int?
        public var completions: Int?
        public var activeDeadlineSeconds: Int?
        /// Pod retries before the Job fails; mrun's default is 0 (one attempt).
        public var backoffLimit: Int?
        /// Set by the server to `controller-uid=<job uid>`.
        public var selector: SelectorSpec?
        public var manualSelector: Bool?
        public var template: PodTemplateSpec
        public var ttlSecondsAfterFinished: Int?
        public var completionMode: String?
        public var suspend: Bool?
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
    }

    public struct UncountedTerminatedPods: Codable, Sendable, Equatable {
        /// Pod UIDs.
        public var succeeded: [String]?
        public var failed: [String]?
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
    }

    public struct SelectorRequirement: Codable, Sendable, Equatable {
        public var key: String
        /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
        public var `operator`: String
        public var values: [String]?
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
