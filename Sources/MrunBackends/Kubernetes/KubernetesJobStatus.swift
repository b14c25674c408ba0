import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// An experiment's Job as `mrun status` and `mrun list` show it: mrun's state, derived from the
/// Job's conditions and its newest pod (phase, container state, exit code).
public struct KubernetesJobStatus: Sendable, Equatable {
    public var name: String
    public var namespace: String
    /// Never ``JobState/unknown``: a Job that exists tells its state.
    public var state: JobState
    /// Why it is in that state: `ContainerCreating`, `ImagePullBackOff`, `Unschedulable`,
    /// `BackoffLimitExceeded`, `OOMKilled`…
    public var reason: String?
    public var message: String?
    public var exitCode: Int?
    public var signal: Int?
    /// The newest pod of the Job.
    public var pod: String?
    /// The experiment's container in it: `main`, as the built-in template names it, else the first.
    public var container: String?
    /// The pod's container has started (its log can be read).
    public var containerStarted: Bool
    /// The pod's container has ended.
    public var containerEnded: Bool
    public var created: Date?
    public var started: Date?
    public var finished: Date?
    public var image: String?
    public var command: String?
    public var sweep: String?
    /// A gang's nodes (an Indexed Job's indexes), each with its newest pod's phase:
    /// `0 Running, 1 Pending`; nil for a Job of one pod.
    public var nodes: String?
    /// For a point of a sweep run as one Indexed Job: its completion index, whose pods alone tell
    /// its state.
    public var point: Int?

    /// The container mrun's Job runs, as the built-in template names it.
    static let containerName = "main"

    public init(job: Kubernetes.Job, pods: [Kubernetes.Pod], point: Int? = nil) {
        name = job.metadata.name ?? ""
        namespace = job.metadata.namespace ?? ""
        self.point = point
        // A gang's log and state are those of its node 0 (rank 0); `nodes` has every node's. A
        // point's are those of its own index.
        let rankZero = job.isIndexed ? pods.filter { Kubernetes.CompletionIndex.of($0) == point ?? 0 } : pods
        let newest = Self.newest(rankZero.isEmpty && point == nil ? pods : rankZero)
        nodes = job.isIndexed && point == nil ? Self.nodes(of: pods, count: job.spec?.completions ?? 0) : nil
        pod = newest?.metadata.name
        let names = newest?.spec?.containers.map(\.name) ?? []
        let chosen = names.contains(Self.containerName) ? Self.containerName : names.first
        self.container = chosen
        let container = newest.flatMap { pod in chosen.flatMap { pod.containerStatus($0) } }
        let terminated = container?.state?.terminated
        containerStarted = container?.state?.running != nil || terminated != nil
        containerEnded = terminated != nil
        exitCode = terminated?.exitCode
        signal = terminated?.signal
        created = job.metadata.creationTimestamp.flatMap(Kubernetes.date)
        let jobStart = point == nil ? job.status?.startTime : nil
        started = (jobStart ?? newest?.status?.startTime).flatMap(Kubernetes.date)
        image = job.spec?.template.spec?.containers.first?.image
        command = job.metadata.annotations?["mrun/command"]
        sweep = job.metadata.labels?["mrun/sweep"]
        state = .submitted
        let status = job.status
        if let point {
            derivePoint(point, job: job, newest: newest, container: container)
        } else if job.metadata.deletionTimestamp != nil {
            state = .cancelled
            reason = "being deleted"
        } else if let complete = status?.condition("Complete") {
            state = .completed
            finished = (status?.completionTime ?? complete.lastTransitionTime).flatMap(Kubernetes.date)
        } else if let failure = status?.condition("Failed") {
            state = .failed
            let containerReason = terminated?.reason.flatMap { ["Error", "Completed"].contains($0) ? nil : $0 }
            reason = containerReason ?? failure.reason
            message = failure.message
            finished = failure.lastTransitionTime.flatMap(Kubernetes.date)
        } else if let newest {
            derive(from: newest, container: container, backoffLimit: job.spec?.backoffLimit ?? 6)
        } else if status?.condition("Suspended") != nil {
            reason = "Suspended"
        }
        if state.isFinal, finished == nil, let end = terminated?.finishedAt { finished = Kubernetes.date(from: end) }
    }

    /// The state of one index of an Indexed Job: succeeded or given up, as the Job's status says,
    /// else from its newest pod; waiting for a slot while it has none.
    private mutating func derivePoint(
        _ point: Int, job: Kubernetes.Job, newest: Kubernetes.Pod?, container: Kubernetes.ContainerStatus?
    ) {
        let status = job.status
        let terminated = container?.state?.terminated
        if status?.completedIndexSet.contains(point) == true || newest?.status?.phase == .succeeded {
            state = .completed
        } else if status?.failedIndexSet.contains(point) == true {
            state = .failed
            reason = terminated?.reason.flatMap { ["Error", "Completed"].contains($0) ? nil : $0 }
        } else if job.metadata.deletionTimestamp != nil {
            state = .cancelled
            reason = "being deleted"
        } else if let failure = status?.condition("Failed") {
            state = newest == nil ? .cancelled : .failed
            reason = failure.reason
            message = failure.message
        } else if let newest {
            derive(
                from: newest, container: container,
                backoffLimit: job.spec?.backoffLimitPerIndex ?? job.spec?.backoffLimit ?? 6)
        } else {
            let parallelism = job.spec?.parallelism ?? 1
            reason = "waiting for one of the Job's \(parallelism) slot\(parallelism == 1 ? "" : "s")"
        }
        if state.isFinal { finished = terminated?.finishedAt.flatMap(Kubernetes.date) }
    }

    /// The state of a Job still without a final condition, from its newest pod.
    private mutating func derive(
        from pod: Kubernetes.Pod, container: Kubernetes.ContainerStatus?, backoffLimit: Int
    ) {
        let waiting = container?.state?.waiting
        switch pod.status?.phase {
        case .running?:
            state = .running
            reason = waiting?.reason
        case .succeeded?:
            state = .completed
        case .failed?:
            // The Job makes another pod unless its retries are used up.
            state = backoffLimit == 0 ? .failed : .submitted
            reason = backoffLimit == 0 ? (pod.status?.reason ?? "Error") : "retrying after a failed pod"
            message = pod.status?.message
        default:
            state = .submitted
            let unscheduled = pod.status?.conditions?.first { $0.type == "PodScheduled" && $0.status == "False" }
            reason = waiting?.reason ?? unscheduled?.reason ?? (pod.spec?.nodeName == nil ? "not scheduled yet" : nil)
            message = waiting?.message ?? unscheduled?.message
        }
        if let end = container?.state?.terminated?.finishedAt, state.isFinal { finished = Kubernetes.date(from: end) }
    }

    /// The state in the words mrun shows for Kubernetes: a Job not running yet is `PENDING`, as
    /// its pod's phase says.
    public var shownState: String { state == .submitted ? "PENDING" : state.rawValue.uppercased() }

    /// `FAILED (BackoffLimitExceeded), exit code 3`, `PENDING (ImagePullBackOff)`.
    public var stateDescription: String {
        var text = shownState
        if let reason { text += " (\(reason))" }
        guard state == .completed || state == .failed else { return text }
        if let exitCode, signal == nil || exitCode != 0 { text += ", exit code \(exitCode)" }
        if let signal { text += ", signal \(signal)" }
        return text
    }

    /// From the start until the end, or until `now` while it runs.
    public func duration(now: Date) -> TimeInterval? {
        guard let started else { return nil }
        return max(0, (finished ?? (state.isFinal ? started : now)).timeIntervalSince(started))
    }

    /// `mrun status` output: one `Label  value` line each.
    public func statusText(now: Date = Date()) -> String {
        let place = point.map { ", completion index \($0)" } ?? ""
        var rows = [("Job", "\(name)\(place) (namespace \(namespace))"), ("State", stateDescription)]
        if let message, !message.isEmpty { rows.append(("Message", message)) }
        if let pod { rows.append(("Pod", pod)) }
        if let nodes { rows.append(("Nodes", nodes)) }
        if let sweep { rows.append(("Sweep", sweep)) }
        if let command { rows.append(("Command", command)) }
        if let image { rows.append(("Image", image)) }
        if let created {
            rows.append(("Created", "\(created.formatted(.iso8601)) (\(Self.age(now.timeIntervalSince(created))) ago)"))
        }
        if let duration = duration(now: now) { rows.append(("Duration", Self.age(duration))) }
        return rows.map { $0.0.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
    }

    /// `mrun list --all`: a header and one line per Job.
    public static func table(_ jobs: [KubernetesJobStatus], now: Date = Date()) -> String {
        backendJobs(jobs, now: now).table
    }

    /// The Jobs with their state, exit code, age and duration at `now`.
    public static func backendJobs(_ jobs: [KubernetesJobStatus], now: Date = Date()) -> BackendJobList {
        BackendJobList(
            columns: ["NAME", "STATE", "EXIT", "AGE", "DURATION"],
            jobs: jobs.map { job in
                BackendJob(
                    id: job.name, name: job.name, state: job.state,
                    cells: [
                        job.name, job.shownState, job.exitCode.map(String.init) ?? "-",
                        job.created.map { age(now.timeIntervalSince($0)) } ?? "-",
                        job.duration(now: now).map(age) ?? "-",
                    ])
            })
    }

    /// kubectl's short form: `45s`, `3m12s`, `2h5m`, `3d4h`.
    public static func age(_ interval: TimeInterval) -> String {
        let seconds = max(0, Int(interval))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m\(seconds % 60 == 0 ? "" : "\(seconds % 60)s")"
        case ..<86400: return "\(seconds / 3600)h\(seconds % 3600 / 60 == 0 ? "" : "\(seconds % 3600 / 60)m")"
        default: return "\(seconds / 86400)d\(seconds % 86400 / 3600 == 0 ? "" : "\(seconds % 86400 / 3600)h")"
        }
    }

    private static func newest(_ pods: [Kubernetes.Pod]) -> Kubernetes.Pod? {
        pods.max { date($0.metadata.creationTimestamp) < date($1.metadata.creationTimestamp) }
    }

    /// Each index's newest pod's phase, `0 Running, 1 Pending`; `no pod` for an index without one.
    private static func nodes(of pods: [Kubernetes.Pod], count: Int) -> String {
        let byIndex = Dictionary(grouping: pods) { Kubernetes.CompletionIndex.of($0) ?? -1 }
        return (0..<max(0, min(count, 1000))).map { index in
            let phase = newest(byIndex[index] ?? []).map { $0.status?.phase?.rawValue ?? "Pending" } ?? "no pod"
            return "\(index) \(phase)"
        }.joined(separator: ", ")
    }

    private static func date(_ timestamp: String?) -> Date {
        timestamp.flatMap(Kubernetes.date) ?? .distantPast
    }
}
