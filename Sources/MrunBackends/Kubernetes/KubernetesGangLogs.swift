import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// `mrun logs` of a gang on Kubernetes: its pods' logs interleaved, each line prefixed with
/// `[node R] ` (R the pod's completion index, its node rank); one node's alone with `--node R`.
extension KubernetesJobs {
    /// Every node's log. Printed once, the lines are merged in the order the kubelet stamped them
    /// (`timestamps=true`); followed, each node's pod is followed at once and a line is printed as
    /// it arrives. Returns the gang's state (that of node 0) at the end.
    public func gangLogs(of job: Kubernetes.Job, follow: Bool, sink: any OutputSink) async throws
        -> KubernetesJobStatus
    {
        let nodes = max(0, min(job.spec?.completions ?? 0, 1000))
        if follow {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in 0..<nodes {
                    group.addTask {
                        let prefixed = PrefixedSink(base: sink, prefix: "[node \(node)] ", prefixesErrors: false)
                        _ = try await logs(of: job, point: node, follow: true, sink: prefixed, closingNote: false)
                        await prefixed.flush()
                    }
                }
                try await group.waitForAll()
            }
            return try await refreshed(try await status(of: job))
        }
        let name = job.metadata.name ?? ""
        let namespace = job.metadata.namespace ?? self.namespace
        let pods = try await pods(of: name, namespace: namespace)
        var lines: [(stamp: String, node: Int, order: Int, text: String)] = []
        for node in 0..<nodes {
            let status = KubernetesJobStatus(job: job, pods: pods, point: node)
            guard let pod = status.pod, status.containerStarted else { continue }
            var text = Data()
            do {
                for try await chunk in client.podLog(
                    name: pod, namespace: namespace, container: status.container, timestamps: true)
                {
                    text.append(chunk)
                }
            } catch let error as KubernetesClientError where error.kind == .logNotAvailableYet {
                continue
            }
            for (order, line) in String(decoding: text, as: UTF8.self).split(separator: "\n").enumerated() {
                // `2024-05-01T10:00:00.123456789Z text`: the stamp, then the line as written.
                let space = line.firstIndex(of: " ") ?? line.endIndex
                let rest = space < line.endIndex ? line[line.index(after: space)...] : ""
                lines.append((String(line[..<space]), node, order, String(rest)))
            }
        }
        lines.sort { ($0.stamp, $0.node, $0.order) < ($1.stamp, $1.node, $1.order) }
        let output = lines.map { "[node \($0.node)] \($0.text)\n" }.joined()
        if !output.isEmpty { await sink.standardOutput(Array(output.utf8)) }
        return KubernetesJobStatus(job: job, pods: pods)
    }
}
