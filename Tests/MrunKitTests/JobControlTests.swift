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

/// How job references reach a backend's control without a cluster: a Slurm job id the history does
/// not hold goes to the context's control, the rest to the history; what a backend without job
/// ids or a list of its own answers.
@Suite struct JobControlTests {
    /// A sandbox whose current context is `kind`, with the warnings its commands give.
    struct Setup {
        let sandbox: Sandbox
        let warnings = WarningLog()
        var environment: MrunEnvironment {
            let warnings = self.warnings
            return MrunEnvironment(
                host: sandbox.host(), sink: RecordingSink(), runner: SystemProcessRunner(), http: TestEnvironment.http,
                warn: { warnings.append($0) })
        }
        var resolver: JobResolver { JobResolver(environment: environment, contextOverride: nil) }
        var historyFile: URL { sandbox.mrunHome.appendingPathComponent(HistoryStore.fileName) }

        init(_ type: ContextType) throws {
            sandbox = try Sandbox()
            var context = Context(name: "hpc", type: type)
            if type == .slurm { context.slurm.host = "cluster" }
            try sandbox.store.add(context)
            try sandbox.store.setSetting("current_context", to: "hpc")
        }
    }

    @Test func aSlurmJobIDTheHistoryDoesNotHoldGoesToTheContextsControl() throws {
        let setup = try Setup(.slurm)
        let resolver = setup.resolver
        #expect(resolver.isBackendJobID("123") && resolver.isBackendJobID("123_4"))
        #expect(!resolver.isBackendJobID("train-k3x9q") && !resolver.isBackendJobID("12x"))
        guard case .job(let id, let control) = try resolver.resolve("123") else {
            Issue.record("job 123 is not in the history: it is Slurm's to answer")
            return
        }
        #expect(id == "123" && control is SlurmJobControl)

        // A job id the history holds names its launch.
        var context = Context(name: "hpc", type: .slurm)
        context.slurm.host = "cluster"
        let launch = HistoryFixture.launch(context: context, jobId: "456")
        try resolver.openHistory().record(launch)
        guard case .launch(let found) = try resolver.resolve("456") else {
            Issue.record("job 456 is in the history")
            return
        }
        #expect(found.id == launch.id)
        #expect(setup.warnings.all.isEmpty)

        // A launch id that starts with digits, named by that prefix, is the launch, not a job id.
        let digits = HistoryFixture.launch(id: "06421abc", context: context, jobId: "789")
        try resolver.openHistory().record(digits)
        guard case .launch(let byPrefix) = try resolver.resolve("06421") else {
            Issue.record("06421 is the start of launch 06421abc")
            return
        }
        #expect(byPrefix.id == "06421abc")

        let error = #expect(throws: JobReferenceError.self) { try resolver.resolve("nope") }
        #expect(error == .notFound(reference: "nope", system: "Slurm", context: "hpc"))
        #expect(
            error?.description.hasPrefix("'nope' is not a Slurm job id, and no launch in the history matches it;")
                == true)
    }

    @Test func withAHistoryThatCannotBeOpenedSlurmIsAskedDirectly() throws {
        let setup = try Setup(.slurm)
        try Data("not a database, and long enough to be read as one".utf8).write(to: setup.historyFile)
        guard case .job(let id, let control) = try setup.resolver.resolve("123_4") else {
            Issue.record("the job id goes to Slurm when the history cannot say")
            return
        }
        #expect(id == "123_4" && control is SlurmJobControl)
        let warnings = setup.warnings.all
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("history database \(setup.historyFile.path) is corrupt") == true)
        #expect(warnings.first?.hasSuffix("; asking Slurm about job 123_4 directly") == true, "\(warnings)")
        // Without a job id, the history is needed after all.
        #expect(throws: HistoryError.self) { try setup.resolver.resolve("train-k3x9q") }
    }

    @Test func aLocalContextHasNoJobIDsAndNoListOfItsOwn() async throws {
        let setup = try Setup(.local)
        #expect(!setup.resolver.isBackendJobID("123"))
        #expect(LocalJobControl.jobIDKind == nil && KubernetesJobControl.jobIDKind == nil)
        #expect(SlurmJobControl.jobIDKind?.system == "Slurm")
        let listing = await #expect(throws: JobControlError.self) { try await setup.resolver.backendJobs() }
        #expect(
            listing?.description
                == "context 'hpc' is of type local; this command works on slurm contexts (choose one with --context)")
        #expect(!FileManager.default.fileExists(atPath: setup.historyFile.path), "list --all opens no history")

        #expect(throws: HistoryError.notFound(reference: "123")) { try setup.resolver.resolve("123") }
        let control = try JobControls.control(
            for: .builtInLocal, environment: setup.environment, history: { try setup.resolver.openHistory() })
        #expect(try await control.backendJobs() == nil)
        await #expect(throws: JobControlError.noJobIDs(reference: "123")) { try await control.status(jobID: "123") }
        await #expect(throws: JobControlError.noJobIDs(reference: "123")) { try await control.wait(jobID: "123") }
        await #expect(throws: JobControlError.noJobIDs(reference: "123")) { try await control.cancel(jobID: "123") }
        await #expect(throws: JobControlError.noJobIDs(reference: "123")) {
            try await control.logs(jobID: "123", follow: false, sink: RecordingSink())
        }
    }

    @Test func backendJobListsPrintAsTheirTablesDid() {
        var pending = SlurmJob(id: "7", name: "train-k3x9q", slurmState: "PENDING")
        pending.submitted = "2026-01-02T03:04:05"
        let timedOut = SlurmJob(id: "1234_5", name: "exp-ab1cd-5", slurmState: "TIMEOUT")
        let slurm = SlurmJob.backendJobs([pending, timedOut])
        #expect(slurm.jobs.map(\.state) == [.submitted, .failed])
        #expect(
            slurm.table
                == """
                JOBID   NAME         STATE    SUBMITTED
                7       train-k3x9q  PENDING  2026-01-02T03:04:05
                1234_5  exp-ab1cd-5  TIMEOUT  -

                """)
        #expect(SlurmJob.backendJobs([]).table == "JOBID  NAME  STATE  SUBMITTED\n")
        let short = BackendJobList(
            columns: ["A", "B"], jobs: [BackendJob(id: "x", name: "x", state: .unknown, cells: ["x"])])
        #expect(short.table == "A  B\nx\n", "a short row is padded, not a crash")
    }

    @Test func aSlurmJobsStatusCarriesItsName() {
        var job = SlurmJob(id: "9", name: "by-hand", slurmState: "OUT_OF_MEMORY")
        job.exitCode = 0
        job.signal = 9
        let status = SlurmJobControl.status(job)
        #expect(status.name == "by-hand" && status.state == .failed && status.exitCode == 137)
        #expect(status.summary == "OUT_OF_MEMORY, signal 9")
        #expect(status.details == "Job        9 (by-hand)\nState      OUT_OF_MEMORY, signal 9\n")
    }
}
