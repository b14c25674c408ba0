import ArgumentParser
import Foundation
import MrunKit

struct FetchCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Copy what launches wrote to their MRUN_OUTPUT_DIR to this machine.",
        usage:
            "mrun fetch [<options>] <launch> [<path> ...]\nmrun fetch [<options>] --sweep <sweep> [<path> ...]",
        discussion: """
            Every launch gets MRUN_OUTPUT_DIR, a directory of its own (STORAGE/PROJECT/outputs/NAME). \
            mrun fetch copies it, or the paths named under it, to ./outputs/NAME/ (--to DIR: DIR/NAME/), \
            keeping modes and times: over the cluster's or host's ssh connection with rsync, from the \
            project's volume on Kubernetes through a short-lived pod. Paths out of the directory and \
            symlinks leaving it are refused; a newer local file is never overwritten without --force.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(
        help: "The launch (id or prefix, name or pattern), unless --sweep; then paths under its output directory.")
    var arguments: [String] = []
    @Option(help: "Every point of this sweep (its id or name).") var sweep: String?
    @Option(help: "Copy into DIR/NAME/ instead of ./outputs/NAME/.") var to: String?
    @Flag(help: "Overwrite local files that are newer than the launch's.") var force = false

    func validate() throws {
        if sweep == nil && arguments.isEmpty { throw ValidationError("Name a launch, or a sweep with --sweep") }
    }

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        var paths = arguments
        var chosen: [LaunchRecord]
        if let sweep {
            guard let found = try resolver.sweepLaunches(sweep) else { throw RelaunchError.sweepNotFound(sweep) }
            chosen = found.launches
        } else {
            let reference = paths.removeFirst()
            guard case .launch(let launch) = try resolver.resolve(reference) else {
                throw ValidationError("\(reference) is not a launch of the history; mrun fetch takes launches")
            }
            chosen = [launch]
        }
        let base = environment.host.resolve(to ?? "outputs")
        var failed = false
        var interrupted = false
        for (launch, result) in await try resolver.service().fetch(chosen, paths: paths, to: base, force: force) {
            switch result {
            case .success(let report):
                let size =
                    report.bytes >= 1 << 20
                    ? String(format: "%.1f MiB", Double(report.bytes) / 1_048_576) : "\(report.bytes) bytes"
                print(
                    "Fetched \(report.files) file\(report.files == 1 ? "" : "s") (\(size)) of launch \(launch.id)"
                        + " (\(launch.experimentName)) to \(report.destination.path)/")
            case .failure(let error):
                failed = true
                if case FetchError.interrupted = error { interrupted = true }
                Terminal.error("\(error)")
            }
            if interrupted { throw ExitCode(130) }
        }
        if failed { throw ExitCode(1) }
    }
}
