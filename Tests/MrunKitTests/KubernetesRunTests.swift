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

/// `mrun run` on a Kubernetes context through the real binary: the real docker engine and
/// registry of the test bed build and hold the image, the fake API server receives the objects.
@Suite(.serialized) struct KubernetesRunTests {
    /// The binary's environment for a project of `fixture` reaching `server`.
    func environment(_ fixture: ImageFixture, server: FakeKubernetesServer, token: String) throws -> [String: String] {
        fixture.variables.merging([
            "KUBECONFIG": try server.kubeconfig(for: .certificate("alice")).path, "NEPTUNE_API_TOKEN": token,
        ]) { $1 }
    }

    func addContext(_ sandbox: Sandbox, registry: String, baseImage: String) async throws {
        let add = try await CLI.run(
            [
                "context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", registry, "--base_image",
                baseImage, "--project", "mrun-k8s-e2e",
            ], sandbox: sandbox)
        #expect(add.status == 0, "\(add.standardError)")
    }

    @Test func runBuildsPushesAndSubmitsThenRelaunchesWithoutBuilding() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let sandbox = fixture.sandbox
            try await addContext(sandbox, registry: bed.registry, baseImage: bed.baseImage)
            let token = "nep-TOKEN-e2e-do-not-leak-\(UUID().uuidString)"
            let env = try environment(fixture, server: server, token: token)
            let arguments = [
                "--context", "k", "run", "--requirements", "requirements.txt", "exp.py", "--", "--epochs", "3",
            ]

            let first = try await CLI.run(arguments, sandbox: sandbox, environment: env)
            #expect(first.status == 0, "\(first.standardError)")
            #expect(first.standardError.contains("mrun: building image "))
            #expect(first.standardError.contains("mrun: pushed "))
            for output in [first.standardOutput, first.standardError] { #expect(!output.contains(token)) }
            let name = try #require(
                first.standardOutput.split(separator: "\n").first { $0.hasPrefix("Created job ") }?.split(
                    separator: " "
                )
                .dropFirst(2).first.map(String.init))
            let launchLine = first.standardOutput.split(separator: "\n").last ?? ""
            #expect(first.standardOutput == "Created job \(name) in namespace mrun-k8s-e2e\n\(launchLine)\n")
            #expect(launchLine.hasPrefix("Launch: ") && launchLine.count == 16, "recorded in the history")
            #expect(first.standardError.contains("'mrun --context k logs \(name) -f'"))

            // The cluster got the namespace, the claim, the Secret with the token, the Job without it.
            let cluster = server.controller
            #expect(await cluster.all(Kubernetes.Namespace.self).contains { $0.metadata.name == "mrun-k8s-e2e" })
            _ = try await cluster.get(
                Kubernetes.PersistentVolumeClaim.self, namespace: "mrun-k8s-e2e", name: "mrun-storage")
            let secret = try await cluster.get(Kubernetes.Secret.self, namespace: "mrun-k8s-e2e", name: "mrun-neptune")
            #expect(secret.stringValue(forKey: "NEPTUNE_API_TOKEN") == token)
            let bodies = server.createBodies("jobs")
            #expect(bodies.count == 1)
            #expect(bodies.allSatisfy { !String(decoding: $0, as: UTF8.self).contains(token) })
            let job = try await cluster.get(Kubernetes.Job.self, namespace: "mrun-k8s-e2e", name: name)
            let container = try #require(job.spec?.template.spec?.containers.first)
            let image = try #require(container.image)
            let tag = String(image.prefix { $0 != "@" })
            #expect(tag.hasPrefix("\(bed.registry)/mrun-k8s-e2e/exp:"))
            #expect(image.dropFirst(tag.count).hasPrefix("@sha256:"), "pinned to the pushed digest")

            // Unchanged code: one registry question, no build, no push.
            let clock = ContinuousClock()
            let start = clock.now
            let second = try await CLI.run(arguments, sandbox: sandbox, environment: env)
            let relaunch = start.duration(to: clock.now)
            #expect(second.status == 0, "\(second.standardError)")
            #expect(second.standardError.contains("mrun: image \(tag) is already in the registry; no build, no push"))
            #expect(!second.standardError.contains("Step ") && !second.standardError.contains("pushing"))
            print("Kubernetes relaunch with unchanged code (binary, fake API server, real registry): \(relaunch)")

            // A code-only change rebuilds only the code layer.
            try sandbox.write(ImageFixture.script + "# tuned\n", to: "exp.py")
            let third = try await CLI.run(arguments, sandbox: sandbox, environment: env)
            #expect(third.status == 0, "\(third.standardError)")
            let log = third.standardError
            let pip = try #require(log.range(of: " : \(ImageFixture.pipStep)\n"))
            #expect(log[pip.upperBound...].hasPrefix(" ---> Using cache\n"), "the requirements layer is reused")
            let copy = try #require(log.range(of: " : COPY . /workspace\n"))
            #expect(!log[copy.upperBound...].hasPrefix(" ---> Using cache\n"), "the code layer is rebuilt")

            // The first pushed image, pulled back from the registry, runs the Job's command. Its untagged
            // parents stay: they are the build cache of tests building beside this one.
            _ = try await fixture.docker(["rmi", "--no-prune", tag])
            let network = bed.network.map { ["--network", $0] } ?? []
            let command = container.command ?? []
            let run = try await fixture.docker(
                ["run", "--rm"] + network + ["-w", container.workingDir ?? "/", "--entrypoint", command.first ?? ""]
                    + [image] + command.dropFirst() + (container.args ?? []))
            #expect(run.status == 0, "\(run.standardError)")
            #expect(
                run.standardOutput
                    == "epoch 1/3 loss=1.000\nepoch 2/3 loss=0.500\nepoch 3/3 loss=0.333\ndone \(fixture.runID)\n")

            #expect(await cluster.all(Kubernetes.Job.self, namespace: "mrun-k8s-e2e").count == 3)
            let tags = await cluster.all(Kubernetes.Job.self, namespace: "mrun-k8s-e2e").compactMap {
                $0.spec?.template.spec?.containers.first?.image.map { String($0.prefix { $0 != "@" }) }
            }
            await fixture.removeImages(Array(Set(tags)))
        }
    }

    @Test func sweepThroughTheBinaryCreatesOneJobPerPoint() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            try await addContext(fixture.sandbox, registry: bed.registry, baseImage: bed.baseImage)
            let result = try await CLI.run(
                [
                    "--context", "k", "run", "exp.py", "--grid", "lr=0.1,0.01,0.001", "--grid", "batch=16,32,64,128",
                    "--", "--epochs", "2",
                ],
                sandbox: fixture.sandbox,
                environment: try environment(fixture, server: server, token: "nep-TOKEN-sweep"))
            #expect(result.status == 0, "\(result.standardError)")
            #expect(
                result.standardOutput.hasSuffix("Created 12 jobs in namespace mrun-k8s-e2e\n"),
                "\(result.standardOutput)")
            #expect(result.standardError.components(separatedBy: "mrun: building image ").count == 2, "one image")
            let jobs = await server.controller.all(Kubernetes.Job.self, namespace: "mrun-k8s-e2e")
            #expect(jobs.count == 12)
            let arguments = Set(jobs.compactMap { $0.spec?.template.spec?.containers.first?.args })
            #expect(arguments.count == 12)
            #expect(arguments.contains(["--epochs", "2", "--lr", "0.001", "--batch", "128"]))
            let tags = Set(
                jobs.compactMap {
                    $0.spec?.template.spec?.containers.first?.image.map { String($0.prefix { $0 != "@" }) }
                })
            #expect(tags.count == 1)
            await fixture.removeImages(Array(tags))
        }
    }

    /// `sweep_mode: indexed` through the binary: one Indexed Job, each point listed from its pod,
    /// the sweep cancelled as one.
    @Test func anIndexedSweepThroughTheBinaryIsOneJobListedAndCancelledByPoint() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let sandbox = fixture.sandbox
            let edit = try await CLI.run(
                [
                    "context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", bed.registry,
                    "--base_image", bed.baseImage, "--project", "mrun-k8s-e2e", "--sweep_mode", "indexed",
                ],
                sandbox: sandbox)
            #expect(edit.status == 0, "\(edit.standardError)")
            let env = try environment(fixture, server: server, token: "nep-TOKEN-indexed")
            let run = try await CLI.run(
                [
                    "--context", "k", "run", "exp.py", "--grid", "seed=1,2,3,4", "--max-parallel", "2", "--",
                    "--epochs", "1",
                ],
                sandbox: sandbox, environment: env)
            #expect(run.status == 0, "\(run.standardError)")
            let jobs = await server.controller.all(Kubernetes.Job.self, namespace: "mrun-k8s-e2e")
            #expect(jobs.count == 1)
            let job = try #require(jobs.first)
            let name = try #require(job.metadata.name)
            #expect(
                run.standardOutput.hasSuffix(
                    "Created Indexed Job \(name) for 4 points (at most 2 at once) in namespace mrun-k8s-e2e\n"),
                "\(run.standardOutput)")
            let sweepID = try #require(job.metadata.labels?[KubernetesBackend.sweepIDLabel])
            let pods = try await server.controller.createIndexedPods(forJob: name, namespace: "mrun-k8s-e2e")
            for pod in pods where Kubernetes.CompletionIndex.of(pod) == 0 {
                try await server.controller.start(pod: try #require(pod.metadata.name), namespace: "mrun-k8s-e2e")
            }
            let list = try await CLI.run(["list", "--sweep", sweepID], sandbox: sandbox, environment: env)
            #expect(list.status == 0, "\(list.standardError)")
            #expect(list.standardOutput.contains("\(name):0"), "\(list.standardOutput)")
            #expect(list.standardOutput.components(separatedBy: "running").count - 1 == 1, "\(list.standardOutput)")
            let cancel = try await CLI.run(["cancel", "--sweep", sweepID], sandbox: sandbox, environment: env)
            #expect(cancel.status == 0, "\(cancel.standardError)")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "mrun-k8s-e2e").isEmpty)
            let after = try await CLI.run(["list", "--sweep", sweepID], sandbox: sandbox, environment: env)
            #expect(after.standardOutput.components(separatedBy: "cancelled").count - 1 == 4, "\(after.standardOutput)")
            let tags = Set(
                jobs.compactMap {
                    $0.spec?.template.spec?.containers.first?.image.map { String($0.prefix { $0 != "@" }) }
                })
            await fixture.removeImages(Array(tags))
        }
    }

    /// `rerun --failed` on Kubernetes: the failed point's Job is replaced by a new one of the same
    /// name, from the same image (not built again); the others are left alone.
    @Test func rerunFailedReplacesOnlyTheFailedPointsJob() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let sandbox = fixture.sandbox
            try await addContext(sandbox, registry: bed.registry, baseImage: bed.baseImage)
            let env = try environment(fixture, server: server, token: "nep-TOKEN-rerun")
            let run = try await CLI.run(
                ["--context", "k", "run", "exp.py", "--grid", "seed=1,2,3"], sandbox: sandbox, environment: env)
            #expect(run.status == 0, "\(run.standardError)")
            let namespace = "mrun-k8s-e2e"
            let jobs = await server.controller.all(Kubernetes.Job.self, namespace: namespace)
            #expect(jobs.count == 3)
            let sweepID = try #require(jobs.first?.metadata.labels?[KubernetesBackend.sweepIDLabel])
            var failedName = ""
            for job in jobs {
                let name = try #require(job.metadata.name)
                let index = job.metadata.labels?[KubernetesBackend.sweepIndexLabel]
                if index == "1" { failedName = name }
                try await server.controller.run(
                    job: name, namespace: namespace, lines: ["point \(index ?? "")"], exitCode: index == "1" ? 3 : 0)
            }
            let rerun = try await CLI.run(["rerun", "--failed", sweepID], sandbox: sandbox, environment: env)
            #expect(rerun.status == 0, "\(rerun.standardError)")
            #expect(!rerun.standardError.contains("mrun: building image"), "the image is in the registry")
            #expect(server.createBodies("jobs").count == 4)
            let replaced = try await server.controller.get(Kubernetes.Job.self, namespace: namespace, name: failedName)
            #expect(replaced.status?.condition("Failed") == nil, "a new Job: \(String(describing: replaced.status))")
            let original = try #require(jobs.first { $0.metadata.name == failedName })
            #expect(
                replaced.spec?.template.spec?.containers.first?.image
                    == original.spec?.template.spec?.containers.first?.image,
                "the same image, pinned to the same digest")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: namespace).count == 3)
            let logs = try await CLI.run(["logs", "--sweep", sweepID], sandbox: sandbox, environment: env)
            #expect(logs.standardOutput.contains("point 0"), "\(logs.standardOutput)")
            let tags = Set(
                jobs.compactMap {
                    $0.spec?.template.spec?.containers.first?.image.map { String($0.prefix { $0 != "@" }) }
                })
            await fixture.removeImages(Array(tags))
        }
    }

    @Test func failuresAreOneLineAndSayWhatExists() async throws {
        let bed = try await TestBed.withRegistries()
        try await withFakeKubernetes { server in
            let fixture = try ImageFixture(bed: bed)
            let sandbox = fixture.sandbox
            try await addContext(sandbox, registry: bed.registry, baseImage: bed.baseImage)
            var env = try environment(fixture, server: server, token: "nep-TOKEN-failures")
            let arguments = ["--context", "k", "run", "exp.py"]
            let exists =
                " (no Job was created; these exist now and the next run reuses them: namespace \"mrun-k8s-e2e\","
                + " PersistentVolumeClaim \"mrun-storage\", Secret \"mrun-neptune\")\n"

            let socket = sandbox.root.appendingPathComponent("missing/docker.sock").path
            var noDocker = env
            noDocker["DOCKER_HOST"] = "unix://\(socket)"
            let docker = try await CLI.run(arguments, sandbox: sandbox, environment: noDocker)
            #expect(docker.status == 1)
            #expect(
                docker.standardError.hasSuffix(
                    "error: Cannot connect to the Docker daemon at unix://\(socket): start docker, or set DOCKER_HOST to a running daemon"
                        + exists), "\(docker.standardError)")

            let unreachable = try await CLI.run(
                [
                    "context", "add", "--name", "far", "--type", "kubernetes", "--registry_url", "127.0.0.1:1",
                    "--project", "mrun-k8s-e2e",
                ],
                sandbox: sandbox)
            #expect(unreachable.status == 0)
            let registry = try await CLI.run(["--context", "far", "run", "exp.py"], sandbox: sandbox, environment: env)
            #expect(registry.status == 1)
            #expect(
                registry.standardError.hasSuffix(
                    "error: registry 127.0.0.1:1 is unreachable (connection refused); check the context's registry_url and your network"
                        + exists), "\(registry.standardError)")

            env["KUBECONFIG"] = sandbox.root.appendingPathComponent("none").path
            let requests = server.requests.count
            let kubeconfig = try await CLI.run(arguments, sandbox: sandbox, environment: env)
            #expect(kubeconfig.status == 1)
            #expect(kubeconfig.standardError.hasPrefix("error: no kubeconfig found through KUBECONFIG: none of "))
            #expect(kubeconfig.standardError.split(separator: "\n").count == 1)
            #expect(server.requests.count == requests, "nothing was asked of the cluster")
            #expect(await server.controller.all(Kubernetes.Job.self, namespace: "mrun-k8s-e2e").isEmpty)
        }
    }

    @Test func lifecycleCommandsThroughTheBinary() async throws {
        try await withFakeKubernetes { server in
            let project = try KubernetesProject(server: server)
            let recorder = try project.recorder()
            let plan = try project.plan(name: "life")
            #expect(await project.run(plan, recorder: recorder).status == 0)
            let name = plan.experiment.name
            let other = try project.plan(name: "other")
            #expect(await project.run(other, recorder: recorder).status == 0)
            let add = try await CLI.run(
                [
                    "context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", "127.0.0.1:5000",
                    "--project", "proj",
                ], sandbox: project.sandbox)
            #expect(add.status == 0)
            func mrun(_ arguments: [String]) async throws -> CLIResult {
                try await CLI.run(arguments, sandbox: project.sandbox, environment: project.variables)
            }
            let pending = try await mrun(["logs", name])
            #expect(pending.status == 0, "\(pending.standardError)")
            #expect(
                pending.standardError
                    == "mrun: job \(name) is PENDING: no output yet; follow it with 'mrun logs -f \(name)'\n")

            try await server.controller.run(job: name, namespace: "proj", lines: ["hello", "world"], exitCode: 3)
            let status = try await mrun(["status", name])
            #expect(status.status == 0, "\(status.standardError)")
            #expect(status.standardOutput.contains("Context    k (kubernetes)\nJob        \(name) (namespace proj)\n"))
            #expect(status.standardOutput.contains("State      FAILED (BackoffLimitExceeded), exit code 3\n"))
            let logs = try await mrun(["logs", name, "-f"])
            #expect(logs.standardOutput == "hello\nworld\n")
            #expect(logs.standardError == "mrun: job \(name) FAILED (BackoffLimitExceeded), exit code 3\n")

            let pod = try await server.controller.createPod(forJob: other.experiment.name, namespace: "proj")
            try await server.controller.start(pod: pod.metadata.name ?? "", namespace: "proj")
            let list = try await mrun(["list"])
            #expect(list.status == 0, "\(list.standardError)")
            let rows = list.standardOutput.split(separator: "\n")
            #expect(rows.count == 3)
            #expect(rows.contains { $0.contains(name) && $0.contains("failed") }, "\(list.standardOutput)")
            #expect(
                rows.contains { $0.contains(other.experiment.name) && $0.contains("running") }, "\(list.standardOutput)"
            )
            let all = try await mrun(["--context", "k", "list", "--all"])
            #expect(all.standardOutput.split(separator: "\n").count == 3, "\(all.standardOutput)")

            let cancel = try await mrun(["cancel", other.experiment.name])
            #expect(cancel.status == 0, "\(cancel.standardError)")
            #expect(cancel.standardOutput.hasPrefix("Cancelled job \(other.experiment.name) ("))
            #expect(cancel.standardOutput.hasSuffix(": CANCELLED (Job deleted with its pods)\n"))
            #expect(await server.controller.pods(ofJob: other.experiment.name, namespace: "proj").isEmpty)
            let ended = try await mrun(["cancel", name])
            #expect(ended.standardOutput.contains("had already ended: FAILED"), "\(ended.standardOutput)")
            let after = try await mrun(["status", other.experiment.name])
            #expect(after.standardOutput.contains("State      CANCELLED"), "\(after.standardOutput)")
        }
    }
}
