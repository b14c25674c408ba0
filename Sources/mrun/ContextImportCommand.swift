import ArgumentParser
import Foundation
import MrunKit

extension ContextCommand {
    struct Import: MrunCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import mrunner's contexts (its config.yaml) as mrun contexts.",
            usage: "mrun context import [<file>] [<options>]",
            discussion: """
                Reads mrunner's config (default: $XDG_CONFIG_HOME/mrunner/config.yaml, else \
                ~/.config/mrunner/config.yaml) and prints a line per key: the mrun key it \
                became, or why it was dropped. Nothing is written when any context is invalid.
                  mrun context import --dry-run
                  mrun context import --prefix mrunner- --current
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "mrunner's config file.") var file: String?
        @Flag(name: [.customLong("dry-run"), .customLong("dry_run")], help: "Print the contexts; write nothing.")
        var dryRun = false
        @Flag(help: "Also make mrunner's current_context the current context.") var current = false
        @Option(help: "Prefix the imported contexts' names, e.g. mrunner-.") var prefix: String = ""
        @Flag(help: "Overwrite contexts of the same names.") var replace = false

        func run(_ environment: MrunEnvironment) async throws {
            let host = environment.host
            let url = file.map { host.resolve($0) } ?? MrunnerConfigFile.defaultPath(host: host)
            let shown = file ?? url.path
            let text = try FileText.read(url, role: "mrunner config")
            let plan = try MrunnerImport.plan(text, file: shown, prefix: prefix)
            for imported in plan.contexts {
                let from = imported.line.map { "\(shown):\($0)" } ?? shown
                print("Context '\(imported.context.name)' (\(imported.context.type.rawValue)), from \(from):")
                for mapping in imported.mappings { print("  \(mapping.line)") }
                if dryRun {
                    print("  would write:")
                    let yaml = ContextWriter.yaml(Self.withoutSecrets(imported.context))
                    for line in yaml.split(separator: "\n") { print("    \(line)") }
                }
            }
            let store = environment.store
            if dryRun {
                let existing = try store.existingNames(of: plan)
                if !existing.isEmpty {
                    let verb = replace ? "would replace" : "already exist (give --prefix P or --replace)"
                    print("\(existing.map { "'\($0)'" }.joined(separator: ", ")): \(verb)")
                }
                if current, let name = plan.currentContext { print("Would set current_context to '\(name)'.") }
                print("Dry run: nothing written.")
                return
            }
            try store.importContexts(plan, replace: replace, makeCurrent: current)
            let count = plan.contexts.count
            print("Imported \(count) context\(count == 1 ? "" : "s") from \(shown).")
            if current, let name = plan.currentContext {
                print("current_context is now '\(name)'.")
            } else if let name = plan.currentContext {
                print("mrunner's current context was '\(name)': mrun config set current_context \(name)")
            }
        }

        /// Env values may be tokens: the dry run shows their names only.
        static func withoutSecrets(_ context: Context) -> Context {
            var shown = context
            shown.env = shown.env.mapValues { _ in "<redacted>" }
            return shown
        }
    }
}
