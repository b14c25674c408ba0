import FakeKubernetes
import Foundation
import Testing
import Yams

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// Plans built in a sandbox with a fixed clock and name suffix, so their text is reproducible.
struct PlanFixture {
    static let token = "nep-TOKEN-0123456789-do-not-leak"
    static let password = "legacy-PASSWORD-do-not-leak"
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox()
        try sandbox.write("import sys\nprint(sys.argv)\n", to: "train.py")
        try sandbox.write("numpy==2.0\n", to: "requirements.txt")
        try sandbox.write("data/\n*.log\n", to: ".gitignore")
        try sandbox.write("ignored", to: "data/big.bin")
        try sandbox.write("def helper(): pass\n", to: "lib/util.py")
        try sandbox.write(
            "host: neptune.example\nport: 443\nusername: ada\npassword: \(Self.password)\n", to: ".neptune.yaml",
            in: sandbox.home)
    }

    var host: HostEnvironment {
        sandbox.host(["NEPTUNE_API_TOKEN": Self.token, "NEPTUNE_PROJECT": "team/lr-sweep"])
    }

    func builder(host: HostEnvironment? = nil) -> PlanBuilder {
        PlanBuilder(
            host: host ?? self.host, store: sandbox.store, now: { Date(timeIntervalSince1970: 1_800_000_000) },
            suffix: { "k3x9q" })
    }

    static var kubernetes: Context {
        var context = Context(name: "gke.sandbox", type: .kubernetes)
        context.kubernetes.registryURL = "https://gcr.io/proj"
        context.resources = Resources(cpu: "4", memory: "8G", gpu: 1, tpu: 1)
        context.env = ["WANDB_MODE": "offline"]
        return context
    }

    static var slurm: Context {
        var context = Context(name: "plgrid.agents", type: .slurm)
        context.slurm.host = "plgrid"
        context.slurm.partition = "plgrid-gpu"
        context.slurm.account = "grant"
        context.slurm.time = "2:00:00"
        context.slurm.gres = "gpu:1"
        context.slurm.modules = ["python/3.11"]
        context.slurm.setup = ["source ~/venv/bin/activate"]
        context.slurm.sbatchOptions = ["--exclusive"]
        context.resources = Resources(cpu: "4", memory: "8G")
        return context
    }

    static var request: RunRequest {
        var request = RunRequest(script: "train.py", arguments: ["--epochs", "3", "--name", "a b", "it's"])
        request.requirements = "requirements.txt"
        request.tags = ["baseline"]
        return request
    }

    /// Replaces the sandbox's paths so the text is the same on every machine.
    func normalized(_ text: String) -> String {
        text.replacingOccurrences(of: sandbox.project.path, with: "$PROJECT")
            .replacingOccurrences(of: sandbox.mrunHome.path, with: "$MRUN_HOME")
    }
}

enum Golden {
    /// The source folder, not the test bundle's copy: a rewrite must be what the next run compares
    /// against, and the bundle's copy is only refreshed by the next build.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Compares with `Golden/NAME`; `MRUN_UPDATE_GOLDEN=1 swift test` rewrites the files instead.
    static func check(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["MRUN_UPDATE_GOLDEN"] == "1" {
            try Data(text.utf8).write(to: file)
            return
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record(
                "missing golden file \(name); run MRUN_UPDATE_GOLDEN=1 swift test", sourceLocation: sourceLocation)
            return
        }
        #expect(text == expected, "differs from Golden/\(name)", sourceLocation: sourceLocation)
    }
}

@Suite struct PlanGoldenTests {
    @Test func kubernetesArtefacts() throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: PlanFixture.kubernetes)
        #expect(plan.artefacts.map(\.name) == ["Dockerfile", "namespace.yaml", "pvc.yaml", "secret.yaml", "job.yaml"])
        for artefact in plan.artefacts {
            try Golden.check(artefact.content, "kubernetes-\(artefact.name)")
            #expect(artefact.template == "built-in \(artefact.name)")
        }
        try Golden.check(fixture.normalized(PlanPrinter.text(plan)), "kubernetes-dry-run.txt")
    }

    @Test func slurmArtefacts() throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: PlanFixture.slurm)
        #expect(plan.artefacts.map(\.name) == ["sbatch.sh"])
        try Golden.check(plan.artefacts[0].content, "slurm-sbatch.sh")
        try Golden.check(fixture.normalized(PlanPrinter.text(plan)), "slurm-dry-run.txt")
    }

    /// The login node runs Slurm here; the container line keeps the command's arguments intact.
    @Test func slurmContainerOnTheLoginNode() throws {
        let fixture = try PlanFixture()
        var context = PlanFixture.slurm
        context.slurm.host = nil
        context.slurm.loginNode = true
        context.slurm.containerImage = "~/images/torch 2.sif"
        context.storage = "/net/storage/lr sweep"
        let plan = try fixture.builder().plan(PlanFixture.request, context: context)
        try Golden.check(plan.artefacts[0].content, "slurm-container-sbatch.sh")
        try Golden.check(fixture.normalized(PlanPrinter.text(plan)), "slurm-login-node-dry-run.txt")
    }

    @Test func localPlan() throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: .builtInLocal)
        #expect(plan.artefacts.isEmpty)
        try Golden.check(fixture.normalized(PlanPrinter.text(plan)), "local-dry-run.txt")
    }
}

@Suite struct PlanTests {
    @Test func kubernetesManifestsAreValidAndKeepSecretsInTheSecret() throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: PlanFixture.kubernetes)
        let jobText = try #require(plan.artefact(.job)).content
        let job = try #require(try Yams.load(yaml: jobText) as? [String: Any])
        let spec = try #require((job["spec"] as? [String: Any])?["template"] as? [String: Any])
        let podSpec = try #require(spec["spec"] as? [String: Any])
        let container = try #require((podSpec["containers"] as? [[String: Any]])?.first)
        #expect(container["args"] as? [String] == ["--epochs", "3", "--name", "a b", "it's"])
        #expect(container["command"] as? [String] == ["python3", "train.py"])
        #expect(podSpec["restartPolicy"] as? String == "Never")
        let env = try #require(container["env"] as? [[String: Any]])
        let token = try #require(env.first { $0["name"] as? String == "NEPTUNE_API_TOKEN" })
        #expect(token["value"] == nil)
        let reference = (token["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: String]
        #expect(reference == ["name": "mrun-neptune", "key": "NEPTUNE_API_TOKEN"])
        let limits = (container["resources"] as? [String: Any])?["limits"] as? [String: Any]
        #expect(limits?["nvidia.com/gpu"] as? Int == 1)
        #expect(plan.image?.tag.hasPrefix("gcr.io/proj/lr-sweep/train:") == true)
        #expect(plan.kubernetes?.namespace == "lr-sweep")
        #expect(plan.kubernetes?.storageSize == "40Gi")
    }

    @Test func secretsNeverAppearInTextJSONOrAnyArtefact() throws {
        let fixture = try PlanFixture()
        for context in [PlanFixture.kubernetes, PlanFixture.slurm, Context.builtInLocal] {
            let plan = try fixture.builder().plan(PlanFixture.request, context: context)
            #expect(plan.secrets.map(\.name).sorted() == ["NEPTUNE_API_TOKEN", "NEPTUNE_PASSWORD"])
            let outputs = [PlanPrinter.text(plan), try PlanPrinter.json(plan)] + plan.artefacts.map(\.content)
            for output in outputs {
                #expect(!output.contains(PlanFixture.token))
                #expect(!output.contains(PlanFixture.password))
            }
            #expect(PlanPrinter.text(plan).contains("NEPTUNE_API_TOKEN=<redacted>  (secret)"))
        }
    }

    @Test func revealingSecretsIsOnlyForTheBackend() throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: PlanFixture.kubernetes)
        let rendering = ArtefactRenderer(templates: TemplateSet(searchPath: []))
        let secret = try rendering.render(.secret, plan: plan, checkYAML: true, revealSecrets: true)
        #expect(secret.content.contains("NEPTUNE_API_TOKEN: \"\(PlanFixture.token)\""))
        #expect(plan.artefact(.secret)?.content.contains("NEPTUNE_API_TOKEN: \"<redacted>\"") == true)
    }

    @Test func neptuneCredentialsFromEnvironmentLegacyFileAndConfig() throws {
        let fixture = try PlanFixture()
        try fixture.sandbox.write(
            "project: team/vision\nname: resnet run\ntags: [a, b]\nparameters:\n  lr: 0.1\n  batch: 32\n",
            to: "neptune.yaml")
        var request = PlanFixture.request
        request.neptuneConfig = "neptune.yaml"
        let plan = try fixture.builder().plan(request, context: .builtInLocal)
        let values = Dictionary(uniqueKeysWithValues: plan.environment.map { ($0.name, $0.value) })
        #expect(values["NEPTUNE_API_TOKEN"] == PlanFixture.token)
        #expect(values["NEPTUNE_PROJECT"] == "team/vision")
        #expect(values["NEPTUNE_USER"] == "ada")
        #expect(values["NEPTUNE_PASSWORD"] == PlanFixture.password)
        #expect(values["NEPTUNE_HOST"] == "neptune.example")
        #expect(values["NEPTUNE_PORT"] == "443")
        #expect(values["MRUN_PARAMS"] == #"{"batch": "32", "lr": "0.1"}"#)
        #expect(plan.experiment.project == "vision")
        #expect(plan.experiment.name == "resnet-run-k3x9q")
        #expect(plan.experiment.tags == ["baseline", "a", "b"])
    }

    @Test func contextWithNeptuneOffPassesNoCredentials() throws {
        let fixture = try PlanFixture()
        var context = PlanFixture.kubernetes
        context.neptune = false
        let plan = try fixture.builder().plan(PlanFixture.request, context: context)
        #expect(!plan.environment.contains { $0.name.hasPrefix("NEPTUNE_") })
        #expect(plan.artefact(.secret) == nil)
    }

    @Test func environmentPrecedenceContextThenFlagsThenNeptune() throws {
        let fixture = try PlanFixture()
        var request = PlanFixture.request
        request.environment = ["WANDB_MODE=online", "EMPTY=", "EQ=a=b"]
        let plan = try fixture.builder().plan(request, context: PlanFixture.kubernetes)
        let values = Dictionary(uniqueKeysWithValues: plan.environment.map { ($0.name, $0.value) })
        #expect(values["WANDB_MODE"] == "online")
        #expect(values["EMPTY"] == "")
        #expect(values["EQ"] == "a=b")
        #expect(values["STORAGE_DIR"] == "/storage")
        #expect(Set(plan.environment.map(\.name)).count == plan.environment.count)
    }

    @Test func contentHashFollowsCodeRequirementsBaseImageAndArgsButNotTheName() throws {
        let fixture = try PlanFixture()
        let context = PlanFixture.kubernetes
        let first = try fixture.builder().plan(PlanFixture.request, context: context).experiment.contentHash
        let again = try PlanBuilder(host: fixture.host, store: fixture.sandbox.store)
            .plan(PlanFixture.request, context: context).experiment
        #expect(again.contentHash == first, "a new unique name must not change the image")
        #expect(again.name != "train-k3x9q")
        try fixture.sandbox.write("ignored too", to: "run.log")
        #expect(try fixture.builder().plan(PlanFixture.request, context: context).experiment.contentHash == first)
        var otherBase = PlanFixture.request
        otherBase.baseImage = "python:3.12-slim"
        #expect(try fixture.builder().plan(otherBase, context: context).experiment.contentHash != first)
        try fixture.sandbox.write("numpy==2.1\n", to: "requirements.txt")
        let changed = try fixture.builder().plan(PlanFixture.request, context: context).experiment.contentHash
        #expect(changed != first)
    }

    @Test func namesAreDNSLabels() throws {
        #expect(Naming.dnsLabel("My Project_v2.0") == "my-project-v2-0")
        #expect(try Naming.namespace(forProject: "LR sweep") == "lr-sweep")
        #expect(throws: ExperimentError.invalidProject("---")) { try Naming.namespace(forProject: "---") }
        #expect(throws: ExperimentError.invalidProject(String(repeating: "a", count: 64))) {
            try Naming.namespace(forProject: String(repeating: "a", count: 64))
        }
        #expect(Naming.baseName("2024 run") == "exp-2024-run")
        #expect(Naming.baseName("") == "exp")
        let long = Naming.baseName(String(repeating: "x", count: 100))
        #expect(Naming.uniqueName(base: long, suffix: "abcde").count == 63)
    }

    @Test func executableScriptWithShebangRunsItself() throws {
        let fixture = try PlanFixture()
        try fixture.sandbox.write("#!/bin/sh\necho hi\n", to: "run.sh", mode: 0o755)
        let plan = try fixture.builder().plan(RunRequest(script: "run.sh"), context: .builtInLocal)
        #expect(plan.experiment.command == ["./run.sh"])
    }
}
