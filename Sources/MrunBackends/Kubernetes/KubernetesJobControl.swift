import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Launches on a Kubernetes context, by the Job names recorded at launch, in the namespace each
/// launch used (the context's `namespace` then, else its project), through the cluster's API.
public struct KubernetesJobControl: JobControl {
    public var context: Context
    public var host: HostEnvironment
    public var http: KubernetesHTTPClient
    public var options: KubernetesClient.Options
    /// Where the TLS warning of a kubeconfig that skips verification goes.
    public var sink: any OutputSink
    public var warn: @Sendable (String) -> Void
    /// Pause between checks while following a pod that has not started or waiting for a cancel.
    public var pollInterval: Duration = .milliseconds(500)

    public init(
        context: Context, host: HostEnvironment, http: KubernetesHTTPClient, sink: any OutputSink,
        warn: @escaping @Sendable (String) -> Void, options: KubernetesClient.Options = KubernetesClient.Options()
    ) {
        self.context = context
        self.host = host
        self.http = http
        self.sink = sink
        self.warn = warn
        self.options = options
    }

    /// Deleting a Job deletes its pods, and their logs with them.
    public var cancelRemovesOutput: Bool { true }

    /// The namespace a launch's Job went to.
    public static func namespace(of launch: LaunchRecord) -> String {
        launch.context.kubernetes.namespace ?? launch.project
    }

    /// One list of Jobs and one of pods per namespace, for every open launch there.
    public func refresh(_ launches: [LaunchRecord]) async throws -> [String: JobStatus] {
        let open = launches.filter { !$0.state.isFinal && $0.jobId != nil }
        guard !open.isEmpty else { return [:] }
        let jobs = try await connect()
        var statuses: [String: JobStatus] = [:]
        for (namespace, members) in Dictionary(grouping: open, by: Self.namespace) {
            let found = try await jobs.objects(in: namespace)
            for launch in members {
                guard let jobId = launch.jobId else { continue }
                let reference = KubernetesJobReference(jobId: jobId)
                statuses[launch.id] =
                    found.jobs[reference.name].map { job in
                        Self.status(
                            KubernetesJobStatus(
                                job: job, pods: found.pods[reference.name] ?? [], point: reference.index))
                    } ?? Self.gone(reference.name, namespace: namespace)
            }
        }
        return statuses
    }

    public func status(_ launch: LaunchRecord) async throws -> JobStatus {
        let (reference, namespace) = try job(of: launch)
        let name = reference.name
        let jobs = try await connect()
        do {
            let job = try await jobs.client.getJob(name, namespace: namespace)
            return Self.status(try await jobs.status(of: job, point: reference.index))
        } catch let error as KubernetesError where error.statusCode == 404 {
            return launch.state.isFinal ? JobStatus(recorded: launch) : Self.gone(name, namespace: namespace)
        }
    }

    public func logs(_ launch: LaunchRecord, follow: Bool, sink: any OutputSink) async throws -> JobStatus {
        let (reference, namespace) = try job(of: launch)
        let name = reference.name
        let jobs = try await connect()
        let job: Kubernetes.Job
        do {
            job = try await jobs.client.getJob(name, namespace: namespace)
        } catch let error as KubernetesError where error.statusCode == 404 {
            throw KubernetesBackendError.jobGone(name: name, namespace: namespace)
        }
        if job.isIndexed && reference.index == nil {
            return Self.status(try await jobs.gangLogs(of: job, follow: follow, sink: sink))
        }
        return Self.status(
            try await jobs.logs(of: job, point: reference.index, follow: follow, sink: sink, closingNote: false))
    }

    /// One node's log of a gang: the pods of its completion index.
    public func logs(_ launch: LaunchRecord, node: Int, follow: Bool, sink: any OutputSink) async throws -> JobStatus {
        let (reference, namespace) = try job(of: launch)
        let jobs = try await connect()
        let job: Kubernetes.Job
        do {
            job = try await jobs.client.getJob(reference.name, namespace: namespace)
        } catch let error as KubernetesError where error.statusCode == 404 {
            throw KubernetesBackendError.jobGone(name: reference.name, namespace: namespace)
        }
        let nodes = job.spec?.completions ?? 1
        guard job.isIndexed, reference.index == nil else {
            throw JobControlError.noNodeLogs(launch: launch.id, reason: "is not a gang (its Job runs one pod)")
        }
        guard node < nodes else {
            throw JobControlError.noNodeLogs(
                launch: launch.id, reason: "is a gang of \(nodes) nodes, numbered 0 to \(nodes - 1), not \(node)")
        }
        return Self.status(try await jobs.logs(of: job, point: node, follow: follow, sink: sink, closingNote: false))
    }

    public func cancel(_ launch: LaunchRecord) async throws -> (before: JobStatus, after: JobStatus) {
        let (reference, namespace) = try job(of: launch)
        let name = reference.name
        if reference.index != nil {
            // One point alone: only when it has ended (or its Job is gone) is there nothing to stop.
            let before = try await status(launch)
            guard before.state.isFinal || before.state == .unknown else {
                throw KubernetesBackendError.indexedPointCancel(
                    point: launch.experimentName, job: name, sweep: launch.sweepId ?? "")
            }
            return (before, before)
        }
        let jobs = try await connect()
        do {
            let cancellation = try await jobs.cancel(try await jobs.client.getJob(name, namespace: namespace))
            let before = Self.status(cancellation.before)
            guard cancellation.deleted else { return (before, before) }
            let left =
                cancellation.podsLeft.isEmpty
                ? "" : "; pod \(cancellation.podsLeft.joined(separator: ", ")) terminating"
            let after = JobStatus(
                state: .cancelled, exitCode: nil, summary: "CANCELLED (Job deleted with its pods\(left))",
                details: "Job        \(name) (namespace \(namespace))\nState      CANCELLED\n")
            return (before, after)
        } catch let error as KubernetesError where error.statusCode == 404 {
            let gone = launch.state.isFinal ? JobStatus(recorded: launch) : Self.gone(name, namespace: namespace)
            return (gone, gone)
        }
    }

    /// mrun's Jobs in the namespace `mrun run` from here would use (the context's `namespace`, else
    /// the project's), whether or not the history holds them.
    public func backendJobs() async throws -> BackendJobList? {
        let jobs = try await KubernetesJobs.connect(
            context: context, host: host, http: http, options: options, sink: sink, warn: warn)
        return KubernetesJobStatus.backendJobs(try await jobs.list())
    }

    // MARK: - Pieces

    func connect() async throws -> KubernetesJobs {
        var jobs = try await KubernetesJobs.connect(
            context: context, host: host, http: http, options: options, sink: sink, warn: warn,
            namespace: context.kubernetes.namespace ?? "default")
        jobs.pollInterval = pollInterval
        return jobs
    }

    func job(of launch: LaunchRecord) throws -> (reference: KubernetesJobReference, namespace: String) {
        guard let jobId = launch.jobId else {
            throw JobControlError.noJob(launch: launch.id, name: launch.experimentName)
        }
        return (KubernetesJobReference(jobId: jobId), Self.namespace(of: launch))
    }

    /// The history's view of a Job's state.
    public static func status(_ job: KubernetesJobStatus) -> JobStatus {
        var code: Int32?
        if job.state == .completed || job.state == .failed {
            if let signal = job.signal, job.exitCode ?? 0 == 0 {
                code = Int32(clamping: 128 + signal)
            } else {
                code = job.exitCode.map { Int32(clamping: $0) }
            }
        }
        return JobStatus(
            state: job.state, exitCode: code, summary: job.stateDescription, details: job.statusText(), name: job.name)
    }

    /// A launch whose Job no longer exists: deleted outside mrun, or removed by a TTL controller.
    static func gone(_ name: String, namespace: String) -> JobStatus {
        JobStatus(
            state: .unknown, exitCode: nil, summary: "UNKNOWN (Job \(name) no longer exists)",
            details: "Job        \(name) (namespace \(namespace))\nState      UNKNOWN (the Job no longer exists)\n")
    }
}
