import Foundation

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
            if let limit = sweep.maxParallel {
                await note(
                    "mrun: note: --max-parallel \(limit) is not enforced on Kubernetes: every point's Job is"
                        + " created now and the cluster's quotas decide how many run at once")
            }
            let launch = try await prepare(sweep.base)
            let outcome = try await createJobs(sweep, launch: launch)
            let namespace = launch.namespace
            if outcome.failed > 0 {
                throw KubernetesBackendError.sweepIncomplete(
                    created: outcome.created, existing: outcome.existing, failed: outcome.failed,
                    namespace: namespace, firstError: outcome.firstError ?? "unknown error")
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
                    + " (e.g. \(first)); all of them: 'mrun --context \(context) list'")
            return 0
        }
    }

    struct SweepOutcome {
        var created = 0
        var existing = 0
        var failed = 0
        var firstError: String?
    }

    private enum PointResult: Sendable {
        case created
        case existing
        case failed(index: Int, message: String)
    }

    /// Creates every point's Job, at most ``maxConcurrentCreates`` at once, each converted from its
    /// YAML in its own task. A point that fails does not stop the others; a template that does not
    /// convert fails at the first point, before anything is created.
    func createJobs(_ sweep: SweepPlan, launch: Launch) async throws -> SweepOutcome {
        let points = sweep.plans.enumerated().map { offset, plan in
            (index: sweep.points.indices.contains(offset) ? sweep.points[offset].index : offset, plan: plan)
        }
        let job = { @Sendable (point: (index: Int, plan: ExperimentPlan)) throws -> Kubernetes.Job in
            let requestID = "sweep/\(sweep.name)/\(point.index)/\(point.plan.experiment.contentHash.prefix(16))"
            return try jobObject(
                of: point.plan, image: launch.image,
                labels: [Self.sweepIDLabel: sweep.id, Self.sweepIndexLabel: String(point.index)], requestID: requestID,
                reportDropped: point.index == points.first?.index)
        }
        guard let first = points.first else { return SweepOutcome() }
        let firstJob = try job(first)
        let client = launch.client
        let namespace = launch.namespace
        var outcome = SweepOutcome()
        var failures: [(index: Int, message: String)] = []
        await withTaskGroup(of: PointResult.self) { group in
            var next = 0
            func submitNext() {
                guard next < points.count else { return }
                let point = points[next]
                next += 1
                group.addTask {
                    do {
                        let object = point.index == first.index ? firstJob : try job(point)
                        return await Self.create(object, index: point.index, client: client, namespace: namespace)
                    } catch {
                        return .failed(index: point.index, message: "\(error)")
                    }
                }
            }
            for _ in 0..<min(maxConcurrentCreates, points.count) { submitNext() }
            while let result = await group.next() {
                switch result {
                case .created: outcome.created += 1
                case .existing: outcome.existing += 1
                case .failed(let index, let message):
                    outcome.failed += 1
                    failures.append((index, message))
                }
                submitNext()
            }
        }
        outcome.firstError = failures.min { $0.index < $1.index }.map { "point \($0.index): \($0.message)" }
        return outcome
    }

    /// Creates one point's Job; one that exists with the same request id was created by this sweep.
    private static func create(_ job: Kubernetes.Job, index: Int, client: KubernetesClient, namespace: String) async
        -> PointResult
    {
        do {
            _ = try await client.createJob(job, namespace: namespace)
            return .created
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            let name = job.metadata.name ?? ""
            let marker = job.metadata.annotations?[KubernetesClient.requestIDAnnotation]
            do {
                let stored = try await client.getJob(name, namespace: namespace)
                if marker != nil && stored.metadata.annotations?[KubernetesClient.requestIDAnnotation] == marker {
                    return .existing
                }
                return .failed(
                    index: index,
                    message: KubernetesBackendError.foreignJob(name: name, namespace: namespace).description)
            } catch {
                return .failed(index: index, message: "\(error)")
            }
        } catch {
            return .failed(index: index, message: "\(error)")
        }
    }
}
