import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// `mrun logs` on Kubernetes: the log of the Job's newest pod (found by its `job-name` label).
extension KubernetesJobs {
    /// Writes the job's log to `sink`'s standard output and mrun's notes to its standard error.
    /// With `follow`, waits for a pod that has not started yet ("waiting for the pod to start"),
    /// then prints the log as it is written until the container ends; a stream the server closes
    /// early is reopened without repeating what was printed. Returns the job's state at the end.
    public func logs(_ job: String, follow: Bool, sink: any OutputSink) async throws -> KubernetesJobStatus {
        try await logs(of: try await resolve(job), follow: follow, sink: sink, closingNote: true)
    }

    /// The log of `job`; with `closingNote`, a last note says there is no output yet, or (following)
    /// the final state.
    public func logs(
        of job: Kubernetes.Job, point: Int? = nil, follow: Bool, sink: any OutputSink, closingNote: Bool
    ) async throws -> KubernetesJobStatus {
        let finish = { (status: KubernetesJobStatus) async -> KubernetesJobStatus in
            closingNote ? await self.ending(status, follow: follow, sink: sink) : status
        }
        var status = try await status(of: job, point: point)
        var lastWait: String?
        var printed: (pod: String, bytes: Int)?
        while true {
            guard let pod = status.pod, status.containerStarted else {
                if status.state.isFinal || !follow { return await finish(status) }
                let why = status.reason.map { " (\($0))" } ?? ""
                if lastWait != why {
                    await note("mrun: waiting for the pod of job \(status.name) to start\(why)", sink: sink)
                    lastWait = why
                }
                try await Task.sleep(for: pollInterval)
                status = try await refreshed(status)
                continue
            }
            if let previous = printed?.pod, previous != pod {
                await note("mrun: job \(status.name) started another pod, \(pod)", sink: sink)
            }
            let skip = printed?.pod == pod ? printed?.bytes ?? 0 : 0
            let live = follow && !status.containerEnded
            let outcome = try await stream(pod: pod, of: status, follow: live, skip: skip, sink: sink)
            printed = (pod, skip + outcome.written)
            if !follow { return await finish(status) }
            if outcome.notStarted == nil {
                // The follow ended: the container ended, or the server closed the stream.
                status = try await refreshed(status)
                if status.containerEnded && status.pod == pod {
                    // Lines written in the container's last moment, after the follow ended.
                    let rest = try await stream(
                        pod: pod, of: status, follow: false, skip: skip + outcome.written, sink: sink)
                    printed = (pod, skip + outcome.written + rest.written)
                    if status.state.isFinal { return await finish(status) }
                }
            }
            try await Task.sleep(for: pollInterval)
            status = try await refreshed(status)
        }
    }

    private struct StreamOutcome {
        var written: Int
        /// Why there was no log yet: 204 (unscheduled) or 400 (container waiting).
        var notStarted: String?
    }

    /// Copies the container's log to `sink`, leaving out its first `skip` bytes.
    private func stream(
        pod: String, of status: KubernetesJobStatus, follow: Bool, skip: Int, sink: any OutputSink
    ) async throws -> StreamOutcome {
        var toSkip = skip
        var written = 0
        do {
            let chunks = client.podLog(
                name: pod, namespace: status.namespace, container: status.container, follow: follow)
            for try await chunk in chunks {
                var bytes = [UInt8](chunk)
                if toSkip > 0 {
                    let dropped = min(toSkip, bytes.count)
                    bytes.removeFirst(dropped)
                    toSkip -= dropped
                }
                guard !bytes.isEmpty else { continue }
                written += bytes.count
                await sink.standardOutput(bytes)
            }
        } catch let error as KubernetesClientError where error.kind == .logNotAvailableYet {
            return StreamOutcome(written: written, notStarted: "not scheduled yet")
        } catch let error as KubernetesError where error.statusCode == 400 && written == 0 && isWaiting(error) {
            return StreamOutcome(written: written, notStarted: error.status?.message ?? "waiting to start")
        } catch let error as KubernetesClientError where follow && error.isTransient && written > 0 {
            // The follow broke mid-way; the caller reopens it.
        }
        return StreamOutcome(written: written, notStarted: nil)
    }

    private func isWaiting(_ error: KubernetesError) -> Bool {
        let message = error.status?.message ?? ""
        return message.contains("waiting to start") || message.contains("ContainerCreating")
            || message.contains("PodInitializing")
    }

    /// The closing note: no output yet, or (following) the final state.
    private func ending(_ status: KubernetesJobStatus, follow: Bool, sink: any OutputSink) async
        -> KubernetesJobStatus
    {
        if !status.containerStarted && !status.state.isFinal {
            await note(
                "mrun: job \(status.name) is \(status.stateDescription): no output yet;"
                    + " follow it with 'mrun logs \(status.name) -f'", sink: sink)
        } else if follow || !status.containerStarted {
            await note("mrun: job \(status.name) \(status.stateDescription)", sink: sink)
        }
        return status
    }

    private func note(_ text: String, sink: any OutputSink) async {
        await sink.standardError(Array((text + "\n").utf8))
    }
}
