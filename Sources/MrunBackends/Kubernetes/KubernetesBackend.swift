import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Submits experiments to a Kubernetes cluster: reads the kubeconfig like kubectl, makes sure the
/// project's namespace, storage claim and credentials Secret exist, makes sure the image is in the
/// registry (built and pushed only when its content hash is new), and creates the Job, pinned to
/// the pushed image. Sweeps share one image and create their points' Jobs concurrently.
///
/// Secret values travel only in the Secret: never printed, logged, or put in a Job.
public struct KubernetesBackend: Backend {
    public var host: HostEnvironment
    public var sink: any OutputSink
    public var imageBuilder: any ImageBuilder
    public var http: KubernetesHTTPClient
    /// Shut `http` down when done. The command line shuts its environment's client down itself
    /// after a command that failed; one that succeeded ends the process with its connections open.
    public var shutsDownHTTPClient: Bool
    public var clientOptions: KubernetesClient.Options
    /// Job creates in flight at once during a sweep.
    public var maxConcurrentCreates: Int
    /// Records each launch in the history (with the pushed image's digest) before its Job is
    /// created, then its Job name.
    public var recorder: LaunchRecorder?
    /// Receives warnings (fields of the Job template mrun does not send, the server's own).
    public var warn: @Sendable (String) -> Void

    public init(
        host: HostEnvironment, sink: any OutputSink, http: KubernetesHTTPClient,
        warn: @escaping @Sendable (String) -> Void, imageBuilder: (any ImageBuilder)? = nil,
        shutsDownHTTPClient: Bool = false, clientOptions: KubernetesClient.Options = KubernetesClient.Options(),
        maxConcurrentCreates: Int = 32, recorder: LaunchRecorder? = nil
    ) {
        self.host = host
        self.sink = sink
        self.warn = warn
        self.imageBuilder = imageBuilder ?? DockerImageBuilder(host: host)
        self.http = http
        self.shutsDownHTTPClient = shutsDownHTTPClient
        self.clientOptions = clientOptions
        self.maxConcurrentCreates = max(1, maxConcurrentCreates)
        self.recorder = recorder
    }

    /// The backend a command runs: the environment's HTTP client, which the command shuts down.
    public init(environment: MrunEnvironment, recorder: LaunchRecorder?) {
        self.init(
            host: environment.host, sink: environment.sink, http: environment.http, warn: environment.warn,
            recorder: recorder)
    }

    public func execute(_ plan: ExperimentPlan) async throws -> Int32 {
        try await closingHTTPClient {
            let launch: Launch
            do {
                launch = try await prepare(plan)
            } catch {
                await RecordedLaunches.recordFailed([plan], by: recorder)
                throw error
            }
            let namespace = launch.namespace
            let name = plan.experiment.name
            let recorded = await RecordedLaunches.record([plan], by: recorder) { $0.imageDigest = launch.digest }
            do {
                let job = try jobObject(
                    of: plan, image: launch.image, labels: [:], requestID: nil,
                    launch: recorded.launchVariable(sweep: false))
                let created: Kubernetes.Job
                do {
                    created = try await launch.client.createJob(job, namespace: namespace)
                } catch {
                    throw KubernetesSetup.incomplete(error, present: launch.present)
                }
                try await Self.ensureGangService(
                    for: created, plan: plan, client: launch.client, namespace: namespace)
            } catch {
                await recorded.failed()
                throw error
            }
            await recorded.started(jobIds: [name], state: .submitted)
            let service = plan.shape.isGang ? " with its headless Service" : ""
            await sink.standardOutput(Array("Created job \(name)\(service) in namespace \(namespace)\n".utf8))
            if let id = recorded.firstID { await sink.standardOutput(Array("Launch: \(id)\n".utf8)) }
            let context = plan.context.name
            await note(
                "mrun: follow it with 'mrun --context \(context) logs \(name) -f';"
                    + " state: 'mrun --context \(context) status \(name)'")
            return 0
        }
    }

    /// What a launch has once the cluster and the image are ready for its Jobs.
    struct Launch {
        var client: KubernetesClient
        var namespace: String
        /// The image reference the Jobs run: the tag pinned to the pushed digest.
        var image: String
        /// The pushed image's digest, `sha256:…`; nil when the image step gave none.
        var digest: String?
        /// What exists now, for error messages.
        var present: [String]
    }

    /// Connects, then prepares the namespace, claim and Secret while it asks the registry for the
    /// image: one round trip's wait instead of two. A cluster problem still shows before a long
    /// build, which the image step starts only if the setup has not failed (leaving this scope
    /// cancels it).
    func prepare(_ plan: ExperimentPlan) async throws -> Launch {
        guard let target = plan.kubernetes, let image = plan.image else {
            throw ExperimentError.planMismatch(type: plan.context.type, issue: "not a Kubernetes plan")
        }
        let client = try await KubernetesSetup.connect(
            kubeContext: target.kubeContext, host: host, http: http, options: clientOptions, sink: sink, warn: warn)
        PhaseProfile.mark("kubeconfig read")
        let imageBuilder = self.imageBuilder
        let sink = self.sink
        async let imageStep = imageBuilder.ensureImage(for: plan, progress: sink)
        let present = try await KubernetesSetup(client: client, sink: sink).prepare(plan, target: target)
        PhaseProfile.mark("namespace, claim and Secret")
        let result: ImageResult
        do {
            result = try await imageStep
            PhaseProfile.mark("image checked")
        } catch {
            throw KubernetesSetup.incomplete(error, present: present)
        }
        let pinned = result.digest.isEmpty ? image.tag : "\(image.tag)@\(result.digest)"
        return Launch(
            client: client, namespace: target.namespace, image: pinned,
            digest: result.digest.isEmpty ? nil : result.digest, present: present)
    }

    /// The plan's Job, running `image` (nil: still the plan's tag, for ``pin(_:plan:image:)``), with
    /// extra labels (on the Job and its pods) and, for a deterministic create, its request id.
    /// Fields the template sets that mrun cannot send are reported (with `reportDropped`); a
    /// secret's value in the Job is refused.
    func jobObject(
        of plan: ExperimentPlan, image: String?, labels: [String: String], requestID: String?,
        reportDropped: Bool = true, launch: EnvironmentVariable? = nil
    ) throws -> Kubernetes.Job {
        var job = try convertedJob(of: plan, reportDropped: reportDropped).object
        job.metadata.namespace = plan.kubernetes?.namespace
        if !labels.isEmpty {
            job.metadata.labels = (job.metadata.labels ?? [:]).merging(labels) { $1 }
            var template = job.spec?.template.metadata ?? Kubernetes.ObjectMeta()
            template.labels = (template.labels ?? [:]).merging(labels) { $1 }
            job.spec?.template.metadata = template
        }
        if let requestID {
            job.metadata.annotations = (job.metadata.annotations ?? [:]).merging(
                [KubernetesClient.requestIDAnnotation: requestID]) { $1 }
        }
        if let image { Self.pin(&job, plan: plan, image: image) }
        if let launch { Self.tell(&job, launch: launch) }
        return job
    }

    /// The plan's Job artefact; a secret's value in it is refused.
    func jobArtefact(of plan: ExperimentPlan) throws -> Artefact {
        guard let artefact = plan.artefact(.job) else {
            throw ExperimentError.planMismatch(type: plan.context.type, issue: "the plan has no Job")
        }
        for secret in plan.secrets where secret.value.count >= 6 && artefact.content.contains(secret.value) {
            throw KubernetesBackendError.secretInManifest(artefact: artefact.name, variable: secret.name)
        }
        return artefact
    }

    /// The plan's Job as the typed object; with `reportDropped`, the fields it cannot hold are
    /// named in a warning.
    func convertedJob(of plan: ExperimentPlan, reportDropped: Bool) throws
        -> KubernetesManifests.Converted<Kubernetes.Job>
    {
        let artefact = try jobArtefact(of: plan)
        let converted = try KubernetesManifests.object(Kubernetes.Job.self, from: artefact, findDropped: reportDropped)
        if reportDropped && !converted.dropped.isEmpty {
            warn("\(artefact.name) sets fields mrun does not send: " + converted.dropped.joined(separator: ", "))
        }
        return converted
    }

    /// Gives every container the launch ids (known once recorded, after the manifest was
    /// rendered), for the job's notifier.
    static func tell(_ job: inout Kubernetes.Job, launch: EnvironmentVariable) {
        guard var spec = job.spec?.template.spec else { return }
        for index in spec.containers.indices {
            spec.containers[index].env =
                (spec.containers[index].env ?? []) + [Kubernetes.EnvVar(name: launch.name, value: launch.value)]
        }
        job.spec?.template.spec = spec
    }

    /// Makes the containers that run the plan's image tag run `image` (the tag pinned to the
    /// pushed digest) instead.
    static func pin(_ job: inout Kubernetes.Job, plan: ExperimentPlan, image: String) {
        guard let tag = plan.image?.tag, var spec = job.spec?.template.spec else { return }
        for index in spec.containers.indices where spec.containers[index].image == tag {
            spec.containers[index].image = image
        }
        job.spec?.template.spec = spec
    }

    /// Runs `body`, then shuts the HTTP client down when this backend owns it, also after an error.
    func closingHTTPClient<Value: Sendable>(_ body: () async throws -> Value) async throws -> Value {
        let value: Value
        do {
            value = try await body()
        } catch {
            if shutsDownHTTPClient { try? await http.shutdown() }
            throw error
        }
        if shutsDownHTTPClient { try? await http.shutdown() }
        return value
    }

    func note(_ text: String) async {
        await sink.standardError(Array((text + "\n").utf8))
    }
}
