import ArgumentParser
import Foundation
import MrunKit

struct ContextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context",
        abstract: "Manage remote contexts: where and how experiments run.",
        subcommands: [List.self, Show.self, Add.self, Edit.self, Delete.self, Copy.self, Import.self],
        defaultSubcommand: List.self
    )

    struct List: MrunCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List contexts; '*' marks the current one.")
        @OptionGroup var global: GlobalOptions

        func run(_ environment: MrunEnvironment) async throws {
            let store = environment.store
            let setting = try store.loadSettings().currentContext
            let current = setting ?? Context.builtInLocal.name
            for name in try store.contextNames() {
                let marker = name == current ? "*" : " "
                do {
                    let context = try store.loadContext(named: name)
                    // Unset, the built-in local is used even over a stored context of that name; the
                    // line says so in the words of `config`.
                    let type = setting == nil && name == current ? CurrentContext.builtInDefault : context.type.rawValue
                    print("\(marker) \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(type)")
                } catch {
                    print("\(marker) \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) invalid: \(error)")
                }
            }
        }
    }

    struct Show: MrunCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a context's YAML.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Context name (default: the current context).") var name: String?

        func run(_ environment: MrunEnvironment) async throws {
            let store = environment.store
            let context =
                try name.map { try store.loadContext(named: $0) }
                ?? store.resolveContext(override: global.context)
            print(ContextWriter.yaml(context), terminator: "")
        }
    }

    struct Add: MrunCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a context from flags or from a file.",
            discussion: """
                Every key of the context reference is a flag, in mrunner's spelling (--registry_url) or \
                with dashes (--registry-url); repeat --env NAME=VALUE, --node_selector LABEL=VALUE, \
                --tolerations, --modules, --setup and --sbatch_options to add items. Keys:
                """ + "\n" + HelpText.list(ContextKey.allCases.map { ("--\($0.rawValue)", $0.summary) })
        )
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .allUnrecognized, help: "--name NAME --type TYPE [--KEY VALUE]... [--from-file FILE]")
        var flags: [String] = []

        func run(_ environment: MrunEnvironment) async throws {
            let parsed = try ContextFlags.parse(flags)
            let base = try parsed.fromFile.map { path in
                try ContextParser.parse(FileText.read(environment.host.resolve(path), role: "context file"), file: path)
            }
            let context = try ContextFlags.context(from: parsed, base: base)
            try environment.store.add(context)
            print("Added context '\(context.name)' (\(context.type.rawValue)).")
            if try environment.store.loadSettings().currentContext == nil {
                print("Make it the default with: mrun config set current_context \(context.name)")
            }
        }
    }

    struct Edit: MrunCommand {
        static let configuration = CommandConfiguration(
            commandName: "edit", abstract: "Edit a context in $VISUAL or $EDITOR; it is saved only if valid.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Context name.") var name: String

        func run(_ environment: MrunEnvironment) async throws {
            let editor = ContextEditor(store: environment.store, host: environment.host)
            let outcome = try await editor.edit(name) { problem in
                Terminal.error(problem.description)
                FileHandle.standardError.write(Data("Re-open the editor to fix it? [Y/n] ".utf8))
                guard let answer = readLine() else { return false }
                return !answer.lowercased().hasPrefix("n")
            }
            switch outcome {
            case .saved(let context): print("Saved context '\(context.name)'.")
            case .unchanged: print("No changes.")
            }
        }
    }

    struct Delete: MrunCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a context.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Context name.") var name: String

        func run(_ environment: MrunEnvironment) async throws {
            let wasCurrent = try environment.store.delete(named: name)
            print("Deleted context '\(name)'.")
            if wasCurrent { print("It was the current context; the built-in 'local' is used until you set another.") }
        }
    }

    struct Copy: MrunCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy", abstract: "Copy a context under a new name.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Existing context.") var source: String
        @Argument(help: "New context name.") var destination: String

        func run(_ environment: MrunEnvironment) async throws {
            try environment.store.copy(source, to: destination)
            print("Copied context '\(source)' to '\(destination)'.")
        }
    }
}
