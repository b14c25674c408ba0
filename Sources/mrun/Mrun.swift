import ArgumentParser
import Foundation
import MrunKit

@main
struct Mrun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mrun",
        abstract: "Launch machine-learning experiments locally, on Kubernetes or on Slurm.",
        discussion: """
            Examples:
              mrun run exp.py -- --epochs 3
              mrun --context gke.sandbox run --requirements requirements.txt exp.py
              mrun context add --name gke.sandbox --type kubernetes --registry_url REGISTRY
              mrun config set current_context gke.sandbox
              mrun --context plgrid.agents logs -f 123456
              mrun list --state running
              mrun diff 7hx2 k3m9
            """,
        version: MrunKitVersion.version,
        subcommands: [
            RunCommand.self, ListCommand.self, ShowCommand.self, StatusCommand.self, LogsCommand.self,
            CancelCommand.self, RemoveCommand.self, WaitCommand.self, FetchCommand.self, DiffCommand.self,
            RerunCommand.self,
            ResumeCommand.self,
            ContextCommand.self, ConfigCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions

    /// Prints user-facing errors as one line without a stack trace; everything else goes through
    /// ArgumentParser (usage errors, `--help`, exit codes).
    static func main() async {
        PhaseProfile.mark("main")
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as any UserFacingError {
            Terminal.error(error.description)
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}

/// A command that runs in the environment the CLI builds for it, once, as swiftly's commands run
/// in their `SwiftlyCoreContext`: nothing below reaches for a global.
protocol MrunCommand: AsyncParsableCommand {
    func run(_ environment: MrunEnvironment) async throws
}

extension MrunCommand {
    func run() async throws {
        let environment = MrunEnvironment.live()
        do {
            try await run(environment)
        } catch {
            await environment.shutdown()
            throw error
        }
        PhaseProfile.mark("done")
        // The connections close with the process: closing them first waited a round trip of each
        // server (its answer to HTTP/2's goodbye) for nothing. `_exit`, not `exit`: the event loops'
        // threads still run, and no atexit handler may tear down what they use under them.
        fflush(nil)
        _exit(0)
    }
}

/// Options every command accepts, before or after the command name.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Context to use instead of the current_context setting.")
    var context: String?

    /// Resolves job commands' arguments: history references, and a backend's own job ids (Slurm's)
    /// on its contexts.
    func resolver(_ environment: MrunEnvironment) -> JobResolver {
        JobResolver(environment: environment, contextOverride: context)
    }

}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("mrun: warning: \(message)\n".utf8))
    }
}
