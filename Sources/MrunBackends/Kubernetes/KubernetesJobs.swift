import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Following and controlling experiments on a Kubernetes context: `status`, `logs`, `cancel`,
/// `list`. A job is named by its Job name, a unique prefix of it, or `NAMESPACE/NAME`; without a
/// namespace it is looked for where `mrun run` from here would put it (the context's `namespace`,
/// else the project's), then, where the user may list them, in every namespace.
public struct KubernetesJobs: Sendable {
    public static let managedBySelector: Kubernetes.LabelSelector = [.equals("app.kubernetes.io/managed-by", "mrun")]

    public var context: Context
    public var client: KubernetesClient
    /// Where jobs are looked for and listed.
    public var namespace: String
    /// Pause between checks while waiting for a pod to start or a cancelled job's pods to go.
    public var pollInterval: Duration = .milliseconds(500)
    public var cancelTimeout: Duration = .seconds(60)

    public init(context: Context, client: KubernetesClient, namespace: String) {
        self.context = context
        self.client = client
        self.namespace = namespace
    }

    /// Connects to the context's cluster (printing a TLS warning to `sink` when the kubeconfig
    /// asks to skip verification); jobs are looked for in `namespace`, by default the one `mrun run`
    /// from here would use.
    public static func connect(
        context: Context, host: HostEnvironment, http: KubernetesHTTPClient,
        options: KubernetesClient.Options = KubernetesClient.Options(), sink: any OutputSink,
        warn: @escaping @Sendable (String) -> Void, namespace: String? = nil
    ) async throws -> KubernetesJobs {
        guard context.type == .kubernetes else {
            throw KubernetesBackendError.notKubernetesContext(name: context.name, type: context.type)
        }
        let client = try await KubernetesSetup.connect(
            kubeContext: context.kubernetes.kubeContext, host: host, http: http, options: options, sink: sink,
            warn: warn)
        return KubernetesJobs(
            context: context, client: client, namespace: try namespace ?? defaultNamespace(context: context, host: host)
        )
    }

    /// The namespace `mrun run` from this directory would use without `--project`.
    public static func defaultNamespace(context: Context, host: HostEnvironment) throws -> String {
        if let namespace = context.kubernetes.namespace { return namespace }
        let fromNeptune = host.variables["NEPTUNE_PROJECT"].flatMap { $0.split(separator: "/").last.map(String.init) }
        let project = fromNeptune ?? context.project ?? host.currentDirectory.standardizedFileURL.lastPathComponent
        return try Naming.namespace(forProject: project)
    }

    // MARK: - Commands

    public func status(_ job: String) async throws -> KubernetesJobStatus {
        let found = try await resolve(job)
        return try await status(of: found)
    }

    /// mrun's jobs in the namespace (every Job there with `all`), oldest first.
    public func list(all: Bool = false) async throws -> [KubernetesJobStatus] {
        try await list(in: namespace, all: all)
    }

    /// The jobs of `namespace`, each with its pods: two requests, whatever their number.
    public func list(in namespace: String, all: Bool = false) async throws -> [KubernetesJobStatus] {
        let found = try await objects(in: namespace, all: all)
        return found.jobs.values.map { job in
            KubernetesJobStatus(job: job, pods: found.pods[job.metadata.name ?? ""] ?? [])
        }.sorted { ($0.created ?? .distantPast, $0.name) < ($1.created ?? .distantPast, $1.name) }
    }

    /// The Jobs of `namespace` by name and their pods by Job name (mrun's, or every one with
    /// `all`): two requests, whatever their number.
    public func objects(in namespace: String, all: Bool = false) async throws
        -> (jobs: [String: Kubernetes.Job], pods: [String: [Kubernetes.Pod]])
    {
        let selector: Kubernetes.LabelSelector = all ? [] : Self.managedBySelector
        let jobs = try await client.listJobs(namespace: namespace, labelSelector: selector).items
        let pods = try await client.listPods(namespace: namespace, labelSelector: selector).items
        return (
            Dictionary(jobs.map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { $1 }),
            Dictionary(grouping: pods) { $0.metadata.labels?["job-name"] ?? "" }
        )
    }

    /// What `cancel` did.
    public struct Cancellation: Sendable {
        public var before: KubernetesJobStatus
        /// False when the job had already ended and was left alone.
        public var deleted: Bool
        /// Pods still terminating when mrun stopped waiting.
        public var podsLeft: [String]

        public var summary: String {
            let job = "\(before.name) (namespace \(before.namespace))"
            guard deleted else { return "Job \(job) had already ended: \(before.stateDescription); left as it is\n" }
            let pods =
                podsLeft.isEmpty
                ? "" : "; pod \(podsLeft.joined(separator: ", ")) is still terminating, the cluster removes it"
            return "Cancelled job \(job): it was \(before.stateDescription), now deleted with its pods\(pods)\n"
        }
    }

    /// Deletes the Job with its pods (propagation Background) and waits until the pods are gone,
    /// up to ``cancelTimeout``. A job that has already ended is left alone, so its log stays.
    public func cancel(_ job: String) async throws -> Cancellation {
        try await cancel(try await resolve(job))
    }

    public func cancel(_ job: Kubernetes.Job) async throws -> Cancellation {
        let before = try await status(of: job)
        if before.state.isFinal { return Cancellation(before: before, deleted: false, podsLeft: []) }
        let left = try await delete(before.name, namespace: before.namespace)
        return Cancellation(before: before, deleted: true, podsLeft: left)
    }

    /// Deletes the Job with its pods (propagation Background) and waits until the pods are gone,
    /// up to ``cancelTimeout``; returns the pods still terminating then.
    func delete(_ name: String, namespace: String) async throws -> [String] {
        try await client.deleteJob(name, namespace: namespace, propagationPolicy: .background)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: cancelTimeout)
        var left = try await pods(of: name, namespace: namespace)
        while !left.isEmpty && clock.now < deadline {
            try await Task.sleep(for: pollInterval)
            left = try await pods(of: name, namespace: namespace)
        }
        return left.compactMap(\.metadata.name)
    }

    // MARK: - Finding jobs

    /// The Job `job` names: `NAMESPACE/NAME`, an exact name, else a unique prefix, in the namespace,
    /// else (where the user may list them) in any namespace.
    public func resolve(_ job: String) async throws -> Kubernetes.Job {
        var namespace = self.namespace
        var name = job
        if let slash = job.firstIndex(of: "/") {
            namespace = String(job[..<slash])
            name = String(job[job.index(after: slash)...])
        }
        do {
            return try await client.getJob(name, namespace: namespace)
        } catch let error as KubernetesError where error.statusCode == 404 {
            // A missing namespace is also 404: then only other namespaces can hold it.
        }
        let here = try? await client.listJobs(namespace: namespace, labelSelector: Self.managedBySelector).items
        if let match = try pick(name, from: here ?? [], namespace: namespace, qualified: false) { return match }
        guard !job.contains("/") else {
            throw KubernetesBackendError.unknownJob(name: name, namespace: namespace, searchedAllNamespaces: false)
        }
        let everywhere: [Kubernetes.Job]
        do {
            everywhere = try await client.listJobs(namespace: nil, labelSelector: Self.managedBySelector).items
        } catch let error as KubernetesError where error.statusCode == 403 {
            throw KubernetesBackendError.unknownJob(name: name, namespace: namespace, searchedAllNamespaces: false)
        }
        if let match = try pick(name, from: everywhere, namespace: namespace, qualified: true) { return match }
        throw KubernetesBackendError.unknownJob(name: name, namespace: namespace, searchedAllNamespaces: true)
    }

    private func pick(_ name: String, from jobs: [Kubernetes.Job], namespace: String, qualified: Bool) throws
        -> Kubernetes.Job?
    {
        let exact = jobs.filter { $0.metadata.name == name }
        let matches = exact.isEmpty ? jobs.filter { ($0.metadata.name ?? "").hasPrefix(name) } : exact
        guard matches.count <= 1 else {
            let names = matches.map { job in
                let jobName = job.metadata.name ?? ""
                return qualified ? "\(job.metadata.namespace ?? "")/\(jobName)" : jobName
            }
            throw KubernetesBackendError.ambiguousJob(prefix: name, namespace: namespace, candidates: names.sorted())
        }
        return matches.first
    }

    /// The Job's state, or with `point`, that of one of its completion indexes (a point of a
    /// sweep run as one Indexed Job).
    func status(of job: Kubernetes.Job, point: Int? = nil) async throws -> KubernetesJobStatus {
        let name = job.metadata.name ?? ""
        let namespace = job.metadata.namespace ?? self.namespace
        return KubernetesJobStatus(job: job, pods: try await pods(of: name, namespace: namespace), point: point)
    }

    /// The current Job and its pods.
    func refreshed(_ status: KubernetesJobStatus) async throws -> KubernetesJobStatus {
        do {
            let job = try await client.getJob(status.name, namespace: status.namespace)
            return try await self.status(of: job, point: status.point)
        } catch let error as KubernetesError where error.statusCode == 404 {
            var gone = status
            gone.state = .cancelled
            gone.reason = "deleted"
            return gone
        }
    }

    func pods(of job: String, namespace: String) async throws -> [Kubernetes.Pod] {
        try await client.listPods(namespace: namespace, labelSelector: [.equals("job-name", job)]).items
    }
}
