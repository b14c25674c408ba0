import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A sweep on Kubernetes: one image and one set of shared objects (namespace, claim, Secret),
/// then one Job per point, created concurrently over the shared HTTP connections with at most
/// ``KubernetesBackend/maxConcurrentCreates`` requests in flight.
///
/// Creating is idempotent: each point's Job has a deterministic name and request id, so a Job that
/// already exists with the same id (an earlier, interrupted submission of this sweep) counts as
/// submitted and is never duplicated.
extension KubernetesBackend {
    /// Labels of a point's Job and pods, beside the template's `mrun/sweep`.
    public static let sweepIDLabel = "mrun/sweep-id"
    public static let sweepIndexLabel = "mrun/sweep-index"

    public func execute(_ sweep: SweepPlan) async throws -> Int32 {
        try await closingHTTPClient {
            await sink.standardOutput(Array(SweepPrinter.announcement(sweep).utf8))
            let indexed = sweep.base.kubernetes?.isIndexedSweep == true
            if let limit = sweep.maxParallel, !indexed {
                await note(
                    "mrun: note: --max-parallel \(limit) is not enforced on Kubernetes: every point's Job is"
                        + " created now and the cluster's quotas decide how many run at once")
            }
            // Converting the points' Jobs from their YAML is most of mrun's own work per point; it
            // runs beside the cluster's setup and the history's write, which mostly wait.
            let conversion = indexed ? nil : Task { convertedJobs(sweep) }
            defer { conversion?.cancel() }
            // The points are recorded (before any Job exists) while the cluster is set up; their
            // image's digest follows with their Jobs' names.
            let recorder = self.recorder
            async let recording = RecordedLaunches.record(
                sweep.plans, points: sweep.points, sweepId: sweep.id, by: recorder)
            let launch: Launch
            do {
                launch = try await prepare(sweep.base)
            } catch {
                await recording.failed()
                throw error
            }
            PhaseProfile.mark("cluster and image ready")
            let recorded = await recording
            PhaseProfile.mark("\(sweep.plans.count) launches recorded")
            let outcome: SweepOutcome
            do {
                outcome =
                    try await indexed
                    ? createIndexedJob(sweep, launch: launch, ids: recorded.launchVariable(sweep: true))
                    : createJobs(
                        sweep, launch: launch, converted: await conversion?.value, ids: recorded.records.map(\.id))
            } catch {
                await recorded.failed()
                throw KubernetesSetup.incomplete(error, present: launch.present)
            }
            PhaseProfile.mark("\(outcome.created + outcome.existing) Jobs created")
            await recorded.started(
                outcome.jobIds
                    ?? Dictionary(
                        outcome.submitted.map { ($0, sweep.plans[$0].experiment.name) },
                        uniquingKeysWith: { first, _ in first }),
                state: .submitted, imageDigest: launch.digest)
            await recorded.failed(at: Array(outcome.failedOffsets))
            PhaseProfile.mark("job ids recorded")
            let namespace = launch.namespace
            if outcome.failed > 0 {
                throw KubernetesBackendError.sweepIncomplete(
                    created: outcome.created, existing: outcome.existing, failed: outcome.failed,
                    namespace: namespace, firstError: outcome.firstError ?? "unknown error")
            }
            if indexed {
                await sink.standardOutput(
                    Array(Self.indexedSummary(sweep, outcome: outcome, namespace: namespace).utf8))
                await note(
                    "mrun: follow point N with 'mrun --context \(sweep.base.context.name) logs \(sweep.name)-N -f';"
                        + " all of them: 'mrun list --sweep \(sweep.id)'; stop them: 'mrun cancel --sweep \(sweep.id)'")
                return 0
            }
            let created = outcome.created
            var summary = "Created \(created) job\(created == 1 ? "" : "s") in namespace \(namespace)"
            if outcome.existing > 0 {
                summary += "; \(outcome.existing) were there already, from an earlier submission of this sweep"
            }
            await sink.standardOutput(Array((summary + "\n").utf8))
            let context = sweep.base.context.name
            let first = Naming.pointName(sweep: sweep.name, index: 0)
            await note(
                "mrun: follow point N with 'mrun --context \(context) logs \(sweep.name)-N -f'"
                    + " (e.g. \(first)); all of them: 'mrun list --sweep \(sweep.id)'")
            return 0
        }
    }

    struct SweepOutcome {
        var created = 0
        var existing = 0
        var failed = 0
        var firstError: String?
        /// Positions in the sweep's plans of the points whose Job exists now, and of those without.
        var submitted: [Int] = []
        var failedOffsets: [Int] = []
        /// The job id each submitted point is recorded with, when it is not its own Job's name.
        var jobIds: [Int: String]?
    }

    private enum PointResult: Sendable {
        case created(offset: Int)
        case existing(offset: Int)
        case failed(offset: Int, index: Int, message: String)
    }

    /// Every point's Job as its YAML converts, not yet running the pushed image, in the order of
    /// the sweep's plans; stops early when cancelled (the launch failed).
    func convertedJobs(_ sweep: SweepPlan) -> [Result<Kubernetes.Job, any Error>] {
        var jobs: [Result<Kubernetes.Job, any Error>] = []
        jobs.reserveCapacity(sweep.plans.count)
        for point in Self.points(of: sweep) {
            if Task.isCancelled { break }
            jobs.append(Result { try jobObject(sweep, point: point, image: nil) })
        }
        return jobs
    }

    private static func points(of sweep: SweepPlan) -> [Point] {
        sweep.plans.enumerated().map { offset, plan in
            Point(
                offset: offset, index: sweep.points.indices.contains(offset) ? sweep.points[offset].index : offset,
                plan: plan)
        }
    }

    private func jobObject(_ sweep: SweepPlan, point: Point, image: String?) throws -> Kubernetes.Job {
        let requestID = "sweep/\(sweep.name)/\(point.index)/\(point.plan.experiment.contentHash.prefix(16))"
        return try jobObject(
            of: point.plan, image: image,
            labels: [Self.sweepIDLabel: sweep.id, Self.sweepIndexLabel: String(point.index)], requestID: requestID,
            reportDropped: point.offset == 0)
    }

    /// Creates every point's Job, at most ``maxConcurrentCreates`` at once, from the `converted`
    /// Jobs (else each converted from its YAML in its own task). A point that fails does not stop
    /// the others; a template that does not convert fails at the first point, before anything is
    /// created.
    /// `ids`: the points' launch ids, by offset (none when nothing was recorded).
    func createJobs(
        _ sweep: SweepPlan, launch: Launch, converted: [Result<Kubernetes.Job, any Error>]? = nil, ids: [String] = []
    ) async throws -> SweepOutcome {
        let points = Self.points(of: sweep)
        let converted = converted?.count == points.count ? converted : nil
        let job = { @Sendable (point: Point) throws -> Kubernetes.Job in
            var object = try converted?[point.offset].get() ?? jobObject(sweep, point: point, image: nil)
            Self.pin(&object, plan: point.plan, image: launch.image)
            if ids.indices.contains(point.offset) {
                Self.tell(&object, launch: EnvironmentVariable(name: "MRUN_LAUNCH_ID", value: ids[point.offset]))
            }
            return object
        }
        guard let first = points.first else { return SweepOutcome() }
        let firstJob = try job(first)
        let client = launch.client
        let namespace = launch.namespace
        var outcome = SweepOutcome()
        var failures: [(index: Int, message: String)] = []
        let results = await BoundedConcurrency.map(points, limit: maxConcurrentCreates) { _, point in
            do {
                let object = point.offset == 0 ? firstJob : try job(point)
                return await Self.create(object, point: point, client: client, namespace: namespace)
            } catch {
                return PointResult.failed(offset: point.offset, index: point.index, message: "\(error)")
            }
        }
        for result in results.compactMap({ $0 }) {
            switch result {
            case .created(let offset):
                outcome.created += 1
                outcome.submitted.append(offset)
            case .existing(let offset):
                outcome.existing += 1
                outcome.submitted.append(offset)
            case .failed(let offset, let index, let message):
                outcome.failed += 1
                outcome.failedOffsets.append(offset)
                failures.append((index, message))
            }
        }
        outcome.firstError = failures.min { $0.index < $1.index }.map { "point \($0.index): \($0.message)" }
        return outcome
    }

    struct Point: Sendable {
        /// Position in the sweep's plans.
        var offset: Int
        /// The point's index in the sweep (its name ends in `-INDEX`).
        var index: Int
        var plan: ExperimentPlan
    }

    /// Creates one point's Job (and a gang's Service); one that exists with the same request id was
    /// created by this sweep.
    private static func create(_ job: Kubernetes.Job, point: Point, client: KubernetesClient, namespace: String)
        async -> PointResult
    {
        let failed = { (message: String) in
            PointResult.failed(offset: point.offset, index: point.index, message: message)
        }
        do {
            if point.plan.shape.isGang {
                let created = try await client.createJob(job, namespace: namespace)
                try await ensureGangService(for: created, plan: point.plan, client: client, namespace: namespace)
            } else {
                // Only a gang's Service needs more of the stored Job than that it exists.
                _ = try await client.createJobReadingMetadata(job, namespace: namespace)
            }
            return .created(offset: point.offset)
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            let name = job.metadata.name ?? ""
            let marker = job.metadata.annotations?[KubernetesClient.requestIDAnnotation]
            do {
                let stored = try await client.getJob(name, namespace: namespace)
                if marker != nil && stored.metadata.annotations?[KubernetesClient.requestIDAnnotation] == marker {
                    try await ensureGangService(for: stored, plan: point.plan, client: client, namespace: namespace)
                    return .existing(offset: point.offset)
                }
                return failed(KubernetesBackendError.foreignJob(name: name, namespace: namespace).description)
            } catch {
                return failed("\(error)")
            }
        } catch {
            return failed("\(error)")
        }
    }
}
