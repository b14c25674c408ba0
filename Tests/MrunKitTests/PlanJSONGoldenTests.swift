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

/// `--output json` of the goldens' plans and sweeps, byte for byte: the JSON is read by programs,
/// so a change of structure inside mrun must not change it.
@Suite struct PlanJSONGoldenTests {
    static func context(_ type: String) -> Context {
        switch type {
        case "kubernetes": PlanFixture.kubernetes
        case "slurm": PlanFixture.slurm
        default: .builtInLocal
        }
    }

    @Test(arguments: ["kubernetes", "slurm", "local"])
    func plan(_ type: String) throws {
        let fixture = try PlanFixture()
        let context = Self.context(type)
        let plan = try fixture.builder().plan(PlanFixture.request, context: context)
        try Golden.check(fixture.normalized(PlanPrinter.json(plan)), "\(type)-dry-run.json")
    }

    @Test(arguments: ["kubernetes", "slurm", "local"])
    func sweep(_ type: String) throws {
        let fixture = try PlanFixture()
        let context = Self.context(type)
        let spec = try SweepPlanTests.spec(grid: ["lr=0.1,0.01"], maxParallel: type == "local" ? nil : 2)
        let sweep = try fixture.builder().sweep(PlanFixture.request, spec: spec, context: context)
        try Golden.check(fixture.normalized(SweepPrinter.json(sweep)), "\(type)-sweep-dry-run.json")
    }
}
