import Foundation

import KubernetesAPI
import MrunSupport

/// The parts of the Job controller, scheduler and kubelet that tests script: make a Job's pod,
/// move it Pending → (waiting) → Running → Succeeded/Failed with log lines, and update the Job's
/// status the way the recorded watch (fixture 61) shows it.
extension FakeKubernetesCluster {
    /// Runs `hook` (in its own task) for every Job created from now on, e.g. to start its pod.
    package func onJobCreated(_ hook: (@Sendable (Kubernetes.Job) async -> Void)?) {
        jobCreatedHook = hook
    }

    /// Runs `hook` (in its own task) for every pod created through the API from now on, as a
    /// kubelet would run its containers.
    package func onPodCreated(_ hook: (@Sendable (Kubernetes.Pod) async -> Void)?) {
        podCreatedHook = hook
    }

    /// Creates the Job's pod (Pending, unscheduled) and marks the Job active; for an Indexed Job,
    /// the pod of its lowest index that has neither succeeded nor a pod running.
    @discardableResult
    package func createPod(forJob jobName: String, namespace: String) throws(FakeAPIError) -> Kubernetes.Pod {
        var job = try get(Kubernetes.Job.self, namespace: namespace, name: jobName)
        if job.isIndexed {
            guard let index = pendingIndexes(of: job).first else {
                throw .badRequest("every index of Job \(jobName) has succeeded or has a pod")
            }
            return try createPod(forJob: jobName, index: index, namespace: namespace)
        }
        let template = job.spec?.template
        var metadata = Kubernetes.ObjectMeta(
            generateName: "\(jobName)-", labels: template?.metadata?.labels,
            annotations: template?.metadata?.annotations)
        metadata.ownerReferences = [
            .init(
                apiVersion: Kubernetes.Job.apiVersion, kind: Kubernetes.Job.kind, name: jobName,
                uid: job.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
        ]
        metadata.finalizers = ["batch.kubernetes.io/job-tracking"]
        let spec = template?.spec ?? Kubernetes.PodSpec(containers: [])
        let pod = try create(Kubernetes.Pod(metadata: metadata, spec: spec), namespace: namespace)
        job.status = Kubernetes.JobStatus(
            startTime: Self.timestamp(), active: 1, uncountedTerminatedPods: .init(), ready: 0)
        update(job)
        return pod
    }

    /// Binds the pod to a node with its containers still waiting (`ContainerCreating`): its log
    /// answers 400 until it starts.
    package func schedule(pod name: String, namespace: String, waitingReason: String = "ContainerCreating")
        throws(FakeAPIError)
    {
        var pod = try get(Kubernetes.Pod.self, namespace: namespace, name: name)
        pod.spec?.nodeName = "fake-node"
        pod.status?.hostIP = "127.0.0.1"
        pod.status?.startTime = Self.timestamp()
        let statuses = containerStatuses(of: pod, state: .init(waiting: .init(reason: waitingReason)))
        pod.status?.containerStatuses = statuses
        update(pod)
    }

    /// The containers run: phase Running, and the Job counts the pod as ready.
    package func start(pod name: String, namespace: String) throws(FakeAPIError) {
        var pod = try get(Kubernetes.Pod.self, namespace: namespace, name: name)
        let now = Self.timestamp()
        pod.spec?.nodeName = "fake-node"
        pod.status?.phase = .running
        pod.status?.hostIP = "127.0.0.1"
        pod.status?.podIP = "10.244.0.\(Int.random(in: 2..<250))"
        let startTime = pod.status?.startTime ?? now
        pod.status?.startTime = startTime
        let statuses = containerStatuses(of: pod, state: .init(running: .init(startedAt: now)))
        pod.status?.containerStatuses = statuses
        update(pod)
        if var job = try? owningJob(of: pod) {
            let ready = job.isIndexed ? readyCount(of: job) : 1
            job.status?.ready = ready
            update(job)
        }
    }

    /// Writes to a container's log; followers receive it at once as one chunk.
    package func log(pod name: String, namespace: String, container: String? = nil, _ text: String) throws(FakeAPIError)
    {
        let pod = try get(Kubernetes.Pod.self, namespace: namespace, name: name)
        let chosen = container ?? pod.spec?.containers.first?.name ?? ""
        appendLog(pod: name, namespace: namespace, container: chosen, text)
    }

    /// The containers exit with `exitCode`: the pod becomes Succeeded or Failed, follow streams
    /// end, and the Job passes through the uncounted state to Complete or Failed (BackoffLimitExceeded).
    package func finish(pod name: String, namespace: String, exitCode: Int = 0) throws(FakeAPIError) {
        var pod = try get(Kubernetes.Pod.self, namespace: namespace, name: name)
        let now = Self.timestamp()
        let started = pod.containerStatus()?.state?.running?.startedAt ?? now
        let terminated = Kubernetes.ContainerStateTerminated(
            exitCode: exitCode, reason: exitCode == 0 ? "Completed" : "Error", startedAt: started, finishedAt: now)
        pod.status?.phase = exitCode == 0 ? .succeeded : .failed
        let statuses = containerStatuses(of: pod, state: .init(terminated: terminated))
        pod.status?.containerStatuses = statuses
        pod.metadata.finalizers = nil
        update(pod)
        for container in pod.spec?.containers ?? [] {
            endFollowers(pod: name, namespace: namespace, container: container.name)
        }
        guard var job = try? owningJob(of: pod) else { return }
        if job.isIndexed { return try finishIndex(of: pod, job: job, exitCode: exitCode) }
        let uid = pod.metadata.uid ?? ""
        let startTime = job.status?.startTime
        let uncounted =
            exitCode == 0 ? Kubernetes.UncountedTerminatedPods(succeeded: [uid]) : .init(failed: [uid])
        job.status = Kubernetes.JobStatus(startTime: startTime, uncountedTerminatedPods: uncounted, ready: 0)
        update(job)
        let condition =
            exitCode == 0
            ? Kubernetes.JobCondition(type: "Complete", status: "True", lastProbeTime: now, lastTransitionTime: now)
            : Kubernetes.JobCondition(
                type: "Failed", status: "True", lastProbeTime: now, lastTransitionTime: now,
                reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit")
        job.status = Kubernetes.JobStatus(
            conditions: [condition], startTime: startTime, completionTime: exitCode == 0 ? now : nil,
            succeeded: exitCode == 0 ? 1 : nil, failed: exitCode == 0 ? nil : 1,
            uncountedTerminatedPods: .init(), ready: 0)
        update(job)
    }

    /// A whole run: pod, start, `lines` (each one log line), exit.
    @discardableResult
    package func run(job name: String, namespace: String, lines: [String] = [], exitCode: Int = 0) throws(FakeAPIError)
        -> Kubernetes.Pod
    {
        let pod = try createPod(forJob: name, namespace: namespace)
        let podName = pod.metadata.name ?? ""
        try start(pod: podName, namespace: namespace)
        for line in lines { try log(pod: podName, namespace: namespace, line + "\n") }
        try finish(pod: podName, namespace: namespace, exitCode: exitCode)
        return try get(Kubernetes.Pod.self, namespace: namespace, name: podName)
    }

    package func pods(ofJob name: String, namespace: String) -> [Kubernetes.Pod] {
        list(Kubernetes.Pod.self, namespace: namespace, selector: [.equals("job-name", name)]).items
    }

    func owningJob(of pod: Kubernetes.Pod) throws(FakeAPIError) -> Kubernetes.Job {
        guard let owner = pod.metadata.ownerReferences?.first(where: { $0.kind == Kubernetes.Job.kind }) else {
            throw .badRequest("pod \(pod.metadata.name ?? "") has no owning Job")
        }
        return try get(Kubernetes.Job.self, namespace: pod.metadata.namespace, name: owner.name)
    }

    func containerStatuses(of pod: Kubernetes.Pod, state: Kubernetes.ContainerState)
        -> [Kubernetes.ContainerStatus]
    {
        let running = state.running != nil
        return (pod.spec?.containers ?? []).map { container in
            Kubernetes.ContainerStatus(
                name: container.name, state: state, lastState: .init(), ready: running, restartCount: 0,
                image: container.image, imageID: state.waiting == nil ? "fake://\(container.image ?? "")" : "",
                containerID: state.waiting == nil ? "fake://\(pod.metadata.uid ?? "")/\(container.name)" : nil,
                started: running)
        }
    }
}
