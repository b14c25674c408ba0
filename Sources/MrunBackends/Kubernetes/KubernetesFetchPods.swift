import Synchronization
import Foundation
import MrunSupport
import MrunConfig
import MrunHistory
import KubernetesAPI

/// The fetch pods of one `mrun fetch`: each made, awaited, read and remembered for deletion.
final class FetchPods: Sendable {
    let transport: KubernetesOutputTransport
    let client: KubernetesClient
    let namespace: String
    let directory: String
    private let made = Mutex<[String]>([])

    init(transport: KubernetesOutputTransport, client: KubernetesClient, namespace: String, directory: String) {
        self.transport = transport
        self.client = client
        self.namespace = namespace
        self.directory = directory
    }

    /// What one pod printed: the listing (first part only; nil when the directory is missing),
    /// its bytes of the tar, and the whole tar's size.
    struct Part {
        var pod: String
        var entries: [OutputEntry]?
        var data: [UInt8]
        var tarSize: Int
    }

    func run(skip: Int, paths: [String]) async throws -> Part {
        let launch = transport.launch
        guard let tag = launch.imageTag else { throw KubernetesFetchError.noImage(launch: launch.id) }
        let image = launch.imageDigest.map { "\(tag)@\($0)" } ?? tag
        let name = "mrun-fetch-\(UUID().uuidString.prefix(8).lowercased())"
        let storage = transport.context.storage ?? KubernetesSettings.defaultStorage
        let container = Kubernetes.Container(
            name: "fetch", image: image,
            command: [transport.context.pythonCommand, "-c", KubernetesFetchScript.source],
            args: [directory, String(skip), String(transport.partBytes)] + paths,
            volumeMounts: [.init(name: "storage", mountPath: storage, readOnly: true)], imagePullPolicy: "IfNotPresent")
        var metadata = Kubernetes.ObjectMeta(name: name)
        metadata.labels = ["app.kubernetes.io/managed-by": "mrun", "mrun/fetch": launch.id]
        let pod = Kubernetes.Pod(
            metadata: metadata,
            spec: Kubernetes.PodSpec(
                containers: [container],
                volumes: [.init(name: "storage", persistentVolumeClaim: .init(claimName: KubernetesPlanner.claimName))],
                restartPolicy: "Never", activeDeadlineSeconds: Int(transport.patience.components.seconds)))
        made.withLock { $0.append(name) }
        _ = try await client.create(pod, namespace: namespace)
        try await awaitEnd(name)
        var log = Data()
        for try await chunk in client.podLog(name: name, namespace: namespace) { log.append(chunk) }
        return try Self.parse(String(decoding: log, as: UTF8.self), pod: name)
    }

    private func awaitEnd(_ name: String) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: transport.patience)
        let startBy = clock.now.advanced(by: .seconds(180))
        while clock.now < deadline {
            let pod = try await client.get(Kubernetes.Pod.self, name: name, namespace: namespace)
            switch pod.status?.phase {
            case .succeeded?: return
            case .failed?:
                let state = pod.containerStatus()?.state?.terminated
                throw KubernetesFetchError.podFailed(
                    pod: name,
                    detail: state.map { "exit code \($0.exitCode)\($0.message.map { ": \($0)" } ?? "")" } ?? "")
            default:
                if clock.now > startBy, let waiting = pod.containerStatus()?.state?.waiting?.reason {
                    throw KubernetesFetchError.podStuck(pod: name, reason: waiting)
                }
            }
            try await Task.sleep(for: transport.pollInterval)
        }
        throw KubernetesFetchError.podStuck(pod: name, reason: "not ended after \(transport.patience)")
    }

    /// Deletes every pod this fetch made (best effort; each has a deadline anyway).
    func deleteAll() async {
        let names = made.withLock { $0 }
        await Task {
            for name in names {
                _ = try? await client.delete(Kubernetes.Pod.self, name: name, namespace: namespace)
            }
        }.value
    }

    private struct Listed: Decodable {
        var path: String
        var kind: String
        var size: Int
        var mtime: Double
        var target: String?
    }

    static func parse(_ log: String, pod: String) throws -> Part {
        var entries: [OutputEntry]?
        var base64 = ""
        var size: Int?
        var ended = false
        for line in log.split(separator: "\n", omittingEmptySubsequences: true) {
            if line == "mrun-missing" { return Part(pod: pod, entries: nil, data: [], tarSize: 0) }
            if line.hasPrefix("mrun-list ") {
                let listed = try JSONDecoder().decode([Listed].self, from: Data(line.dropFirst(10).utf8))
                entries = listed.map { entry in
                    let kind: OutputEntry.Kind =
                        switch entry.kind {
                        case "file": .file
                        case "directory": .directory
                        case "symlink": .symlink
                        default: .other
                        }
                    return OutputEntry(
                        path: entry.path, kind: kind, size: entry.size,
                        modified: Date(timeIntervalSince1970: entry.mtime), target: entry.target)
                }
            } else if line.hasPrefix("mrun-size ") {
                size = Int(line.dropFirst(10))
            } else if line == "mrun-end" {
                ended = true
            } else {
                base64 += line
            }
        }
        guard ended, let size, let data = Data(base64Encoded: base64) else { throw KubernetesFetchError.cut(pod: pod) }
        return Part(pod: pod, entries: entries ?? [], data: [UInt8](data), tarSize: size)
    }
}
