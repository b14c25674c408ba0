import Foundation
import MrunSupport

/// `mrun context import`: mrunner's contexts as mrun contexts, each key mapped or dropped with the
/// reason, checked as a whole before anything is written.
public struct MrunnerImport: Sendable {
    public struct Imported: Sendable {
        public var context: Context
        /// Its name in mrunner's file.
        public var mrunnerName: String
        /// Where it starts in the file (1-based).
        public var line: Int?
        public var mappings: [MrunnerMapping]
    }

    public var file: String
    public var contexts: [Imported]
    /// mrunner's `current_context`, under the name it gets here; nil when the file has none.
    public var currentContext: String?
    /// mrunner's `current_context` as written, for messages.
    public var mrunnerCurrentContext: String?

    /// Reads mrunner's `text` and maps every context, names prefixed with `prefix`. Any context mrun
    /// would refuse is an error naming the file and line: then nothing is imported.
    public static func plan(_ text: String, file: String, prefix: String = "") throws(ConfigError) -> MrunnerImport {
        let config = try MrunnerConfigFile.parse(text, file: file)
        var contexts: [Imported] = []
        for entry in config.entries {
            var mapper = try MrunnerContextMapper(entry: entry, document: config.document, name: prefix + entry.name)
            let (context, mappings) = try mapper.map()
            contexts.append(
                Imported(context: context, mrunnerName: entry.name, line: entry.node.mark?.line, mappings: mappings))
        }
        let current = config.currentContext.flatMap { name in
            contexts.first { $0.mrunnerName == name }?.context.name
        }
        return MrunnerImport(
            file: file, contexts: contexts, currentContext: current, mrunnerCurrentContext: config.currentContext)
    }
}

extension ConfigStore {
    /// The imported contexts' names that are stored already.
    public func existingNames(of plan: MrunnerImport) throws -> [String] {
        try plan.contexts.map(\.context.name).filter { try storedContextExists($0) }
    }

    /// Writes every context of `plan`, and with `makeCurrent` sets `current_context` to mrunner's.
    /// A name that is stored already is refused, in one line naming them all, unless `replace`.
    /// Written under the lock, each file atomically; a failure part-way removes what was written
    /// and puts back what was replaced.
    public func importContexts(_ plan: MrunnerImport, replace: Bool, makeCurrent: Bool) throws {
        try locked {
            let existing = try existingNames(of: plan)
            if !existing.isEmpty && !replace { throw ConfigError.importClash(names: existing) }
            if makeCurrent && plan.currentContext == nil { throw ConfigError.importWithoutCurrent(plan) }
            var previous: [String: String?] = [:]
            do {
                for imported in plan.contexts {
                    let file = contextFile(named: imported.context.name)
                    previous[imported.context.name] = try FileText.readIfPresent(file)
                    try save(imported.context)
                }
                if makeCurrent, let current = plan.currentContext {
                    var settings = try loadSettings()
                    settings.currentContext = current
                    try write(settings.yaml, to: settingsFile)
                }
            } catch {
                for (name, text) in previous {
                    if let text {
                        try? write(text, to: contextFile(named: name))
                    } else {
                        try? FileManager.default.removeItem(at: contextFile(named: name))
                    }
                }
                throw error
            }
        }
    }
}

extension ConfigError {
    static func importClash(names: [String]) -> ConfigError {
        let list = names.map { "'\($0)'" }.joined(separator: ", ")
        return .invalidFlag(
            flag: "context import",
            message: "\(names.count == 1 ? "a context named" : "contexts named") \(list) already"
                + " \(names.count == 1 ? "exists" : "exist"); import under other names with --prefix P,"
                + " or overwrite with --replace")
    }

    static func importWithoutCurrent(_ plan: MrunnerImport) -> ConfigError {
        let reason =
            plan.mrunnerCurrentContext.map { "its current_context \(quoted: $0) is none of its contexts" }
            ?? "it has no current_context"
        return .invalidFlag(flag: "--current", message: "\(plan.file): \(reason); set one with 'mrun config set'")
    }
}
