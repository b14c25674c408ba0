import FakeKubernetes
import Foundation
import Subprocess
import Testing

@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunHistory
@testable import MrunSupport

/// `mrun fetch` on Kubernetes: a short-lived pod of the launch's image mounts the project's claim
/// and prints a tar through the log API. The fake API server plays the kubelet: it runs each
/// fetch pod's command (the real Python program) with a directory here standing for the claim.
@Suite struct KubernetesFetchTests {
    /// Runs every fetch pod created through the API, `/storage` being `claim` here.
    static func kubelet(_ server: FakeKubernetesServer, claim: URL) async {
        await server.controller.onPodCreated { pod in
            guard let name = pod.metadata.name, let namespace = pod.metadata.namespace,
                let container = pod.spec?.containers.first
            else { return }
            let args = (container.args ?? []).map { $0.replacingOccurrences(of: "/storage", with: claim.path) }
            let ran = try? await SystemProcessRunner().run(
                (container.command ?? []) + args, environment: ProcessInfo.processInfo.environment,
                workingDirectory: nil)
            try? await server.controller.start(pod: name, namespace: namespace)
            try? await server.controller.log(pod: name, namespace: namespace, ran?.standardOutput ?? "")
            try? await server.controller.finish(
                pod: name, namespace: namespace, exitCode: ran?.status == .exited(0) ? 0 : 1)
        }
    }

    /// A launch on the fake cluster and its output directory on the stand-in claim.
    static func launched(_ project: KubernetesProject) async throws -> (LaunchRecord, URL) {
        try project.sandbox.store.add(project.context)
        let recorder = try project.recorder()
        let plan = try project.plan()
        #expect(await project.run(plan, recorder: recorder).status == 0)
        let launch = try #require(try recorder.store.list().first)
        let output = project.sandbox.root.appendingPathComponent("claim/proj/outputs/\(launch.experimentName)")
        try FileManager.default.createDirectory(
            at: output.appendingPathComponent("results"), withIntermediateDirectories: true)
        return (launch, output)
    }

    @Test func theOutputsComeThroughAPodThatIsDeletedAfterwards() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let (launch, output) = try await Self.launched(project)
            await Self.kubelet(server, claim: project.sandbox.root.appendingPathComponent("claim"))
            try Data("#!/bin/sh\n".utf8).write(to: output.appendingPathComponent("run.sh"))
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o755, .modificationDate: Date(timeIntervalSince1970: 1_700_000_000)],
                ofItemAtPath: output.appendingPathComponent("run.sh").path)
            try Data("{}".utf8).write(to: output.appendingPathComponent("results/metrics.json"))
            try FileManager.default.createSymbolicLink(
                atPath: output.appendingPathComponent("latest").path, withDestinationPath: "results/metrics.json")

            let fetched = try await CLI.run(
                ["fetch", launch.id], sandbox: project.sandbox, environment: project.variables)
            #expect(fetched.status == 0, "\(fetched.standardError)")
            let local = project.sandbox.project.appendingPathComponent("outputs/\(launch.experimentName)")
            let script = try FileManager.default.attributesOfItem(atPath: local.appendingPathComponent("run.sh").path)
            #expect((script[.posixPermissions] as? Int) == 0o755)
            #expect((script[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_700_000_000)
            #expect(
                try FileManager.default.destinationOfSymbolicLink(atPath: local.appendingPathComponent("latest").path)
                    == "results/metrics.json")
            let created = server.createBodies("pods").map { String(decoding: $0, as: UTF8.self) }
            #expect(created.count == 1 && created[0].contains("\"mrun-storage\""), "one pod, mounting the claim")
            #expect(created.first?.contains(launch.imageTag ?? "no tag") == true, "the launch's own image")
            let left = try await server.controller.list(Kubernetes.Pod.self, namespace: "proj", selector: []).items
                .filter {
                    $0.metadata.labels?["mrun/fetch"] != nil
                }
            #expect(left.isEmpty, "the fetch pod is deleted: \(left.map { $0.metadata.name ?? "" })")

            try FileManager.default.createSymbolicLink(
                atPath: output.appendingPathComponent("results/leak").path, withDestinationPath: "/etc/passwd")
            let refused = try await CLI.run(
                ["fetch", launch.id, "results"], sandbox: project.sandbox, environment: project.variables)
            #expect(refused.status != 0 && refused.standardError.contains("'results/leak' is a symlink out"))
            let after = try await server.controller.list(Kubernetes.Pod.self, namespace: "proj", selector: []).items
                .filter {
                    $0.metadata.labels?["mrun/fetch"] != nil
                }
            #expect(after.isEmpty, "deleted after a refusal too")
        }
    }

    @Test func aLargeTarComesInPartsOnePodEach() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let (launch, output) = try await Self.launched(project)
            await Self.kubelet(server, claim: project.sandbox.root.appendingPathComponent("claim"))
            let bytes = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
            try Data(bytes).write(to: output.appendingPathComponent("results/weights.bin"))
            let http = KubernetesHTTPClient()
            var transport = KubernetesOutputTransport(
                context: project.context, launch: launch, host: project.host, http: http, runner: SystemProcessRunner())
            transport.partBytes = 4096
            // In-process: the test runner's signals stay its own.
            transport.watchesInterrupts = false
            transport.options = .fast()
            let destination = project.sandbox.root.appendingPathComponent("here")
            let report = try await transport.fetch(
                "/storage/proj/outputs/\(launch.experimentName)", FetchRequest(destination: destination),
                sink: RecordingSink())
            try await http.shutdown()
            #expect(report.files == 1 && report.bytes == 20_000)
            #expect(try Data(contentsOf: destination.appendingPathComponent("results/weights.bin")) == Data(bytes))
            let pods = server.createBodies("pods").count
            #expect(pods >= 6, "a tar of over 20 kB in parts of 4 kB: \(pods) pods")
            let left = try await server.controller.list(Kubernetes.Pod.self, namespace: "proj", selector: []).items
            #expect(left.allSatisfy { $0.metadata.labels?["mrun/fetch"] == nil }, "every part's pod is deleted")
        }
    }

    /// Ctrl-C while the pod has not ended: mrun deletes it, then exits 130.
    @Test func anInterruptedFetchDeletesItsPod() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let (launch, _) = try await Self.launched(project)
            let binary = try CLI.binary
            let outcome = try await Subprocess.run(
                .path(.init(binary.path)), arguments: ["fetch", launch.id],
                environment: .custom(
                    Dictionary(
                        uniqueKeysWithValues: project.sandbox.environment(project.variables).map {
                            (Environment.Key(stringLiteral: $0.key), $0.value)
                        })),
                workingDirectory: .init(project.sandbox.project.path), input: .none, output: .discarded,
                error: .string(limit: 1 << 16)
            ) { execution in
                // The pod never runs here: it stays Pending until mrun is interrupted.
                for _ in 0..<200 {
                    let pods = await server.controller.list(Kubernetes.Pod.self, namespace: "proj", selector: []).items
                    if pods.contains(where: { $0.metadata.labels?["mrun/fetch"] != nil }) { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                try execution.send(signal: .interrupt)
            }
            #expect(outcome.terminationStatus == .exited(130), "\(outcome.standardError)")
            #expect(outcome.standardError.contains("interrupted; the fetch pods were deleted"))
            let left = await server.controller.list(Kubernetes.Pod.self, namespace: "proj", selector: []).items
            #expect(left.allSatisfy { $0.metadata.labels?["mrun/fetch"] == nil }, "the pod is deleted")
            #expect(server.createBodies("pods").count == 1)
        }
    }
}
