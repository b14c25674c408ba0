import ArgumentParser
import MrunKit

struct DiffCommand: MrunCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what differs between two launches: context keys, arguments, parameters, code files, git, image."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The first launch (id or prefix, name, pattern).") var first: String
    @Argument(help: "The second launch.") var second: String

    func run(_ environment: MrunEnvironment) async throws {
        let resolver = global.resolver(environment)
        var launches: [LaunchRecord] = []
        for reference in [first, second] {
            guard case .launch(let launch) = try resolver.resolve(reference) else {
                throw HistoryError.notFound(reference: reference)
            }
            launches.append(launch)
        }
        print(LaunchDiff(launches[0], launches[1]).text, terminator: "")
    }
}
