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

/// Planning a sweep costs the same per point however many points it has: each point's Job is
/// rendered with the `sweep` variable encoded once, not once per point.
@Suite(.serialized) struct SweepPlanScalingTests {
    static func spec(points: Int) throws -> SweepSpec {
        SweepSpec(grid: [
            try SweepAxis.parse("seed=" + (0..<points).map(String.init).joined(separator: ","), flag: "--grid")
        ])
    }

    /// Plans a `points`-point Kubernetes sweep; returns it and how long planning took.
    static func plan(points: Int, fixture: PlanFixture) throws -> (SweepPlan, Duration) {
        let spec = try spec(points: points)
        let clock = ContinuousClock()
        let start = clock.now
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: spec, context: PlanFixture.kubernetes)
        return (sweep, start.duration(to: clock.now))
    }

    /// Each size's fastest of three plans, so that other tests running meanwhile (this machine has
    /// two cores) weigh little; per-point work that grew with the sweep would make 10x the points
    /// take 100x the time, far above the bound.
    @Test func aThousandPointsOnKubernetesPlanInLinearTime() throws {
        let fixture = try PlanFixture()
        _ = try Self.plan(points: 10, fixture: fixture)  // warms up the templates and the encoders
        func fastest(_ points: Int) throws -> (SweepPlan, Duration) {
            let runs = try (0..<3).map { _ in try Self.plan(points: points, fixture: fixture) }
            return try #require(runs.min { $0.1 < $1.1 })
        }
        let (small, smallTime) = try fastest(100)
        let (large, largeTime) = try fastest(1000)
        #expect(small.plans.count == 100)
        #expect(large.plans.count == 1000)
        let job = try #require(large.plans[999].artefact(.job)).content
        #expect(job.contains("train-k3x9q-999"))
        #expect(job.contains("--seed"))
        let ratio = largeTime / smallTime
        print("Kubernetes sweep planning: 100 points in \(smallTime), 1000 points in \(largeTime) (×\(ratio))")
        #expect(ratio < 40, "10× the points took \(ratio)× the time: per-point work grows with the sweep")
    }

    /// A point's Job sees the sweep, its own `index` and its own `point`.
    @Test func aPointsJobSeesItsIndexAndEveryPoint() throws {
        let fixture = try PlanFixture()
        let templates = fixture.sandbox.root.appendingPathComponent("templates")
        try fixture.sandbox.write(
            """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: {{ experiment.name|tojson }}
              annotations:
                index: "{{ sweep.index }}"
                size: "{{ sweep.size }}"
                own: {{ sweep.point.name|tojson }}
                params: {{ sweep.point.params|tojson }}
                points: "{% if sweep.points %}all{% else %}none{% endif %}"

            """, to: "job.yaml.stencil", in: templates)
        var request = PlanFixture.request
        request.templatesDir = templates.path
        let sweep = try fixture.builder().sweep(
            request, spec: try Self.spec(points: 3), context: PlanFixture.kubernetes)
        for (index, plan) in sweep.plans.enumerated() {
            let job = try #require(plan.artefact(.job)).content
            #expect(job.contains("index: \"\(index)\"\n"))
            #expect(job.contains("size: \"3\"\n"))
            #expect(job.contains("own: \"train-k3x9q-\(index)\"\n"))
            #expect(job.contains("points: \"none\"\n"), "not the whole list")
            #expect(job.contains(#"params: "{\"#), "\(job)")
        }
    }
}
