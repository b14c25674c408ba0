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

/// Gangs on Kubernetes against the fake API server: an Indexed Job whose pods run mrun's starter,
/// and a headless Service named as the Job and owned by it.
@Suite struct KubernetesGangRunTests {
    func gangProject(_ server: FakeKubernetesServer) throws -> KubernetesProject {
        var project = try KubernetesProject(server: server)
        project.context.gang.nodes = 2
        project.context.gang.procsPerNode = 2
        return project
    }

    func variable(_ name: String, of container: Kubernetes.Container) -> String? {
        container.env?.first { $0.name == name }?.value
    }

    /// The gang's Job as the backend must make it.
    func expectGangJob(_ job: Kubernetes.Job, plan: ExperimentPlan) throws {
        let name = plan.experiment.name
        #expect(job.metadata.name == name)
        #expect(job.spec?.completionMode == Kubernetes.CompletionMode.indexed)
        #expect(job.spec?.completions == 2 && job.spec?.parallelism == 2)
        #expect(job.spec?.template.spec?.subdomain == name)
        let container = try #require(job.spec?.template.spec?.containers.first)
        let starter = try #require(plan.artefact(.gang)).content
        #expect(container.command == [plan.context.pythonCommand, "-c", starter])
        #expect(container.args == plan.experiment.args)
        #expect(variable("MASTER_ADDR", of: container) == "\(name)-0.\(name)")
        #expect(variable("MASTER_PORT", of: container) == "29500")
        #expect(variable("NNODES", of: container) == "2")
        #expect(variable("MRUN_NODE_RANK_FROM", of: container) == "JOB_COMPLETION_INDEX")
        #expect(container.env?.first { $0.name == "NEPTUNE_API_TOKEN" }?.value == nil, "through the Secret")
    }

    /// The gang's headless Service, named as its Job, selecting its pods, owned by it.
    func expectGangService(_ service: Kubernetes.Service, job: Kubernetes.Job) throws {
        let name = try #require(job.metadata.name)
        #expect(service.metadata.name == name)
        #expect(service.isHeadless)
        #expect(service.spec?.publishNotReadyAddresses == true)
        #expect(service.spec?.selector == ["job-name": name])
        let owner = try #require(service.metadata.ownerReferences?.first)
        #expect(owner.uid == job.metadata.uid && owner.kind == "Job" && owner.name == name && owner.controller == true)
    }

    @Test func aGangRunCreatesAnIndexedJobAndItsHeadlessServiceThatCancelRemoves() async throws {
        try await withFakeKubernetes { server in
            let project = try gangProject(server)
            let plan = try project.plan()
            #expect(plan.shape.isGang && plan.shape.worldSize == 4)
            let outcome = await project.run(plan)
            #expect(outcome.status == 0, "\(outcome.message)")
            let name = plan.experiment.name
            #expect(outcome.output == "Created job \(name) with its headless Service in namespace proj\n")

            let job = try await server.controller.get(Kubernetes.Job.self, namespace: "proj", name: name)
            try expectGangJob(job, plan: plan)
            let service = try await server.controller.get(Kubernetes.Service.self, namespace: "proj", name: name)
            try expectGangService(service, job: job)
            #expect(server.createBodies("services").count == 1)
            for body in server.createBodies("jobs") + server.createBodies("services") {
                #expect(!String(decoding: body, as: UTF8.self).contains(KubernetesProject.token))
            }
            // The Job controller's pods, one per index; only node 0's has started.
            let pods = try await server.controller.createIndexedPods(forJob: name, namespace: "proj")
            #expect(Set(pods.compactMap(\.spec?.hostname)) == ["\(name)-0", "\(name)-1"])
            let byHost = Dictionary(
                uniqueKeysWithValues: pods.map { ($0.spec?.hostname ?? "", $0.metadata.name ?? "") })
            let first = try #require(byHost["\(name)-0"])
            let second = try #require(byHost["\(name)-1"])
            try await server.controller.start(pod: first, namespace: "proj")
            try await server.controller.log(pod: first, namespace: "proj", "[rank 0] from node 0\n")
            try await server.controller.log(pod: second, namespace: "proj", "[rank 2] from node 1\n")

            let jobs = try project.jobs()
            let status = try await jobs.status(name)
            #expect(status.nodes == "0 Running, 1 Pending", "\(status)")
            #expect(status.statusText().contains("Nodes      0 Running, 1 Pending\n"))
            #expect(status.pod == first, "node 0's pod")
            let sink = RecordingSink()
            _ = try await jobs.logs(name, follow: false, sink: sink)
            let log = await sink.text(of: .output)
            #expect(log.contains("[rank 0] from node 0") && !log.contains("from node 1"), "\(log)")

            let cancelled = try await jobs.cancel(name)
            #expect(cancelled.deleted)
            let gone = await thrownError(KubernetesError.self) {
                _ = try await jobs.client.getService(name, namespace: "proj")
            }
            #expect(gone?.statusCode == 404, "the Service goes with its Job")
            #expect(await server.controller.all(Kubernetes.Service.self, namespace: "proj").isEmpty)
        }
    }

    @Test func aRunThatIsNoGangCreatesNoService() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let plan = try project.plan()
            #expect(!plan.shape.isGang)
            #expect(await project.run(plan).status == 0)
            let job = try await server.controller.get(
                Kubernetes.Job.self, namespace: "proj", name: plan.experiment.name)
            #expect(!job.isIndexed)
            let body = String(decoding: try #require(server.createBodies("jobs").first), as: UTF8.self)
            #expect(!body.contains("completionMode") && !body.contains("subdomain") && !body.contains("MASTER_ADDR"))
            #expect(job.spec?.template.spec?.subdomain == nil)
            #expect(server.createBodies("services").isEmpty)
            #expect(await server.controller.all(Kubernetes.Service.self).isEmpty)
            #expect(try await project.jobs().status(plan.experiment.name).nodes == nil)
            #expect(!PlanPrinter.text(plan).contains("Service "))
        }
    }

    @Test func theDryRunOfAGangShowsItsIndexedJobAndItsService() async throws {
        try await withFakeKubernetes { server in
            let project = try gangProject(server)
            let plan = try project.plan()
            let name = plan.experiment.name
            let text = PlanPrinter.text(plan)
            #expect(
                text.contains(
                    "Service      headless \(name), owned by the Job, for its 2 pods; rank 0 at \(name)-0.\(name):29500\n"
                ), "\(text)")
            let manifest = try #require(plan.artefact(.job)).content
            #expect(manifest.contains("  completionMode: Indexed\n  completions: 2\n  parallelism: 2\n"))
            #expect(manifest.contains("      subdomain: \"\(name)\"\n"))
            #expect(
                manifest.contains("            - name: \"MASTER_ADDR\"\n              value: \"\(name)-0.\(name)\"\n"))
            #expect(manifest.contains("            - \"-c\"\n"))
            let converted = try KubernetesManifests.object(
                Kubernetes.Job.self, from: try #require(plan.artefact(.job)), findDropped: true)
            #expect(converted.dropped.isEmpty, "\(converted.dropped)")
            try expectGangJob(converted.object, plan: plan)
            #expect(server.requests.isEmpty, "planning asks nothing of the cluster")
        }
    }

    @Test func theBinarysDryRunOfAGangPrintsItsManifestAndAsksNothingOfTheCluster() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let add = try await CLI.run(
                [
                    "context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", "127.0.0.1:5000",
                    "--project", "proj",
                ], sandbox: project.sandbox)
            #expect(add.status == 0, "\(add.standardError)")
            let dry = try await CLI.run(
                [
                    "--context", "k", "run", "--nodes", "2", "--procs_per_node", "2", "--dry-run", "exp.py", "--",
                    "--lr", "1",
                ],
                sandbox: project.sandbox, environment: project.variables)
            #expect(dry.status == 0, "\(dry.standardError)")
            let out = dry.standardOutput
            #expect(out.contains("Gang         4 processes (2 x 2, launcher mrun, MASTER_PORT 29500)\n"), "\(out)")
            #expect(out.contains("Service      headless "))
            #expect(out.contains("  completionMode: Indexed\n  completions: 2\n  parallelism: 2\n"))
            #expect(out.contains("              value: \"JOB_COMPLETION_INDEX\"\n"))
            #expect(
                out.contains("          args: [\"--lr\",\"1\"]") || out.contains("          args: [\"--lr\", \"1\"]"),
                "\(out)")
            #expect(server.requests.isEmpty, "a dry run asks nothing of the cluster")
        }
    }

    @Test func eachPointOfAGangSweepIsAGangAndASecondSubmissionReusesThem() async throws {
        try await withFakeKubernetes { server in
            let project = try gangProject(server)
            let sweep = try project.sweep(["lr=0.1,0.01"])
            #expect(SweepPrinter.text(sweep).contains("one headless Service per point"))
            for _ in 0..<2 {
                let sink = RecordingSink()
                let status = try await project.backend(sink).execute(sweep)
                #expect(status == 0)
            }
            #expect(server.createBodies("jobs").count == 2)
            #expect(server.createBodies("services").count == 2)
            for plan in sweep.plans {
                let name = plan.experiment.name
                let job = try await server.controller.get(Kubernetes.Job.self, namespace: "proj", name: name)
                try expectGangJob(job, plan: plan)
                #expect(job.spec?.template.spec?.containers.first?.args?.contains { $0.contains("lr") } == true)
                let service = try await server.controller.get(Kubernetes.Service.self, namespace: "proj", name: name)
                try expectGangService(service, job: job)
            }
        }
    }
}

/// `mrun logs` of a gang: every node's lines, prefixed with `[node R] ` in the order they were
/// written; one node's alone with `--node R`.
@Suite struct KubernetesGangLogTests {
    @Test func theLogsOfAGangInterleaveItsNodesAndNodeNamesOne() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.context.gang.nodes = 3
            let recorder = try project.recorder()
            let plan = try project.plan()
            #expect(await project.run(plan, recorder: recorder).status == 0)
            let name = plan.experiment.name
            let cluster = server.controller
            let pods = try await cluster.createIndexedPods(forJob: name, namespace: "proj")
            let byIndex = Dictionary(
                uniqueKeysWithValues: pods.map { (Kubernetes.CompletionIndex.of($0) ?? -1, $0.metadata.name ?? "") })
            for index in 0..<3 { try await cluster.start(pod: try #require(byIndex[index]), namespace: "proj") }
            // Written in this order, across the nodes.
            for (index, line) in [(1, "one"), (0, "two"), (2, "three"), (0, "four")] {
                try await cluster.log(pod: try #require(byIndex[index]), namespace: "proj", "\(line)\n")
                try await Task.sleep(for: .milliseconds(2))
            }
            let launch = try #require(try recorder.store.list().first)
            let environment = MrunEnvironment(
                host: project.host, sink: RecordingSink(), runner: SystemProcessRunner(), http: TestEnvironment.http,
                warn: TestEnvironment.warn)
            let control = try JobService(history: recorder.store, environment: environment).control(for: launch)
            let all = RecordingSink()
            _ = try await control.logs(launch, follow: false, sink: all)
            let interleaved = await all.text(of: .output)
            #expect(interleaved == "[node 1] one\n[node 0] two\n[node 2] three\n[node 0] four\n", "\(interleaved)")
            let one = RecordingSink()
            _ = try await control.logs(launch, node: 0, follow: false, sink: one)
            #expect(await one.text(of: .output) == "two\nfour\n")
            let outside = await thrownError(JobControlError.self) {
                _ = try await control.logs(launch, node: 3, follow: false, sink: RecordingSink())
            }
            #expect(outside?.description.contains("is a gang of 3 nodes, numbered 0 to 2, not 3; drop --node") == true)

            // Followed: each node's lines as they come, until every node has ended.
            let followed = RecordingSink()
            let follow = Task { try await control.logs(launch, follow: true, sink: followed) }
            try await cluster.log(pod: try #require(byIndex[2]), namespace: "proj", "five\n")
            try await followed.waitForOutput(containing: "[node 2] five\n")
            for index in [1, 2, 0] { try await cluster.finish(pod: try #require(byIndex[index]), namespace: "proj") }
            let end = try await follow.value
            #expect(end.state == .completed, "\(end.summary)")
            let text = await followed.text(of: .output)
            for line in ["[node 1] one\n", "[node 0] two\n", "[node 2] three\n", "[node 0] four\n", "[node 2] five\n"] {
                #expect(text.contains(line), "\(text)")
            }
        }
    }

    @Test func nodeNamesOnlyAGangsNode() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let recorder = try project.recorder()
            #expect(await project.run(try project.plan(), recorder: recorder).status == 0)
            let launch = try #require(try recorder.store.list().first)
            let environment = MrunEnvironment(
                host: project.host, sink: RecordingSink(), runner: SystemProcessRunner(), http: TestEnvironment.http,
                warn: TestEnvironment.warn)
            let control = try JobService(history: recorder.store, environment: environment).control(for: launch)
            let error = await thrownError(JobControlError.self) {
                _ = try await control.logs(launch, node: 0, follow: false, sink: RecordingSink())
            }
            #expect(error?.description.hasSuffix("is not a gang (its Job runs one pod); drop --node") == true)
        }
    }
}

/// The gang's Service when the server refuses it, and its name, which must be a DNS-1035 label.
@Suite struct KubernetesGangServiceTests {
    @Test func aServiceTheServerRefusesDeletesTheJobAgainAndSaysSo() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.context.gang.nodes = 2
            let recorder = try project.recorder()
            let plan = try project.plan()
            server.faults.inject(.status(403), count: 5, method: "POST", pathContains: "/services")
            let outcome = await project.run(plan, recorder: recorder)
            #expect(outcome.status == nil)
            let message = outcome.message
            #expect(
                message.hasPrefix("the headless Service of gang \"\(plan.experiment.name)\" could not be created"),
                "\(message)")
            #expect(message.contains("so its Job was deleted again") && !message.contains("\n"), "\(message)")
            #expect(server.createBodies("jobs").count == 1)
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").isEmpty, "the Job is gone")
            let launch = try #require(try recorder.store.list().first)
            #expect(launch.state == .failed && launch.jobId == nil, "recorded as never started: resume relaunches it")
        }
    }

    @Test func aNameStartingWithADigitStillMakesAServiceName() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            project.context.gang.nodes = 2
            let plan = try project.plan(name: "3d-unet")
            let name = plan.experiment.name
            #expect(name.hasPrefix("exp-3d-unet-"), "\(name)")
            #expect(DNSLabel.problem(name) == nil && name.first?.isLetter == true, "a DNS-1035 label")
            #expect(await project.run(plan).status == 0)
            let service = try await server.controller.get(Kubernetes.Service.self, namespace: "proj", name: name)
            #expect(service.metadata.name == name)
        }
    }
}
