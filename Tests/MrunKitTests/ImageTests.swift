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

/// A project whose image the tests build, push and run against the real test bed: a unique file
/// makes each test's content hash (and so its tag) new, even against a registry that keeps images
/// from earlier test runs.
struct ImageFixture {
    static let script = """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=1)
        arguments = parser.parse_args()
        for epoch in range(1, arguments.epochs + 1):
            print(f"epoch {epoch}/{arguments.epochs} loss={1 / epoch:.3f}")
        print("done", open("run-id.txt").read().strip())

        """
    static let pipStep = "RUN python3 -m pip install --no-cache-dir -r /tmp/mrun-requirements.txt"

    let bed: TestBed
    let sandbox: Sandbox
    let runID = UUID().uuidString
    var registry: String
    var variables: [String: String] = [:]

    var dockerConfig: URL { sandbox.root.appendingPathComponent("docker-config") }

    /// The default requirements differ per fixture, so no two tests share a cached requirements
    /// layer that the other's `docker rmi` could remove while this one still counts on it.
    init(bed: TestBed, registry: String? = nil, requirements: String? = nil) throws {
        self.bed = bed
        self.registry = registry ?? bed.registry
        sandbox = try Sandbox()
        try FileManager.default.createDirectory(at: dockerConfig, withIntermediateDirectories: true)
        try sandbox.write(Self.script, to: "exp.py")
        try sandbox.write(requirements ?? "# nothing to install (\(UUID().uuidString))\n", to: "requirements.txt")
        try sandbox.write(runID + "\n", to: "run-id.txt")
        variables = ["DOCKER_HOST": bed.dockerHost, "DOCKER_CONFIG": dockerConfig.path]
    }

    var host: HostEnvironment { sandbox.host(variables) }

    var context: Context {
        var context = Context(name: "testbed", type: .kubernetes)
        context.kubernetes.registryURL = registry
        context.kubernetes.baseImage = bed.baseImage
        context.project = "mrun-image-tests"
        return context
    }

    func plan(host: HostEnvironment? = nil) throws -> ExperimentPlan {
        var request = RunRequest(script: "exp.py", arguments: ["--epochs", "3"])
        request.requirements = "requirements.txt"
        return try PlanBuilder(host: host ?? self.host, store: sandbox.store).plan(request, context: context)
    }

    var builder: DockerImageBuilder {
        DockerImageBuilder(host: host, style: .plain, buildNetwork: bed.network)
    }

    /// Builds the current project; returns the result and what the progress sink received.
    func ensure() async throws -> (ImageResult, String) {
        let sink = RecordingSink()
        let result = try await builder.ensureImage(for: try plan(), progress: sink)
        return (result, await sink.text(of: .error))
    }

    func docker(_ arguments: [String], input: String = "") async throws -> CLIResult {
        try await runDocker(arguments, environment: variables, input: input)
    }

    func login(password: String) async throws -> CLIResult {
        try await docker(
            ["login", "--username", bed.registryUser, "--password-stdin", registry], input: password + "\n")
    }

    /// Stores a login as `docker login` would, without asking the registry whether it is right.
    func storeLogin(password: String) throws {
        let auth = Data("\(bed.registryUser):\(password)".utf8).base64EncodedString()
        try sandbox.write(
            "{\"auths\": {\"\(registry)\": {\"auth\": \"\(auth)\"}}}", to: "config.json", in: dockerConfig)
    }

    /// Removes the tags a test made from the engine, so test runs do not pile up images.
    /// Removes the tags' images but not their untagged parents: those are the build cache other
    /// tests, building at the same time from the same base, may be using (their build then failed
    /// with "unable to find image").
    func removeImages(_ tags: [String]) async {
        _ = try? await docker(["rmi", "--no-prune"] + tags)
    }
}

@Suite(.serialized) struct ImageBuildTests {
    @Test func firstRunBuildsPushesAnImageThatRunsTheExperiment() async throws {
        let fixture = try ImageFixture(bed: try await TestBed.withRegistries())
        let token = "nep-TOKEN-image-do-not-leak"
        let secretHost = fixture.sandbox.host(fixture.variables.merging(["NEPTUNE_API_TOKEN": token]) { $1 })
        let plan = try fixture.plan(host: secretHost)
        #expect(plan.secrets.contains { $0.value == token })
        let sink = RecordingSink()
        let result = try await fixture.builder.ensureImage(for: plan, progress: sink)
        let tag = try #require(plan.image?.tag)

        guard case .built(let builtTag, let imageID, let digest) = result.outcome else {
            Issue.record("expected a build, got \(result.outcome)")
            return
        }
        #expect(builtTag == tag)
        #expect(tag.hasPrefix("\(fixture.bed.registry)/mrun-image-tests/exp:"))
        #expect(imageID.hasPrefix("sha256:"))
        #expect(digest.hasPrefix("sha256:") && digest.count == 71)
        #expect(result.phases == [.registryCheck, .build, .push, .inspect])
        #expect(result.buildSteps.first?.instruction == "FROM \(fixture.bed.baseImage)")
        #expect(result.buildSteps.contains { $0.instruction == ImageFixture.pipStep })
        let output = await sink.text(of: .error)
        #expect(output.contains("Step 1/"))
        #expect(!output.contains("DEPRECATED"), "mrun hides docker's legacy-builder notice")

        let inspect = try await fixture.docker(["image", "inspect", tag])
        #expect(inspect.status == 0)
        #expect(!inspect.standardOutput.contains(token), "no secret is baked into the image")

        // Removed locally, the image must come back from the registry.
        #expect(try await fixture.docker(["rmi", "--no-prune", tag]).status == 0)
        let network = fixture.bed.network.map { ["--network", $0] } ?? []
        let run = try await fixture.docker(["run", "--rm"] + network + [tag])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(
            run.standardOutput
                == "epoch 1/3 loss=1.000\nepoch 2/3 loss=0.500\nepoch 3/3 loss=0.333\ndone \(fixture.runID)\n")
        #expect(run.standardError.contains("Pulling from") || run.standardError.contains("Downloaded"))
        await fixture.removeImages([tag])
    }

    @Test func unchangedCodeNeitherBuildsNorPushes() async throws {
        let fixture = try ImageFixture(bed: try await TestBed.withRegistries())
        let (first, _) = try await fixture.ensure()
        await fixture.removeImages([first.tag])
        #expect(first.phases == [.registryCheck, .build, .push, .inspect])

        let (second, output) = try await fixture.ensure()
        #expect(second.outcome == .alreadyInRegistry(tag: first.tag, digest: first.digest))
        #expect(second.phases == [.registryCheck], "only the registry was asked: no build, no push")
        #expect(second.buildSteps.isEmpty)
        #expect(!output.contains("Step "))
        #expect(output == "mrun: image \(first.tag) is already in the registry; no build, no push\n")
        #expect(
            second.pinnedReference == first.tag.split(separator: ":").dropLast().joined(separator: ":")
                + "@\(first.digest)")
    }

    @Test func codeOnlyChangeRebuildsWithTheRequirementsLayerCached() async throws {
        let fixture = try ImageFixture(bed: try await TestBed.withRegistries())
        let (first, _) = try await fixture.ensure()
        try fixture.sandbox.write(ImageFixture.script + "# tuned\n", to: "exp.py")
        let (second, output) = try await fixture.ensure()
        await fixture.removeImages([first.tag, second.tag])

        #expect(second.tag != first.tag)
        guard case .built = second.outcome else {
            Issue.record("expected a rebuild, got \(second.outcome)")
            return
        }
        let pip = try #require(second.buildSteps.first { $0.instruction == ImageFixture.pipStep })
        #expect(pip.cached, "the requirements layer comes from the build cache")
        #expect(second.buildSteps.last { $0.instruction.hasPrefix("COPY . ") }?.cached == false)
        let pipLine = try #require(output.range(of: pip.line))
        #expect(output[pipLine.upperBound...].hasPrefix("\n ---> Using cache\n"))
    }

    @Test func loginRegistryWithTheRightPasswordBuildsPushesAndFindsTheImage() async throws {
        let bed = try await TestBed.withRegistries()
        let fixture = try ImageFixture(bed: bed, registry: bed.authRegistry)
        let password = try bed.registryPassword
        let login = try await fixture.login(password: password)
        #expect(login.status == 0, "\(login.standardError)")

        let (first, output) = try await fixture.ensure()
        await fixture.removeImages([first.tag])
        #expect(first.phases == [.registryCheck, .build, .push, .inspect])
        #expect(!output.contains(password))
        let (second, _) = try await fixture.ensure()
        #expect(second.outcome == .alreadyInRegistry(tag: first.tag, digest: first.digest))
    }

    @Test func loginRegistryWithAWrongPasswordFailsBeforeBuilding() async throws {
        let bed = try await TestBed.withRegistries()
        let fixture = try ImageFixture(bed: bed, registry: bed.authRegistry)
        // `docker login` refuses a wrong password, so this is a password changed since the login.
        try fixture.storeLogin(password: "wrong-PASSWORD-do-not-leak")
        let sink = RecordingSink()
        let error = await #expect(throws: ImageError.self) {
            try await fixture.builder.ensureImage(for: try fixture.plan(), progress: sink)
        }
        #expect(
            error?.description
                == "registry \(bed.authRegistry) rejected the stored login of user '\(bed.registryUser)' (wrong user or password): run 'docker login \(bed.authRegistry)'"
        )
        #expect(!(error?.description.contains("do-not-leak") ?? true))
        #expect(await sink.text(of: .error).isEmpty, "nothing was built")
    }

    @Test func loginRegistryWithoutLoginSaysToLogIn() async throws {
        let bed = try await TestBed.withRegistries()
        let fixture = try ImageFixture(bed: bed, registry: bed.authRegistry)
        let error = await #expect(throws: ImageError.self) {
            try await fixture.builder.ensureImage(for: try fixture.plan(), progress: RecordingSink())
        }
        #expect(
            error?.description
                == "registry \(bed.authRegistry) requires a login: run 'docker login \(bed.authRegistry)'")
    }

    @Test func unreachableDaemonSaysToStartDocker() async throws {
        var fixture = try ImageFixture(bed: try await TestBed.withRegistries())
        let socket = fixture.sandbox.root.appendingPathComponent("missing/docker.sock").path
        fixture.variables["DOCKER_HOST"] = "unix://\(socket)"
        let error = await #expect(throws: ImageError.self) {
            try await fixture.ensure()
        }
        #expect(
            error?.description
                == "Cannot connect to the Docker daemon at unix://\(socket): start docker, or set DOCKER_HOST to a running daemon"
        )
    }

    @Test func failingRunStepIsNamedWithItsOutput() async throws {
        let fixture = try ImageFixture(
            bed: try await TestBed.withRegistries(), requirements: "this is not a requirement!!\n")
        let error = await #expect(throws: ImageError.self) {
            try await fixture.ensure()
        }
        guard case .buildStepFailed(let step, let status, let output) = error else {
            Issue.record("expected a failed build step, got \(String(describing: error))")
            return
        }
        #expect(step == "Step 5/8 : \(ImageFixture.pipStep)")
        #expect(status == .exited(1))
        #expect(output.count <= 15)
        #expect(output.contains { $0.contains("Invalid requirement") })
        let lines = (error?.description ?? "").split(separator: "\n")
        #expect(lines.first == "docker build failed at '\(step)' (exit status 1); its last lines:")
        #expect(lines.last?.contains("returned a non-zero code: 1") == true, "\(error?.description ?? "")")
    }

    @Test func missingDockerClientSaysToInstallDocker() async throws {
        var fixture = try ImageFixture(bed: try await TestBed.withRegistries())
        fixture.variables["PATH"] = fixture.sandbox.root.path
        let error = await #expect(throws: ImageError.self) {
            try await fixture.ensure()
        }
        #expect(
            error?.description
                == "docker is not installed (no 'docker' on PATH); install Docker to build images for Kubernetes runs")
    }

    @Test func unreachableRegistryIsNamed() async throws {
        let bed = try await TestBed.withRegistries()
        // Port 1 on the loopback interface: nothing listens there.
        let fixture = try ImageFixture(bed: bed, registry: "127.0.0.1:1")
        let error = await #expect(throws: ImageError.self) {
            try await fixture.ensure()
        }
        #expect(
            error?.description
                == "registry 127.0.0.1:1 is unreachable (connection refused); check the context's registry_url and your network"
        )
    }
}
