import Foundation

import KubernetesAPI
import MrunSupport

/// The Job controller's work for an Indexed Job (`completionMode: Indexed`), a gang's shape: one
/// pod per index, named `<job>-<index>-<random>` with the index as annotation and label and the
/// hostname `<job>-<index>` (the template's `subdomain` kept), a failed index retried with a new
/// pod until the Job's failures pass `backoffLimit` (or, as servers from v1.29 do, the index's
/// own pass `backoffLimitPerIndex`: it is then given up, in `failedIndexes`, and the others go on),
/// the next indexes started as pods end when `parallelism` is below `completions`, and the Job
/// complete once every index has succeeded (`completedIndexes` like `0-2`). Each finished pod goes through the uncounted state
/// first, as for NonIndexed Jobs.
extension FakeKubernetesCluster {
    /// Pods for every index without one, as many as `parallelism` allows; all of them for a gang
    /// (`parallelism == completions`).
    @discardableResult
    package func createIndexedPods(forJob jobName: String, namespace: String) throws(FakeAPIError) -> [Kubernetes.Pod] {
        let job = try get(Kubernetes.Job.self, namespace: namespace, name: jobName)
        guard job.isIndexed else { throw .badRequest("Job \(jobName) is not Indexed") }
        let room = max(0, (job.spec?.parallelism ?? 1) - activePods(of: job).count)
        var pods: [Kubernetes.Pod] = []
        for index in pendingIndexes(of: job).prefix(room) {
            pods.append(try createPod(forJob: jobName, index: index, namespace: namespace))
        }
        return pods
    }

    /// The pod of one index, Pending and unscheduled.
    @discardableResult
    package func createPod(forJob jobName: String, index: Int, namespace: String) throws(FakeAPIError)
        -> Kubernetes.Pod
    {
        var job = try get(Kubernetes.Job.self, namespace: namespace, name: jobName)
        let completions = job.spec?.completions ?? 0
        guard job.isIndexed, (0..<completions).contains(index) else {
            throw .badRequest("Job \(jobName) has no completion index \(index)")
        }
        let template = job.spec?.template
        let marker = [Kubernetes.CompletionIndex.annotation: String(index)]
        var metadata = Kubernetes.ObjectMeta(
            generateName: "\(jobName)-\(index)-",
            labels: (template?.metadata?.labels ?? [:]).merging(marker) { $1 },
            annotations: (template?.metadata?.annotations ?? [:]).merging(marker) { $1 })
        metadata.ownerReferences = [
            .init(
                apiVersion: Kubernetes.Job.apiVersion, kind: Kubernetes.Job.kind, name: jobName,
                uid: job.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
        ]
        metadata.finalizers = ["batch.kubernetes.io/job-tracking"]
        var spec = template?.spec ?? Kubernetes.PodSpec(containers: [])
        spec.hostname = Kubernetes.CompletionIndex.hostname(job: jobName, index: index)
        let pod = try create(Kubernetes.Pod(metadata: metadata, spec: spec), namespace: namespace)
        var status = job.status ?? Kubernetes.JobStatus()
        status.startTime = status.startTime ?? Self.timestamp()
        status.active = activePods(of: job).count
        status.ready = readyCount(of: job)
        status.uncountedTerminatedPods = status.uncountedTerminatedPods ?? .init()
        job.status = status
        update(job)
        return pod
    }

    /// A whole gang: every index's pod made and started, `lines` written to each, then each
    /// finished in index order with its exit code in `exitCodes` (0 when absent).
    @discardableResult
    package func runIndexed(
        job name: String, namespace: String, lines: [String] = [], exitCodes: [Int: Int] = [:]
    ) throws(FakeAPIError) -> [Kubernetes.Pod] {
        let pods = try createIndexedPods(forJob: name, namespace: namespace)
        let names = pods.compactMap(\.metadata.name)
        for pod in names { try start(pod: pod, namespace: namespace) }
        for pod in names {
            for line in lines { try log(pod: pod, namespace: namespace, line + "\n") }
        }
        for (pod, made) in zip(names, pods) {
            let index = Kubernetes.CompletionIndex.of(made) ?? 0
            try finish(pod: pod, namespace: namespace, exitCode: exitCodes[index] ?? 0)
        }
        return names.compactMap { try? get(Kubernetes.Pod.self, namespace: namespace, name: $0) }
    }

    /// Indexes that have neither succeeded nor a pod still running, lowest first.
    func pendingIndexes(of job: Kubernetes.Job) -> [Int] {
        let taken = Set(activePods(of: job).compactMap(Kubernetes.CompletionIndex.of))
        let done = (job.status?.completedIndexSet ?? []).union(job.status?.failedIndexSet ?? [])
        return (0..<(job.spec?.completions ?? 0)).filter { !taken.contains($0) && !done.contains($0) }
    }

    func readyCount(of job: Kubernetes.Job) -> Int {
        activePods(of: job).filter { $0.status?.phase == .running }.count
    }

    /// An index's pod ended: counted, retried when it failed within the backoff limit, and the
    /// Job ended when all indexes succeeded or the failures passed the limit (its other pods are
    /// then deleted, as the controller does).
    func finishIndex(of pod: Kubernetes.Pod, job: Kubernetes.Job, exitCode: Int) throws(FakeAPIError) {
        var job = job
        let uid = pod.metadata.uid ?? ""
        let succeeded = exitCode == 0
        var status = job.status ?? Kubernetes.JobStatus()
        status.active = nonZero(activePods(of: job).count)
        status.ready = readyCount(of: job)
        status.uncountedTerminatedPods = succeeded ? .init(succeeded: [uid]) : .init(failed: [uid])
        job.status = status
        update(job)

        let now = Self.timestamp()
        status.uncountedTerminatedPods = .init()
        let index = Kubernetes.CompletionIndex.of(pod)
        if succeeded, let index {
            let completed = status.completedIndexSet.union([index])
            status.completedIndexes = Kubernetes.CompletionIndexes.format(completed)
            status.succeeded = completed.count
        } else if !succeeded {
            status.failed = (status.failed ?? 0) + 1
            if let index, let perIndex = job.spec?.backoffLimitPerIndex, failures(of: index, in: job) > perIndex {
                status.failedIndexes = Kubernetes.CompletionIndexes.format(status.failedIndexSet.union([index]))
            }
        }
        let completions = job.spec?.completions ?? 0
        let ended = status.completedIndexSet.union(status.failedIndexSet)
        if status.completedIndexSet.count == completions {
            status.conditions = [
                .init(type: "Complete", status: "True", lastProbeTime: now, lastTransitionTime: now)
            ]
            status.completionTime = now
        } else if ended.count == completions {
            // Every index succeeded or was given up (backoffLimitPerIndex), some of them given up.
            status.conditions = [
                .init(
                    type: "Failed", status: "True", lastProbeTime: now, lastTransitionTime: now,
                    reason: "FailedIndexes", message: "Job has failed indexes")
            ]
        } else if (status.failed ?? 0) > (job.spec?.backoffLimit ?? 6) {
            status.conditions = [
                .init(
                    type: "Failed", status: "True", lastProbeTime: now, lastTransitionTime: now,
                    reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit")
            ]
            for other in activePods(of: job) { remove(other) }
            status.active = nil
            status.ready = 0
        }
        job.status = status
        update(job)
        // A failed index is retried and, with a parallelism below the completions, the next
        // indexes start as slots free up, as the controller does.
        if status.conditions == nil {
            try createIndexedPods(forJob: job.metadata.name ?? "", namespace: job.metadata.namespace ?? "")
        }
    }

    /// The failed pods of one index.
    private func failures(of index: Int, in job: Kubernetes.Job) -> Int {
        pods(ofJob: job.metadata.name ?? "", namespace: job.metadata.namespace ?? "").filter { pod in
            Kubernetes.CompletionIndex.of(pod) == index && pod.status?.phase == .failed
                && pod.metadata.ownerReferences?.contains { $0.uid == job.metadata.uid } == true
        }.count
    }

    private func activePods(of job: Kubernetes.Job) -> [Kubernetes.Pod] {
        pods(ofJob: job.metadata.name ?? "", namespace: job.metadata.namespace ?? "").filter { pod in
            pod.status?.phase != .succeeded && pod.status?.phase != .failed
                && pod.metadata.ownerReferences?.contains { $0.uid == job.metadata.uid } == true
        }
    }

    private func nonZero(_ count: Int) -> Int? { count == 0 ? nil : count }
}
