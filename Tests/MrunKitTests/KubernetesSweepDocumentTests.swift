import FakeKubernetes
import Foundation
import Synchronization
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// A sweep's Jobs go out as the documents the planner read from each point's YAML, with mrun's
/// additions set in them; the first point's typed conversion decides what a Job cannot hold.
@Suite struct KubernetesSweepDocumentTests {
    /// The built-in Job with a field a Job's pod spec does not have.
    static func templates(in project: KubernetesProject) throws -> URL {
        let templates = project.sandbox.root.appendingPathComponent("templates")
        let job = try #require(BuiltInTemplates.files["job.yaml"]).replacingOccurrences(
            of: "      restartPolicy: Never\n", with: "      restartPolicy: Never\n      runtimeClassName: nvidia\n")
        #expect(job.contains("runtimeClassName"))
        try project.sandbox.write(job, to: "job.yaml.stencil", in: templates)
        return templates
    }

    @Test func everyPointIsSentAsItsDocumentWithoutWhatAJobCannotHold() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            var request = RunRequest(script: "exp.py", arguments: ["--epochs", "1"])
            request.templatesDir = try Self.templates(in: project).path
            let spec = SweepSpec(grid: [try SweepAxis.parse("lr=1,2,3", flag: "--grid")])
            let sweep = try PlanBuilder(host: project.host, store: project.sandbox.store, suffix: { "doc01" }).sweep(
                request, spec: spec, context: project.context)
            #expect(sweep.plans.allSatisfy { $0.artefact(.job)?.document != nil }, "the planner read each Job")

            let sink = RecordingSink()
            let recorder = try project.recorder()
            let warnings = Mutex<[String]>([])
            let backend = project.backend(sink, recorder: recorder) { line in warnings.withLock { $0.append(line) } }
            let status = try await backend.execute(sweep)
            #expect(status == 0)
            #expect(
                warnings.withLock { $0 } == [
                    "job.yaml sets fields mrun does not send: spec.template.spec.runtimeClassName"
                ],
                "said once, for the first point")

            let bodies = try server.createBodies("jobs").map { try JSONValue(json: $0) }
            #expect(bodies.count == 3)
            let launches = try recorder.store.launches(sweep: "doc01")
            for body in bodies {
                let name = try #require(body[[.field("metadata"), .field("name")]]?.string)
                let index = try #require(Int(name.split(separator: "-").last ?? ""))
                let pod: [JSONValue.Step] = [.field("spec"), .field("template"), .field("spec")]
                #expect(body[pod + [.field("runtimeClassName")]] == nil, "left out as the typed Job leaves it")
                #expect(body[[.field("metadata"), .field("namespace")]]?.string == "proj")
                #expect(
                    body[[.field("metadata"), .field("labels"), .field(KubernetesBackend.sweepIndexLabel)]]
                        == .string(String(index)))
                #expect(
                    body[[
                        .field("spec"), .field("template"), .field("metadata"), .field("labels"),
                        .field(KubernetesBackend.sweepIDLabel),
                    ]]
                        == .string("doc01"))
                let requestID = body[[
                    .field("metadata"), .field("annotations"), .field(KubernetesClient.requestIDAnnotation),
                ]]
                #expect(requestID?.string?.hasPrefix("sweep/\(sweep.name)/\(index)/") == true)
                let container = try #require(body[pod + [.field("containers"), .item(0)]])
                #expect(container[[.field("image")]]?.string?.hasSuffix("@\(StubImageBuilder.digest)") == true)
                guard case .array(let env) = container[[.field("env")]] else {
                    Issue.record("no env in \(name)")
                    continue
                }
                let launchID = env.first { $0[[.field("name")]]?.string == "MRUN_LAUNCH_ID" }?[[.field("value")]]
                let recorded = launches.first { $0.sweepIndex == index }?.id
                #expect(launchID?.string == recorded && recorded != nil, "\(name) knows its launch")
            }
            let jobs = await server.controller.all(Kubernetes.Job.self, namespace: "proj")
            #expect(jobs.count == 3)
            #expect(jobs.allSatisfy { $0.spec?.template.spec?.containers.first?.args?.prefix(2) == ["--epochs", "1"] })
        }
    }

    @Test func aTemplateThatIsNoJobFailsBeforeAnyJobIsCreated() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let templates = project.sandbox.root.appendingPathComponent("templates")
            let job = try #require(BuiltInTemplates.files["job.yaml"]).replacingOccurrences(
                of: "      restartPolicy: Never\n", with: "      restartPolicy: [1, 2]\n")
            try project.sandbox.write(job, to: "job.yaml.stencil", in: templates)
            var request = RunRequest(script: "exp.py")
            request.templatesDir = templates.path
            let spec = SweepSpec(grid: [try SweepAxis.parse("lr=1,2", flag: "--grid")])
            let sweep = try PlanBuilder(host: project.host, store: project.sandbox.store).sweep(
                request, spec: spec, context: project.context)
            let sink = RecordingSink()
            await #expect(throws: KubernetesBackendError.self) {
                try await project.backend(sink).execute(sweep)
            }
            #expect(server.createBodies("jobs").isEmpty)
        }
    }
}

@Suite struct DryRunDocumentTests {
    /// A dry run sends nothing: its plans hold no documents (1000 points' would be 10 MB), and
    /// their YAML is still checked.
    @Test func aDryRunsPlansKeepNoDocumentsAndStillCheckTheirYAML() throws {
        let fixture = try PlanFixture()
        var builder = fixture.builder()
        builder.keepsDocuments = false
        let spec = SweepSpec(grid: [try SweepAxis.parse("lr=1,2", flag: "--grid")])
        let sweep = try builder.sweep(PlanFixture.request, spec: spec, context: PlanFixture.kubernetes)
        #expect(sweep.plans.allSatisfy { $0.artefact(.job) != nil && $0.artefact(.job)?.document == nil })

        let templates = fixture.sandbox.root.appendingPathComponent("templates")
        try fixture.sandbox.write("kind: Job\nbroken: [\n", to: "job.yaml.stencil", in: templates)
        var request = PlanFixture.request
        request.templatesDir = templates.path
        #expect(throws: TemplateError.self) {
            try builder.sweep(request, spec: spec, context: PlanFixture.kubernetes)
        }
    }
}

@Suite struct JSONValuePathTests {
    static let document = JSONValue.object([
        "metadata": .object(["name": .string("a")]),
        "items": .array([.integer(1), .integer(2), .integer(3)]),
    ])

    @Test func aPathReadsChangesAndRemoves() {
        var value = Self.document
        #expect(value[[.field("metadata"), .field("name")]] == .string("a"))
        #expect(value[[.field("items"), .item(3)]] == nil)
        #expect(value[[.field("metadata"), .item(0)]] == nil)
        value.update([.field("metadata"), .field("labels"), .field("x")]) { $0 = .string("y") }
        #expect(value[[.field("metadata"), .field("labels"), .field("x")]] == .string("y"), "made on the way")
        value.update([.field("items"), .item(7)]) { $0 = .null }
        #expect(value[[.field("items")]] == .array([.integer(1), .integer(2), .integer(3)]), "out of range: no change")
        value.remove([.field("items"), .item(1)])
        #expect(value[[.field("items")]] == .array([.integer(1), .integer(3)]))
        value.remove([.field("metadata"), .field("name")])
        #expect(value[[.field("metadata"), .field("name")]] == nil)
        value.remove([.field("nothing"), .field("here")])
        #expect(value[[.field("nothing")]] == nil, "removing what is not there makes nothing")
    }

    @Test func droppedFieldsAreNamedAsTheWarningNamesThem() {
        let source = JSONValue.object([
            "spec": .object(["a": .integer(1), "list": .array([.object(["b": .bool(true), "c": .null])])])
        ])
        let kept = JSONValue.object(["spec": .object(["list": .array([.object([:])])])])
        let dropped = KubernetesManifests.droppedPaths(source, kept: kept)
        #expect(dropped.map(KubernetesManifests.describe) == ["spec.a", "spec.list[0].b"])
    }
}

/// `mrun run --grid` plans the points while the cluster is set up: a point that cannot be planned
/// still stops the launch before any Job, and nothing is recorded.
@Suite(.serialized) struct OverlappedSweepLaunchTests {
    @Test func aLaterPointThatCannotBePlannedLaunchesAndRecordsNothing() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let add = try await CLI.run(
                [
                    "context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", bed.registry,
                    "--base_image", bed.baseImage, "--project", "mrun-k8s-overlap",
                ], sandbox: fixture.sandbox)
            #expect(add.status == 0, "\(add.standardError)")
            let templates = fixture.sandbox.root.appendingPathComponent("templates")
            // Valid YAML for every point but the 40th.
            let job = try #require(BuiltInTemplates.files["job.yaml"]).replacingOccurrences(
                of: "  annotations:\n",
                with: "  annotations:\n    point: {% if sweep.index == 39 %}[{% else %}\"fine\"{% endif %}\n")
            try fixture.sandbox.write(job, to: "job.yaml.stencil", in: templates)
            let environment = fixture.variables.merging([
                "KUBECONFIG": try server.kubeconfig(for: .certificate("alice")).path,
                "NEPTUNE_API_TOKEN": "nep-TOKEN-o",
            ]) { $1 }
            let result = try await CLI.run(
                [
                    "--context", "k", "run", "exp.py", "--templates", templates.path, "--grid",
                    "i=" + (0..<64).map(String.init).joined(separator: ","),
                ], sandbox: fixture.sandbox, environment: environment)
            #expect(result.status != 0)
            let lines = result.standardError.split(separator: "\n")
            #expect(lines.last?.contains("job.yaml.stencil") == true, "\(result.standardError)")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "mrun-k8s-overlap").isEmpty)
            let list = try await CLI.run(["list", "--all"], sandbox: fixture.sandbox)
            #expect(!list.standardOutput.contains("exp-"), "nothing recorded: \(list.standardOutput)")
        }
    }
}
