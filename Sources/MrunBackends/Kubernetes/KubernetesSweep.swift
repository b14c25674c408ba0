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
        try await submit(base: sweep.base) { sweep }
    }

    public func execute(_ planning: SweepPlanning, points: @escaping @Sendable () async throws -> SweepPlan)
        async throws -> Int32
    {
        try await submit(base: planning.base, points: points)
    }

    /// The cluster is set up for the plan the points share (namespace, claim, Secret, image) while
    /// `points` plans them: the setup mostly waits for the server, the planning keeps the cores busy.
    private func submit(base: ExperimentPlan, points: @escaping @Sendable () async throws -> SweepPlan)
        async throws -> Int32
    {
        try await closingHTTPClient {
            let setup = Task { try await prepare(base) }
            let sweep: SweepPlan
            do {
                sweep = try await points()
            } catch {
                setup.cancel()
                _ = try? await setup.value
                throw error
            }
            await sink.standardOutput(Array(SweepPrinter.announcement(sweep).utf8))
            let indexed = sweep.base.kubernetes?.isIndexedSweep == true
            if let limit = sweep.maxParallel, !indexed {
                await note(
                    "mrun: note: --max-parallel \(limit) is not enforced on Kubernetes: every point's Job is"
                        + " created now and the cluster's quotas decide how many run at once")
            }
            // The points are recorded (before any Job exists) while the cluster is set up, a few
            // at a time: each point's Job is created once its launch is recorded. Their image's
            // digest follows with their Jobs' names.
            let recording = ChunkedLaunches.record(sweep.plans, points: sweep.points, sweepId: sweep.id, by: recorder)
            let launch: Launch
            do {
                launch = try await setup.value
            } catch {
                await recording.all().failed()
                throw error
            }
            PhaseProfile.mark("cluster and image ready")
            let outcome: SweepOutcome
            do {
                outcome =
                    try await indexed
                    ? createIndexedJob(sweep, launch: launch, ids: recording.all().launchVariable(sweep: true))
                    : createJobs(sweep, launch: launch, ids: recording.id(at:))
            } catch {
                await recording.all().failed()
                throw KubernetesSetup.incomplete(error, present: launch.present)
            }
            PhaseProfile.mark("\(outcome.created + outcome.existing) Jobs created")
            let recorded = await recording.all()
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

    /// A point's Job as it will be sent, not yet running the pushed image: a gang's typed, any
    /// other's the document its template rendered, without the `dropped` fields (those the first
    /// point's typed conversion found a Job cannot hold, see ``SweepJob``).
    func sweepJob(_ sweep: SweepPlan, point: Point, dropping dropped: [[JSONValue.Step]]) throws -> SweepJob {
        if point.plan.shape.isGang { return .typed(try jobObject(sweep, point: point, image: nil)) }
        return .document(
            try jobDocument(
                of: point.plan, labels: Self.labels(sweep, point: point),
                requestID: Self.requestID(sweep, point: point),
                dropping: dropped))
    }

    private static func points(of sweep: SweepPlan) -> [Point] {
        sweep.plans.enumerated().map { offset, plan in
            Point(
                offset: offset, index: sweep.points.indices.contains(offset) ? sweep.points[offset].index : offset,
                plan: plan)
        }
    }

    private static func labels(_ sweep: SweepPlan, point: Point) -> [String: String] {
        [sweepIDLabel: sweep.id, sweepIndexLabel: String(point.index)]
    }

    private static func requestID(_ sweep: SweepPlan, point: Point) -> String {
        "sweep/\(sweep.name)/\(point.index)/\(point.plan.experiment.contentHash.prefix(16))"
    }

    private func jobObject(_ sweep: SweepPlan, point: Point, image: String?) throws -> Kubernetes.Job {
        try jobObject(
            of: point.plan, image: image, labels: Self.labels(sweep, point: point),
            requestID: Self.requestID(sweep, point: point), reportDropped: point.offset == 0)
    }

    /// Creates every point's Job, at most ``maxConcurrentCreates`` at once, each made from its
    /// point's document in the task that sends it (so on every core, and the first is sent before
    /// the last is made). A point that fails does not stop the others; a template that does not
    /// convert fails at the first point, before anything is created.
    /// `ids`: a point's launch id by offset, once it is recorded (nil when it was not).
    func createJobs(
        _ sweep: SweepPlan, launch: Launch, ids: @escaping @Sendable (Int) async -> String?
    ) async throws -> SweepOutcome {
        let points = Self.points(of: sweep)
        guard let first = points.first else { return SweepOutcome() }
        let dropped = first.plan.shape.isGang ? [] : try convertedJob(of: first.plan, reportDropped: true).droppedSteps
        let job = { @Sendable (point: Point) async throws -> SweepJob in
            var object = try sweepJob(sweep, point: point, dropping: dropped)
            object.pin(plan: point.plan, image: launch.image)
            if let id = await ids(point.offset) {
                object.tell(EnvironmentVariable(name: "MRUN_LAUNCH_ID", value: id))
            }
            return object
        }
        let firstJob = try await job(first)
        let client = launch.client
        let namespace = launch.namespace
        var outcome = SweepOutcome()
        var failures: [(index: Int, message: String)] = []
        let results = await BoundedConcurrency.map(points, limit: maxConcurrentCreates) { _, point in
            do {
                let object = point.offset == 0 ? firstJob : try await job(point)
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
    private static func create(_ job: SweepJob, point: Point, client: KubernetesClient, namespace: String)
        async -> PointResult
    {
        let failed = { (message: String) in
            PointResult.failed(offset: point.offset, index: point.index, message: message)
        }
        do {
            switch job {
            case .typed(let job) where point.plan.shape.isGang:
                let created = try await client.createJob(job, namespace: namespace)
                try await ensureGangService(for: created, plan: point.plan, client: client, namespace: namespace)
            case .typed(let job):
                // Only a gang's Service needs more of the stored Job than that it exists.
                _ = try await client.createJobReadingMetadata(job, namespace: namespace)
            case .document(let document):
                try await client.create(Kubernetes.Job.self, document: document, namespace: namespace)
            }
            return .created(offset: point.offset)
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            let name = job.name ?? ""
            let marker = job.requestID
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
