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

/// `sweep_mode: indexed`: a sweep as one Indexed Job against the fake API server; each pod picks its
/// point by its completion index, each point is a launch followed from its own pods.
@Suite struct KubernetesIndexedSweepTests {
    static let script = """
        import os, sys
        print("args", sys.argv[1:])
        print("experiment", os.environ["MRUN_EXPERIMENT"])
        print("params", os.environ["MRUN_PARAMS"])
        print("index", os.environ["MRUN_SWEEP_INDEX"])

        """

    func indexedProject(_ server: FakeKubernetesServer) throws -> KubernetesProject {
        var project = try KubernetesProject(server: server)
        project.context.kubernetes.sweepMode = "indexed"
        try project.sandbox.write(Self.script, to: "exp.py")
        return project
    }

    /// A command's environment on the tests' shared HTTP client.
    func environment(_ project: KubernetesProject) -> MrunEnvironment {
        MrunEnvironment(
            host: project.host, sink: RecordingSink(), runner: SystemProcessRunner(), http: TestEnvironment.http,
            warn: TestEnvironment.warn)
    }

    func sweep(
        _ project: KubernetesProject, _ grid: [String], maxParallel: Int? = nil, suffix: String = "idx01"
    ) throws -> SweepPlan {
        var spec = SweepSpec(grid: try grid.map { try SweepAxis.parse($0, flag: "--grid") })
        spec.maxParallel = maxParallel
        let builder = PlanBuilder(host: project.host, store: project.sandbox.store, suffix: { suffix })
        return try builder.sweep(
            RunRequest(script: "exp.py", arguments: ["--epochs", "1"]), spec: spec, context: project.context)
    }

    @Test func theSweepIsPlannedAsOneIndexedJobWhosePodsPickTheirPoint() async throws {
        try await withFakeKubernetes { server in
            let project = try indexedProject(server)
            let plan = try sweep(project, ["lr=0.1,0.01,0.001", "batch=16,32"], maxParallel: 2)
            #expect(plan.plans.count == 6)
            let manifest = try #require(plan.base.artefact(.job)).content
            #expect(plan.plans.allSatisfy { $0.artefact(.job)?.content == manifest }, "the points share the one Job")
            #expect(
                manifest.contains(
                    "  backoffLimit: 6\n  backoffLimitPerIndex: 0\n  completionMode: Indexed\n  completions: 6\n"
                        + "  parallelism: 2\n"), "\(manifest)")
            #expect(plan.base.kubernetes?.isIndexedSweep == true)
            let job = try KubernetesManifests.object(Kubernetes.Job.self, from: try #require(plan.base.artefact(.job)))
            #expect(job.dropped.isEmpty, "\(job.dropped)")
            let container = try #require(job.object.spec?.template.spec?.containers.first)
            let picker = try #require(plan.base.artefact(.sweepPoint)).content
            #expect(container.command == [plan.base.context.pythonCommand, "-c", picker])
            let points = try (container.args ?? []).map { argument in
                try JSONDecoder().decode([String: JSONValue].self, from: Data(argument.utf8))
            }
            #expect(points.count == 6)
            #expect(points[5]["name"] == .string(plan.plans[5].experiment.name))
            #expect(
                points[5]["args"] == .array([.string("--lr"), .string("0.001"), .string("--batch"), .string("32")]))
            #expect(!manifest.contains(KubernetesProject.token))
            let text = SweepPrinter.text(plan)
            #expect(text.contains("one Indexed Job \(plan.name) (sweep_mode: indexed)"), "\(text)")
            #expect(text.contains("parallelism 2"))
        }
    }

    /// The picker, run by the real interpreter as a pod would run it: it becomes the experiment of
    /// its completion index, with that point's arguments, name and parameters.
    @Test func thePickerRunsThePointOfItsCompletionIndex() async throws {
        try await withFakeKubernetes { server in
            let project = try indexedProject(server)
            let plan = try sweep(project, ["seed=1,2,3"])
            let job = try KubernetesManifests.object(Kubernetes.Job.self, from: try #require(plan.base.artefact(.job)))
            let container = try #require(job.object.spec?.template.spec?.containers.first)
            let argv = (container.command ?? []) + (container.args ?? [])
            #expect(argv.first == "python3", "the image's interpreter, which runs it here too")
            var environment = ProcessInfo.processInfo.environment
            environment["JOB_COMPLETION_INDEX"] = "2"
            let runner = SystemProcessRunner()
            let directory = project.sandbox.project.path
            let picked = try await runner.run(argv, environment: environment, workingDirectory: directory)
            #expect(picked.status == .exited(0), "\(picked.standardError) \(argv)")
            let third = plan.plans[2]
            #expect(
                picked.standardOutput.contains("args ['--epochs', '1', '--seed', '3']\n"), "\(picked.standardOutput)")
            #expect(picked.standardOutput.contains("experiment \(third.experiment.name)\n"))
            #expect(picked.standardOutput.contains("params \(third.experiment.parameters ?? "")\n"))
            #expect(picked.standardOutput.contains("index 2\n"))

            environment["JOB_COMPLETION_INDEX"] = "3"
            let outside = try await runner.run(argv, environment: environment, workingDirectory: directory)
            #expect(outside.status == .exited(2))
            #expect(outside.standardError.contains("has completion index '3', but sweep idx01 has 3 points"))
        }
    }

    @Test func oneRequestCreatesTheSweepAndEachPointIsFollowedFromItsPods() async throws {
        try await withFakeKubernetes { server in
            let project = try indexedProject(server)
            let recorder = try project.recorder()
            let plan = try sweep(project, ["seed=0,1,2,3,4,5"], maxParallel: 2)
            await recorder.record(plan)
            let sink = RecordingSink()
            #expect(try await project.backend(sink, recorder: recorder).execute(plan) == 0)
            let output = await sink.text(of: .output)
            #expect(
                output.hasSuffix(
                    "Created Indexed Job \(plan.name) for 6 points (at most 2 at once) in namespace proj\n"),
                "\(output)")
            #expect(server.createBodies("jobs").count == 1, "one POST for every point")
            let launches = try recorder.store.launches(sweep: plan.id).sorted {
                $0.sweepIndex ?? 0 < $1.sweepIndex ?? 0
            }
            #expect(launches.map(\.jobId) == (0..<6).map { "\(plan.name):\($0)" })

            // The Job controller starts two pods; point 0 succeeds, point 1 exits 3, and the next two start.
            let cluster = server.controller
            let first = try await cluster.createIndexedPods(forJob: plan.name, namespace: "proj")
            #expect(first.compactMap(Kubernetes.CompletionIndex.of).sorted() == [0, 1])
            for pod in first {
                let name = try #require(pod.metadata.name)
                let index = try #require(Kubernetes.CompletionIndex.of(pod))
                try await cluster.start(pod: name, namespace: "proj")
                try await cluster.log(pod: name, namespace: "proj", "point \(index) says hello\n")
                try await cluster.finish(pod: name, namespace: "proj", exitCode: index == 1 ? 3 : 0)
            }
            let running = await cluster.all(Kubernetes.Pod.self, namespace: "proj").filter {
                $0.status?.phase != .succeeded && $0.status?.phase != .failed
            }
            #expect(running.compactMap(Kubernetes.CompletionIndex.of).sorted() == [2, 3], "parallelism 2")

            let service = JobService(
                history: recorder.store, environment: environment(project))
            let refreshed = await service.refresh(launches)
            #expect(refreshed.warnings.isEmpty, "\(refreshed.warnings)")
            let states = refreshed.launches.map(\.state)
            #expect(states == [.completed, .failed, .submitted, .submitted, .submitted, .submitted], "\(states)")
            #expect(refreshed.launches[1].exitCode == 3)

            let control = try service.control(for: launches[1])
            let failed = try await control.status(launches[1])
            #expect(failed.summary == "FAILED, exit code 3", "\(failed.summary)")
            #expect(failed.details.contains("Job        \(plan.name), completion index 1 (namespace proj)\n"))
            let waiting = try await control.status(launches[5])
            #expect(waiting.summary == "PENDING (waiting for one of the Job's 2 slots)", "\(waiting.summary)")
            let logSink = RecordingSink()
            _ = try await control.logs(launches[0], follow: false, sink: logSink)
            #expect(await logSink.text(of: .output) == "point 0 says hello\n")

            // One point alone cannot be stopped; one that ended needs no stopping.
            let alone = await service.cancel([launches[2]])
            guard case .failure(let error) = try #require(alone.first).1 else {
                Issue.record("cancelling one running point of an indexed sweep must be refused")
                return
            }
            #expect("\(error)".contains("cancel the whole sweep with 'mrun cancel --sweep \(plan.id)'"), "\(error)")
            #expect(await cluster.all(Kubernetes.Job.self, namespace: "proj").count == 1, "nothing deleted")

            // The whole sweep: the one Job goes; the points that had ended keep their states.
            let current = try launches.map { try recorder.store.launch(id: $0.id) ?? $0 }
            let cancelled = await service.cancel(current)
            for (launch, result) in cancelled {
                guard case .success(let (_, after)) = result else {
                    Issue.record("point \(launch.sweepIndex ?? -1) was not cancelled: \(result)")
                    continue
                }
                let expected: JobState = [0: .completed, 1: .failed][launch.sweepIndex ?? -1] ?? .cancelled
                #expect(after.state == expected, "point \(launch.sweepIndex ?? -1): \(after.summary)")
            }
            #expect(server.requests.filter { $0.method == "DELETE" && $0.path.contains("/jobs/") }.count == 1)
            #expect(await cluster.all(Kubernetes.Job.self, namespace: "proj").isEmpty)

            // Resume makes one Indexed Job of the cancelled points.
            let record = try #require(try recorder.store.sweep(plan.id))
            let relauncher = Relauncher(
                history: recorder.store, environment: environment(project))
            let missing = try relauncher.missing(record)
            #expect(missing == [2, 3, 4, 5])
            let builder = PlanBuilder(host: project.host, store: project.sandbox.store)
            let resumed = try builder.sweep(
                RunRequest(script: "exp.py", arguments: ["--epochs", "1"]), resuming: record, indexes: Set(missing),
                context: project.context)
            await recorder.record(resumed)
            #expect(try await project.backend(RecordingSink(), recorder: recorder).execute(resumed) == 0)
            #expect(server.createBodies("jobs").count == 2)
            let again = try await cluster.get(Kubernetes.Job.self, namespace: "proj", name: plan.name)
            #expect(again.spec?.completions == 4)
            let names = (again.spec?.template.spec?.containers.first?.args ?? []).compactMap { argument in
                (try? JSONDecoder().decode([String: JSONValue].self, from: Data(argument.utf8)))?["name"]
            }
            #expect(names == (2..<6).map { .string("\(plan.name)-\($0)") })
        }
    }

    @Test func twoHundredPointsAreOneRequest() async throws {
        try await withFakeKubernetes { server in
            let project = try indexedProject(server)
            let plan = try sweep(project, ["i=" + (0..<200).map(String.init).joined(separator: ",")], maxParallel: 16)
            #expect(try await project.backend(RecordingSink()).execute(plan) == 0)
            let posts = server.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/jobs") }
            #expect(posts.count == 1)
            let job = try await server.controller.get(Kubernetes.Job.self, namespace: "proj", name: plan.name)
            #expect(job.spec?.completions == 200 && job.spec?.parallelism == 16)
            #expect(job.spec?.template.spec?.containers.first?.args?.count == 200)
        }
    }

    @Test func theSameSubmissionTwiceFindsItsJob() async throws {
        try await withFakeKubernetes { server in
            let project = try indexedProject(server)
            let plan = try sweep(project, ["seed=1,2"])
            #expect(try await project.backend(RecordingSink()).execute(plan) == 0)
            let sink = RecordingSink()
            #expect(try await project.backend(sink).execute(plan) == 0)
            #expect(await sink.text(of: .output).contains("was there already"))
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "proj").count == 1)
        }
    }

    @Test func aSweepOfGangsIsRefusedNamingTheAlternative() async throws {
        try await withFakeKubernetes { server in
            var project = try indexedProject(server)
            project.context.gang.nodes = 2
            let error = #expect(throws: KubernetesBackendError.self) { try sweep(project, ["seed=1,2"]) }
            #expect(error == .indexedGangSweep(nodes: 2))
            #expect("\(error.map { "\($0)" } ?? "")".contains("set sweep_mode: jobs"))
            #expect(server.requests.isEmpty, "nothing was asked of the cluster")
            // The context itself says so too, when its nodes make gangs.
            #expect(project.context.problem()?.key == .sweepMode)
        }
    }
}

/// The `sweep_mode` key: read, checked, refused where it cannot apply, each in one line naming
/// the file and line.
@Suite struct SweepModeKeyTests {
    func problem(_ text: String) -> String {
        do {
            let context = try ContextParser.parse(text, file: "ctx.yaml")
            return "parsed: \(context.kubernetes.parsedSweepMode)"
        } catch {
            return "\(error)"
        }
    }

    @Test func theModeIsReadAndJobsByDefault() throws {
        let base = "name: k\ntype: kubernetes\nregistry_url: r.io\n"
        #expect(try ContextParser.parse(base, file: "ctx.yaml").kubernetes.parsedSweepMode == .jobs)
        #expect(problem(base + "sweep_mode: indexed\n") == "parsed: indexed")
        #expect(problem(base + "sweep_mode: jobs\n") == "parsed: jobs")
    }

    @Test func badModesAreOneLineNamingTheLine() {
        let base = "name: k\ntype: kubernetes\nregistry_url: r.io\n"
        let unknown = problem(base + "sweep_mode: batch\n")
        #expect(unknown.hasPrefix("ctx.yaml:4:"), "\(unknown)")
        #expect(unknown.contains("sweep_mode 'batch' is not one of jobs, indexed"), "\(unknown)")
        let gang = problem(base + "nodes: 2\nsweep_mode: indexed\n")
        #expect(gang.contains("cannot run gangs (nodes: 2); use sweep_mode: jobs"), "\(gang)")
        let slurm = problem("name: s\ntype: slurm\nhost: h\nsweep_mode: indexed\n")
        #expect(slurm.hasPrefix("ctx.yaml:4:"), "\(slurm)")
        #expect(slurm.contains("applies to kubernetes contexts"), "\(slurm)")
        for text in [unknown, gang, slurm] { #expect(!text.contains("\n"), "one line: \(text)") }
    }
}
