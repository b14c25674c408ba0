import Foundation
import MrunSupport
import MrunConfig
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A launch's outputs from the project's volume: a short-lived pod of the launch's own image
/// mounts the claim and prints a tar of the output directory, base64, to its log, which mrun
/// reads through the API (no kubectl) and unpacks here. Every pod is deleted afterwards, also
/// when the fetch fails or is interrupted (SIGINT, SIGTERM).
struct KubernetesOutputTransport: OutputTransport {
    var context: Context
    var launch: LaunchRecord
    var host: HostEnvironment
    var http: KubernetesHTTPClient
    var runner: any InputProcessRunning
    var options = KubernetesClient.Options()
    var pollInterval: Duration = .milliseconds(200)
    /// Raw bytes per pod: 8 MiB of base64, under the kubelet's default 10 MiB log.
    var partBytes = 6 << 20
    /// How long a pod may take to end (its activeDeadlineSeconds too).
    var patience: Duration = .seconds(600)
    /// Whether SIGINT and SIGTERM are taken over while pods exist: mrun's process, not a test's.
    var watchesInterrupts = true

    func fetch(_ directory: String, _ request: FetchRequest, sink: any OutputSink) async throws -> FetchReport {
        let paths = try request.paths.map { path throws(FetchError) in try FetchRules.normalized(path) }
        let jobs = try await KubernetesJobs.connect(
            context: context, host: host, http: http, options: options, sink: sink, warn: { _ in },
            namespace: KubernetesJobControl.namespace(of: launch))
        let pods = FetchPods(transport: self, client: jobs.client, namespace: jobs.namespace, directory: directory)
        let work = Task { try await copy(pods, paths: paths, request, sink: sink) }
        let interrupt = watchesInterrupts ? InterruptWatch { work.cancel() } : nil
        defer { interrupt?.stop() }
        do {
            let report = try await work.value
            await pods.deleteAll()
            return report
        } catch {
            await pods.deleteAll()
            if interrupt?.fired == true { throw FetchError.interrupted }
            throw error
        }
    }

    private func copy(_ pods: FetchPods, paths: [String], _ request: FetchRequest, sink: any OutputSink)
        async throws -> FetchReport
    {
        let first = try await pods.run(skip: 0, paths: paths)
        guard let entries = first.entries else {
            throw FetchError.nothingWritten(launch: launch.id, directory: pods.directory)
        }
        let chosen = try FetchRules.select(entries, paths: request.paths, launch: launch.id)
        try FetchRules.checkNewer(chosen, destination: request.destination, force: request.force)
        var tar = first.data
        if first.tarSize > tar.count {
            await sink.standardError(
                Array(
                    "mrun: fetching \(RsyncTransport.size(first.tarSize)) in parts of \(RsyncTransport.size(partBytes))\n"
                        .utf8))
        }
        while tar.count < first.tarSize {
            let part = try await pods.run(skip: tar.count, paths: paths)
            guard !part.data.isEmpty else { throw KubernetesFetchError.cut(pod: part.pod) }
            tar += part.data
            await sink.standardError(
                Array("\rmrun: \(RsyncTransport.size(tar.count)) of \(RsyncTransport.size(first.tarSize))".utf8))
        }
        if first.tarSize > first.data.count { await sink.standardError(Array("\n".utf8)) }
        try FileManager.default.createDirectory(at: request.destination, withIntermediateDirectories: true)
        // -p keeps the modes; GNU tar keeps the times and refuses members that leave the directory.
        let unpacked = try await runner.run(
            ["tar", "-x", "-p", "--no-same-owner", "-f", "-", "-C", request.destination.path], input: tar,
            environment: host.variables, workingDirectory: nil)
        guard unpacked.status.succeeded else {
            throw FetchError.transferFailed(
                tool: "tar", detail: CodeShipper.lastLine(unpacked.standardError, status: unpacked.status))
        }
        let files = chosen.filter { $0.kind == .file }
        return FetchReport(
            files: files.count, bytes: files.reduce(0) { $0 + $1.size }, destination: request.destination)
    }
}

enum KubernetesFetchError: Error, CustomStringConvertible {
    case noImage(launch: String)
    case podFailed(pod: String, detail: String)
    case podStuck(pod: String, reason: String)
    case cut(pod: String)

    var description: String {
        switch self {
        case .noImage(let launch):
            return "launch \(launch) has no image recorded, which the fetch pod needs; it never ran on the cluster"
        case .podFailed(let pod, let detail): return "the fetch pod \(pod) failed: \(detail)"
        case .podStuck(let pod, let reason):
            return "the fetch pod \(pod) did not start (\(reason)); is the launch's image still in the registry?"
        case .cut(let pod):
            return "the log of fetch pod \(pod) was cut short (the kubelet keeps a limited log); try again"
        }
    }
}
