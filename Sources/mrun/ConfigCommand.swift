import ArgumentParser
import MrunKit

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show or change mrun's settings.",
        discussion: "Settings:\n" + HelpText.list(Settings.Key.allCases.map { ($0.rawValue, $0.summary) }),
        subcommands: [Show.self, Set.self, Unset.self],
        defaultSubcommand: Show.self
    )

    struct Show: MrunCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the settings.")
        @OptionGroup var global: GlobalOptions

        func run(_ environment: MrunEnvironment) async throws {
            let settings = try environment.store.loadSettings()
            for key in Settings.Key.allCases {
                print("\(key.rawValue): \(settings[key] ?? ConfigCommand.unset(key))")
            }
        }
    }

    /// What an unset key means. The context then in use is named as `context list` marks it.
    static func unset(_ key: Settings.Key) -> String {
        key == .currentContext ? CurrentContext.builtInDefault : "(unset)"
    }

    struct Set: MrunCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Set a setting.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Setting name, e.g. current_context.") var key: String
        @Argument(help: "New value.") var value: String

        func run(_ environment: MrunEnvironment) async throws {
            try environment.store.setSetting(key, to: value)
            print("\(key): \(value)")
        }
    }

    struct Unset: MrunCommand {
        static let configuration = CommandConfiguration(commandName: "unset", abstract: "Remove a setting.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Setting name.") var key: String

        func run(_ environment: MrunEnvironment) async throws {
            try environment.store.setSetting(key, to: nil)
            print("\(key): \(Settings.Key(rawValue: key).map(ConfigCommand.unset) ?? "(unset)")")
        }
    }
}

/// The context used when `current_context` is unset, as `config` and `context list` both show it.
enum CurrentContext {
    static let builtInDefault = "\(Context.builtInLocal.name) (built-in default)"
}
