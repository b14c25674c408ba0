import ArgumentParser
import MrunKit

struct ShowCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show everything the history recorded of a launch: context, code files, git, arguments, state.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Launch id or unique prefix, experiment or job name, or a pattern such as 'train-*'.")
    var launch: String
    @Option(help: "text or json.") var output: OutputFormat = .text

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        let service = try resolver.service()
        guard case .launch(let found) = try resolver.resolve(launch) else {
            throw HistoryError.notFound(reference: launch)
        }
        let (refreshed, warnings) = await service.refresh([found])
        for warning in warnings { Terminal.warning(warning) }
        let current = refreshed.first ?? found
        switch output {
        case .text: print(LaunchPrinter.text(current), terminator: "")
        case .json: print(try LaunchPrinter.json(current), terminator: "")
        }
    }
}
