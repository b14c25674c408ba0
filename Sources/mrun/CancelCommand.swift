import ArgumentParser
import Foundation
import MrunKit

struct CancelCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel launches, or every point of a sweep, and wait until they have ended.")
    @OptionGroup var global: GlobalOptions
    @Argument(
        help: "Launch ids or prefixes, names, patterns, sweep ids; on a Slurm context also job ids (ID_INDEX).")
    var jobs: [String] = []
    @Option(help: "Cancel every point of this sweep (its id or name).") var sweep: String?

    func validate() throws {
        if jobs.isEmpty && sweep == nil { throw ValidationError("Name a launch to cancel, or a sweep with --sweep") }
    }

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        var failed = false
        var launches: [LaunchRecord] = []
        for reference in jobs + (sweep.map { [$0] } ?? []) {
            for target in try JobTargets.resolve(reference, resolver: resolver, sweep: reference == sweep) {
                switch target {
                case .job(let id, let control):
                    let (before, after) = try await control.cancel(jobID: id)
                    if before.state.isFinal {
                        print("Job \(id) had already ended: \(before.summary)")
                    } else {
                        print("Cancelled job \(id) (\(after.name)): \(after.summary)")
                    }
                case .launch(let launch):
                    if !launches.contains(where: { $0.id == launch.id }) { launches.append(launch) }
                }
            }
        }
        guard !launches.isEmpty else { return }
        for (launch, result) in try await resolver.service().cancel(launches) {
            let job =
                launch.jobId.map { "job \($0) (\(launch.experimentName), launch \(launch.id))" }
                ?? "launch \(launch.id) (\(launch.experimentName))"
            switch result {
            case .success(let (before, after)):
                if before.state.isFinal || before.state == .unknown {
                    print("\(job.prefix(1).uppercased() + job.dropFirst()) had already ended: \(before.summary)")
                } else {
                    print("Cancelled \(job): \(after.summary)")
                }
            case .failure(let error):
                failed = true
                Terminal.error("\(launch.id) (\(launch.experimentName)): \(error)")
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// What a job command's argument names: a sweep (all its points), or one launch or backend job.
enum JobTargets {
    static func resolve(_ reference: String, resolver: JobResolver, sweep explicit: Bool) throws -> [JobTarget] {
        let jobID = resolver.isBackendJobID(reference)
        if explicit || !jobID, (try? resolver.openHistory()) != nil,
            let found = try resolver.sweepLaunches(reference)
        {
            return found.launches.map { .launch($0) }
        }
        if explicit { throw RelaunchError.sweepNotFound(reference) }
        return [try resolver.resolve(reference)]
    }
}
