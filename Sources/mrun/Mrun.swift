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
            CancelCommand.self, WaitCommand.self, DiffCommand.self, RerunCommand.self, ResumeCommand.self,
            ContextCommand.self, ConfigCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions

    /// Prints user-facing errors as one line without a stack trace; everything else goes through
    /// ArgumentParser (usage errors, `--help`, exit codes).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as any UserFacingError {
            await closeConnections()
            Terminal.error(error.description)
            Foundation.exit(1)
        } catch {
            await closeConnections()
            exit(withError: error)
        }
        await closeConnections()
    }

    /// Closes the pooled connections to Kubernetes API servers, if any were opened.
    static func closeConnections() async {
        try? await KubernetesHTTPClient.shared.shutdown()
    }
}

/// Options every command accepts, before or after the command name.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Context to use instead of the current_context setting.")
    var context: String?

    var host: HostEnvironment { .current }
    var store: ConfigStore { ConfigStore(home: host.mrunHome) }

    /// Resolves job commands' arguments: history references, and Slurm job ids on a Slurm context.
    func resolver() -> JobResolver {
        let store = store
        return JobResolver(host: host, store: store, contextOverride: context)
    }

    /// The chosen context when it is a Kubernetes one.
    func kubernetesContext() throws -> Context? {
        let context = try store.resolveContext(override: context)
        return context.type == .kubernetes ? context : nil
    }

    /// Job control on the chosen context, which must be a Slurm one.
    func slurmJobs() throws -> SlurmJobs {
        let store = store
        return try SlurmJobs(
            context: store.resolveContext(override: context), host: host, store: store, runner: SystemProcessRunner())
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
