import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A launch of one point of a sweep run as one Indexed Job: the Job's name and the point's
/// completion index, recorded as the launch's job id `NAME:INDEX` (a colon is in no Job name).
public struct KubernetesJobReference: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    /// The point's completion index in the Job; nil for a Job of its own.
    public var index: Int?

    public init(name: String, index: Int? = nil) {
        self.name = name
        self.index = index
    }

    /// Reads a recorded job id: `NAME` or `NAME:INDEX`.
    public init(jobId: String) {
        if let colon = jobId.lastIndex(of: ":"), let index = Int(jobId[jobId.index(after: colon)...]), index >= 0 {
            self.init(name: String(jobId[..<colon]), index: index)
        } else {
            self.init(name: jobId)
        }
    }

    public var description: String { index.map { "\(name):\($0)" } ?? name }
}

extension KubernetesBackend {
    /// Creates the sweep's one Indexed Job: one request whatever the number of points. Its request
    /// id covers the points it runs and the code, so the same submission repeated (a resume after an
    /// interruption) finds its Job instead of making a second one.
    func createIndexedJob(_ sweep: SweepPlan, launch: Launch, ids: EnvironmentVariable? = nil) async throws
        -> SweepOutcome
    {
        let indexes = sweep.points.map { String($0.index) }
        let requestID =
            "indexed/\(sweep.name)/"
            + ArtefactRenderer.hash(indexes + [sweep.base.experiment.contentHash]).prefix(16)
        let job = try jobObject(
            of: sweep.base, image: launch.image, labels: [Self.sweepIDLabel: sweep.id], requestID: requestID,
            launch: ids)
        let name = job.metadata.name ?? sweep.name
        var outcome = SweepOutcome()
        do {
            _ = try await launch.client.createJob(job, namespace: launch.namespace)
            outcome.created = 1
        } catch let error as KubernetesError where error.reason == .alreadyExists {
            let stored = try await launch.client.getJob(name, namespace: launch.namespace)
            guard stored.metadata.annotations?[KubernetesClient.requestIDAnnotation] == requestID else {
                throw KubernetesBackendError.foreignJob(name: name, namespace: launch.namespace)
            }
            outcome.existing = 1
        }
        outcome.submitted = Array(sweep.plans.indices)
        outcome.jobIds = Dictionary(
            uniqueKeysWithValues: sweep.plans.indices.map {
                ($0, KubernetesJobReference(name: name, index: $0).description)
            })
        return outcome
    }

    /// `Created Indexed Job NAME for 12 points (at most 4 at once) in namespace NS`.
    static func indexedSummary(_ sweep: SweepPlan, outcome: SweepOutcome, namespace: String) -> String {
        let count = sweep.plans.count
        let points = "\(count) point\(count == 1 ? "" : "s")"
        let limit = sweep.maxParallel.map { " (at most \(min($0, count)) at once)" } ?? ""
        if outcome.existing > 0 {
            return "Indexed Job \(sweep.name) for \(points) was there already, from an earlier submission of this"
                + " sweep, in namespace \(namespace)\n"
        }
        return "Created Indexed Job \(sweep.name) for \(points)\(limit) in namespace \(namespace)\n"
    }
}
