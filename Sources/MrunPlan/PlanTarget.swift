import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// The backend's own part of a plan: what it rendered and will need to execute it (a namespace and
/// an image, a job directory, a run directory). Each backend defines its own; the plan carries it
/// without knowing which backend it is for.
public protocol PlanTarget: Sendable {
    /// Writes this part's members at the top level of the plan's JSON and of the templates'
    /// variables (`kubernetes` and `image`, `slurm`, `local`).
    func encodeMembers(to container: inout KeyedEncodingContainer<PlanMemberKey>) throws
    /// The dry run's rows for this backend, after the common ones.
    func summaryRows(of plan: ExperimentPlan) -> [PlanRow]
    /// A sweep's dry-run rows saying how its points run at once and are submitted.
    func sweepRows(_ sweep: SweepPlan) -> [PlanRow]
    /// Said after the requirements file in the dry run, e.g. that a local run installs nothing.
    var requirementsNote: String? { get }
    /// Where the launch's files are (run directory, job directory), for the history.
    var directory: String? { get }
    /// The image the launch runs, for the history.
    var imageTag: String? { get }
}

extension PlanTarget {
    public var requirementsNote: String? { nil }
    public var directory: String? { nil }
    public var imageTag: String? { nil }
}

/// A label and its value, one line of a dry run (`Namespace    proj`).
public typealias PlanRow = (label: String, value: String)

/// A member name of the plan's JSON, chosen by the target.
public struct PlanMemberKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// The target of a plan whose backend has not completed it yet.
struct UnplannedTarget: PlanTarget {
    func encodeMembers(to container: inout KeyedEncodingContainer<PlanMemberKey>) throws {}
    func summaryRows(of plan: ExperimentPlan) -> [PlanRow] { [] }
    func sweepRows(_ sweep: SweepPlan) -> [PlanRow] { [] }
}

/// What a backend adds to the plans of its contexts, from the common part the builder made.
/// Who tells a context's notify targets that a launch ended.
package enum EndNotifier: Sendable {
    /// mrun itself: the launch ends in its process (local).
    case thisProcess
    /// The job, at its end, with the laptop closed (the sbatch script's exit trap, the pod's
    /// wrapper, an ssh point's run script), unless the context sends from here (`notify_from`).
    case job
}

package protocol BackendPlanner: Sendable {
    /// Who tells the notify targets that a launch ended (default: the job).
    var endNotifier: EndNotifier { get }

    /// The shared storage the experiment sees as `STORAGE_DIR`, from the context's `storage`.
    func storagePath(configured: String?, project: String, host: HostEnvironment, mrunHome: URL) -> String?

    /// The base of the launch's ``OutputDirectory`` (default: the storage, `STORAGE_DIR`).
    func outputBase(storage: String?, context: Context) -> String?

    /// The context's job shape on this backend (default: ``JobShape/init(_:)``).
    func shape(of context: Context) -> JobShape

    /// Completes `plan` (for a sweep, the plan its points share): its target, its content hash and
    /// its artefacts, rendered with `rendering`.
    func complete(_ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: SweepRendering?) throws

    /// The template every point of a sweep renders its own artefact from, parsed once; nil when
    /// points have none.
    func pointTemplate(_ rendering: PlanRendering) throws -> TemplateRenderer.Prepared?

    /// Completes the plan of one point of a sweep, derived from the shared plan. `sweep` is the
    /// `sweep` variable with the point's `index` and `point` set.
    func completePoint(
        _ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: [String: any Sendable],
        template: TemplateRenderer.Prepared?) throws
}

extension BackendPlanner {
    package var endNotifier: EndNotifier { .job }
    package func outputBase(storage: String?, context: Context) -> String? { storage }
    package func shape(of context: Context) -> JobShape { JobShape(context) }
    package func pointTemplate(_ rendering: PlanRendering) throws -> TemplateRenderer.Prepared? { nil }
    package func completePoint(
        _ plan: inout ExperimentPlan, rendering: PlanRendering, sweep: [String: any Sendable],
        template: TemplateRenderer.Prepared?
    ) throws {}
}
