import FakeKubernetes
import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// `mrun rm`: a launch's traces on its backend go after its output is saved; the history keeps it,
/// hidden from `list` unless `--removed`; a launch that runs needs `--force`.
@Suite struct RemoveCommandTests {
    @Test func aLocalLaunchsRunDirectoryGoesAndItsOutputStays() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print('bye')\n", to: "exp.py")
        let run = try await CLI.run(["--context", "local", "run", "exp.py"], sandbox: sandbox)
        #expect(run.status == 0, "\(run.standardError)")
        let launch = try #require(try HistoryStore(home: sandbox.mrunHome).list().first)
        let directory = try #require(launch.runDirectory)
        #expect(FileManager.default.fileExists(atPath: directory))
        let rm = try await CLI.run(["rm", launch.id], sandbox: sandbox)
        #expect(rm.status == 0, "\(rm.standardError)")
        #expect(
            rm.standardOutput == "Removed launch \(launch.id) (\(launch.experimentName)): run directory \(directory)\n")
        #expect(!FileManager.default.fileExists(atPath: directory))
        let list = try await CLI.run(["list"], sandbox: sandbox)
        #expect(!list.standardOutput.contains(launch.id), "\(list.standardOutput)")
        let all = try await CLI.run(["list", "--removed"], sandbox: sandbox)
        #expect(all.standardOutput.contains(launch.id))
        let logs = try await CLI.run(["logs", launch.id], sandbox: sandbox)
        #expect(logs.standardOutput == "bye\n", "\(logs.standardError)")
        let again = try await CLI.run(["rm", launch.id], sandbox: sandbox)
        #expect(again.standardOutput.hasSuffix("nothing was left on its backend\n"), "\(again.standardOutput)")
    }

    @Test func aRunningKubernetesJobNeedsForceAndTheNamespaceStays() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let recorder = try project.recorder()
            let plan = try project.plan()
            #expect(await project.run(plan, recorder: recorder).status == 0)
            let name = plan.experiment.name
            let pod = try await server.controller.createPod(forJob: name, namespace: "proj")
            try await server.controller.start(pod: try #require(pod.metadata.name), namespace: "proj")
            try await server.controller.log(pod: try #require(pod.metadata.name), namespace: "proj", "working\n")
            let launch = try #require(try recorder.store.list().first)
            func mrun(_ arguments: [String]) async throws -> CLIResult {
                try await CLI.run(arguments, sandbox: project.sandbox, environment: project.variables)
            }
            let refused = try await mrun(["rm", launch.id])
            #expect(refused.status == 1)
            #expect(
                refused.standardError.contains("is RUNNING: cancel it first, or pass --force"),
                "\(refused.standardError)")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").count == 1, "left alone")
            let forced = try await mrun(["rm", "--force", launch.id])
            #expect(forced.status == 0, "\(forced.standardError)")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").isEmpty)
            #expect(await server.controller.all(Kubernetes.Namespace.self).contains { $0.metadata.name == "proj" })
            #expect(await server.controller.all(Kubernetes.PersistentVolumeClaim.self, namespace: "proj").count == 1)
            let logs = try await mrun(["logs", launch.id])
            #expect(logs.standardOutput == "working\n", "\(logs.standardError)")
        }
    }
}
