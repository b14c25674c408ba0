import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Cancelling a sweep run as one Indexed Job: Kubernetes stops the points of such a Job only all
/// together, by deleting it, so `cancel --sweep` deletes it once for all its points; one point
/// alone is refused (``KubernetesJobControl/cancel(_:)``).
extension KubernetesJobControl {
    public func cancelTogether(_ launches: [LaunchRecord]) async
        -> [String: Result<(before: JobStatus, after: JobStatus), any Error>]
    {
        let points = launches.compactMap { launch -> (LaunchRecord, KubernetesJobReference)? in
            guard let jobId = launch.jobId else { return nil }
            let reference = KubernetesJobReference(jobId: jobId)
            return reference.index == nil ? nil : (launch, reference)
        }
        guard !points.isEmpty else { return [:] }
        var results: [String: Result<(before: JobStatus, after: JobStatus), any Error>] = [:]
        let groups = Dictionary(grouping: points) { "\(Self.namespace(of: $0.0))/\($0.1.name)" }
        for (_, group) in groups.sorted(by: { $0.key < $1.key }) {
            let launches = group.map(\.0)
            do {
                guard let outcome = try await cancelIndexedJob(group[0].1.name, points: group) else { continue }
                for launch in launches { results[launch.id] = outcome[launch.id].map { .success($0) } }
            } catch {
                for launch in launches { results[launch.id] = .failure(error) }
            }
        }
        return results
    }

    /// Deletes the Job when `points` are all of its points, and returns each point's state before
    /// and after; nil (nothing done) when some of its points are not asked for.
    private func cancelIndexedJob(_ name: String, points: [(LaunchRecord, KubernetesJobReference)]) async throws
        -> [String: (before: JobStatus, after: JobStatus)]?
    {
        let namespace = Self.namespace(of: points[0].0)
        let jobs = try await connect()
        let job: Kubernetes.Job
        do {
            job = try await jobs.client.getJob(name, namespace: namespace)
        } catch let error as KubernetesError where error.statusCode == 404 {
            return Dictionary(
                points.map { launch, _ in
                    let gone =
                        launch.state.isFinal ? JobStatus(recorded: launch) : Self.gone(name, namespace: namespace)
                    return (launch.id, (gone, gone))
                }, uniquingKeysWith: { first, _ in first })
        }
        let asked = Set(points.compactMap(\.1.index))
        guard asked.count >= job.spec?.completions ?? 0 else { return nil }
        let pods = try await jobs.pods(of: name, namespace: namespace)
        let before = Dictionary(
            points.map { launch, reference in
                (launch.id, Self.status(KubernetesJobStatus(job: job, pods: pods, point: reference.index)))
            }, uniquingKeysWith: { first, _ in first })
        var left: [String] = []
        if before.values.contains(where: { !$0.state.isFinal }) {
            left = try await jobs.delete(name, namespace: namespace)
        }
        let terminating = left.isEmpty ? "" : "; \(left.count) pod\(left.count == 1 ? "" : "s") still terminating"
        return before.mapValues { status in
            guard !status.state.isFinal else { return (status, status) }
            let after = JobStatus(
                state: .cancelled, exitCode: nil,
                summary: "CANCELLED (Indexed Job \(name) deleted with its pods\(terminating))",
                details: "Job        \(name) (namespace \(namespace))\nState      CANCELLED\n")
            return (status, after)
        }
    }
}

extension KubernetesJobControl {
    /// Deletes the ended launches' Jobs (an indexed sweep's one Job once), with their pods, so that
    /// Jobs of the same names can be created again; a Job already gone is fine.
    public func clearForRelaunch(_ launches: [LaunchRecord]) async throws {
        let jobs = try await connect()
        var seen: Set<String> = []
        for launch in launches {
            guard let jobId = launch.jobId else { continue }
            let name = KubernetesJobReference(jobId: jobId).name
            let namespace = Self.namespace(of: launch)
            guard seen.insert("\(namespace)/\(name)").inserted else { continue }
            do {
                _ = try await jobs.delete(name, namespace: namespace)
            } catch let error as KubernetesError where error.statusCode == 404 {
                continue
            }
        }
    }
}

extension KubernetesJobControl {
    /// Deletes the launch's Job with its pods; an indexed sweep's one Job only once every point
    /// in it has ended. The namespace, the claim and the Secret stay: other launches use them.
    public func remove(_ launch: LaunchRecord, keepDirectory: Bool) async throws -> [String] {
        let (reference, namespace) = try job(of: launch)
        let jobs = try await connect()
        let job: Kubernetes.Job
        do {
            job = try await jobs.client.getJob(reference.name, namespace: namespace)
        } catch let error as KubernetesError where error.statusCode == 404 {
            return []
        }
        if reference.index != nil {
            let pods = try await jobs.pods(of: reference.name, namespace: namespace)
            let points = 0..<max(0, min(job.spec?.completions ?? 0, 100_000))
            if points.contains(where: { !KubernetesJobStatus(job: job, pods: pods, point: $0).state.isFinal }) {
                return []
            }
        }
        do {
            _ = try await jobs.delete(reference.name, namespace: namespace)
        } catch let error as KubernetesError where error.statusCode == 404 {
            return []
        }
        return ["Job \(reference.name) with its pods (namespace \(namespace))"]
    }
}
