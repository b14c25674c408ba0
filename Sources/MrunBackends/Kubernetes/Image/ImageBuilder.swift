import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Makes sure the image a Kubernetes plan runs is in its registry. A protocol so that the
/// Kubernetes backend can be tested with a fake.
public protocol ImageBuilder: Sendable {
    /// Returns once `plan.image.tag` is in the registry: found there, or built and pushed.
    func ensureImage(for plan: ExperimentPlan, progress: some OutputSink) async throws -> ImageResult
}

/// What the image step did and how long each part took.
public struct ImageResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The tag was already in the registry: nothing was built or pushed.
        case alreadyInRegistry(tag: String, digest: String)
        case built(tag: String, imageID: String, digest: String)
    }

    public enum Phase: String, Sendable, Equatable {
        case registryCheck = "registry check"
        case build, push, inspect
    }

    public struct Timing: Sendable, Equatable {
        public var phase: Phase
        public var duration: Duration
    }

    public var outcome: Outcome
    /// The phases that ran, in order.
    public var timings: [Timing]
    /// The Dockerfile's steps as docker ran them; empty when nothing was built.
    public var buildSteps: [BuildStep]

    public var phases: [Phase] { timings.map(\.phase) }

    public var tag: String {
        switch outcome {
        case .alreadyInRegistry(let tag, _), .built(let tag, _, _): tag
        }
    }

    /// `sha256:…`, the manifest digest in the registry.
    public var digest: String {
        switch outcome {
        case .alreadyInRegistry(_, let digest), .built(_, _, let digest): digest
        }
    }

    /// `REPOSITORY@sha256:…`: exactly this image, even if the tag is pushed again.
    public var pinnedReference: String {
        let repository = ImageReference(tag).map { "\($0.registry)/\($0.repository)" } ?? tag
        return "\(repository)@\(digest)"
    }
}

/// The real ``ImageBuilder``: asks the registry, else builds with the `docker` client (classic
/// builder), pushes, and reads the pushed digest.
///
/// Uses the daemon of `DOCKER_HOST` and the logins in `$DOCKER_CONFIG/config.json` (default
/// `~/.docker/config.json`) of `host`, never the process's own. Nothing of the plan's environment
/// reaches the build: secrets are given to the experiment at run time, never baked into the image.
public struct DockerImageBuilder: ImageBuilder {
    public var host: HostEnvironment
    public var style: ImageProgressStyle
    /// `docker build --network`, for a daemon without a bridge network (`host`).
    public var buildNetwork: String?

    public init(host: HostEnvironment, style: ImageProgressStyle = .automatic, buildNetwork: String? = nil) {
        self.host = host
        self.style = style
        self.buildNetwork = buildNetwork
    }

    public func ensureImage(for plan: ExperimentPlan, progress sink: some OutputSink) async throws -> ImageResult {
        guard let image = plan.image, let dockerfile = plan.artefact(.dockerfile) else {
            throw ImageError.notAnImagePlan(experiment: plan.experiment.name)
        }
        guard let reference = ImageReference(image.tag) else { throw ImageError.invalidTag(image.tag) }
        let config = try DockerConfig(host: host)
        let login = try await config.login(for: reference.credentialKey, host: host)
        let progress = ImageProgress(sink: sink, style: style)
        var timer = PhaseTimer()

        let registry = RegistryClient(
            reference: reference, login: login,
            schemes: Self.schemes(registryURL: plan.context.kubernetes.registryURL, reference: reference))
        let lookup = try await registry.lookup()
        timer.lap(.registryCheck)
        switch lookup {
        case .present(let digest):
            await progress.note("mrun: image \(image.tag) is already in the registry; no build, no push")
            return ImageResult(
                outcome: .alreadyInRegistry(tag: image.tag, digest: digest), timings: timer.timings, buildSteps: [])
        case .unknown(let reason):
            await progress.note("mrun: cannot ask the registry about \(image.tag) (\(reason)); building it")
        case .absent:
            break
        }
        // The cluster's setup runs beside the registry check; when it failed, nothing is built.
        try Task.checkCancellation()

        let docker = DockerCLI(host: host, configDirectory: config.directory)
        await progress.note("mrun: building image \(image.tag)")
        let imageID = try await build(
            tag: image.tag, snapshot: plan.snapshot, dockerfile: dockerfile.content, docker: docker,
            progress: progress)
        timer.lap(.build)
        await progress.note("mrun: pushing \(image.tag)")
        try await push(
            reference: reference, tag: image.tag, loggedIn: login != .missing, docker: docker, progress: progress)
        timer.lap(.push)
        let digest = try await pushedDigest(
            reference: reference, tag: image.tag, docker: docker, fromPush: await progress.pushedDigest)
        timer.lap(.inspect)
        await progress.note("mrun: pushed \(image.tag) (\(digest))")
        return ImageResult(
            outcome: .built(tag: image.tag, imageID: imageID, digest: digest), timings: timer.timings,
            buildSteps: await progress.steps)
    }

    /// URL schemes to reach the registry with: the one `registry_url` names, else HTTPS, and for a
    /// registry on this machine also plain HTTP, which docker allows there without configuration.
    static func schemes(registryURL: String?, reference: ImageReference) -> [String] {
        if registryURL?.hasPrefix("http://") == true { return ["http"] }
        if registryURL?.hasPrefix("https://") == true { return ["https"] }
        return reference.isLoopback ? ["https", "http"] : ["https"]
    }

    private func build(
        tag: String, snapshot: CodeSnapshot, dockerfile: String, docker: DockerCLI,
        progress: ImageProgress<some OutputSink>
    ) async throws -> String {
        let directory = try BuildDirectory.assemble(snapshot: snapshot, dockerfile: dockerfile, host: host)
        defer { directory.remove() }
        // --force-rm: a failed step's container is of no use after mrun has shown its output.
        var arguments = [
            "build", "--force-rm", "--iidfile", directory.imageIDFile.path, "-t", tag, "-f", directory.dockerfile.path,
        ]
        if let buildNetwork { arguments += ["--network", buildNetwork] }
        arguments.append(directory.context.path)
        await progress.begin()
        let status = try await docker.stream(arguments, workingDirectory: directory.root.path) { line, stream in
            await progress.build(line, from: stream)
        }
        await progress.closeLiveLine()
        guard status.succeeded else {
            if let daemon = DockerFailure.daemonProblem(in: await progress.errors.joined(separator: "\n")) {
                throw daemon
            }
            var output = await progress.tail
            guard let step = await progress.steps.last else {
                throw ImageError.buildFailed(status: status, output: output)
            }
            if output.first == step.line { output.removeFirst() }
            throw ImageError.buildStepFailed(step: step.line, status: status, output: output)
        }
        let imageID = (try? String(contentsOf: directory.imageIDFile, encoding: .utf8)) ?? ""
        guard !imageID.isEmpty else {
            throw ImageError.buildFailed(status: status, output: ["docker build wrote no image ID"])
        }
        return imageID.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func push(
        reference: ImageReference, tag: String, loggedIn: Bool, docker: DockerCLI,
        progress: ImageProgress<some OutputSink>
    ) async throws {
        await progress.begin()
        let status = try await docker.stream(["push", tag], workingDirectory: nil) { line, stream in
            await progress.push(line, from: stream)
        }
        await progress.closeLiveLine()
        guard status.succeeded else {
            let output = await progress.tail
            let errors = await progress.errors
            if let problem = DockerFailure.pushProblem(
                in: errors.isEmpty ? output : errors, tag: tag, registry: reference.registry, loggedIn: loggedIn)
            {
                throw problem
            }
            throw ImageError.pushFailed(tag: tag, status: status, output: output)
        }
    }

    /// The digest the registry gave the pushed manifest, from the `RepoDigests` entry of this
    /// repository: the first entry may belong to another registry the same image was pushed to.
    private func pushedDigest(
        reference: ImageReference, tag: String, docker: DockerCLI, fromPush: String?
    ) async throws -> String {
        let result = try await docker.run(["inspect", "--type", "image", "-f", "{{json .RepoDigests}}", tag])
        if result.status.succeeded,
            let digests = try? JSONDecoder().decode([String].self, from: Data(result.standardOutput.utf8)),
            let entry = digests.first(where: { $0.hasPrefix(reference.repositoryName + "@") })
        {
            return String(entry.dropFirst(reference.repositoryName.count + 1))
        }
        if let fromPush { return fromPush }
        if let daemon = DockerFailure.daemonProblem(in: result.standardError) { throw daemon }
        let reason = result.standardError.split(separator: "\n").last.map(String.init) ?? "no RepoDigests entry"
        throw ImageError.digestUnavailable(tag: tag, reason: reason)
    }
}

/// Times consecutive phases with a monotonic clock.
private struct PhaseTimer {
    private let clock = ContinuousClock()
    private var start: ContinuousClock.Instant
    private(set) var timings: [ImageResult.Timing] = []

    init() { start = clock.now }

    mutating func lap(_ phase: ImageResult.Phase) {
        let now = clock.now
        timings.append(ImageResult.Timing(phase: phase, duration: start.duration(to: now)))
        start = now
    }
}
