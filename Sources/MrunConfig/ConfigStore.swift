import Foundation
import MrunSupport

/// mrun's state under `$MRUN_HOME`:
///
///     config.yaml           settings (current_context, editor)
///     contexts/NAME.yaml    one file per context, the same format as the examples in Contexts/
///     templates/            the user's template overrides
///     runs/NAME/            local runs: code copy, plan.json, output.log
///     .lock                 held while a change is made
///
/// One file per context keeps `context edit` to a single small file, lets a broken context fail
/// alone, and makes every change a single atomic rename.
public struct ConfigStore: Sendable {
    public let home: URL

    public init(home: URL) {
        self.home = home
    }

    public var settingsFile: URL { home.appendingPathComponent("config.yaml") }
    public var contextsDirectory: URL { home.appendingPathComponent("contexts") }
    public var templatesDirectory: URL { home.appendingPathComponent("templates") }
    public var runsDirectory: URL { home.appendingPathComponent("runs") }
    var lockFile: URL { home.appendingPathComponent(".lock") }

    public func contextFile(named name: String) -> URL {
        contextsDirectory.appendingPathComponent("\(name).yaml")
    }

    // MARK: Settings

    public func loadSettings() throws -> Settings {
        guard let text = try FileText.readIfPresent(settingsFile) else { return Settings() }
        return try Settings.parse(text, file: settingsFile.path)
    }

    public func setSetting(_ name: String, to value: String?) throws {
        guard let key = Settings.Key(rawValue: name) else {
            throw ConfigError.unknownSetting(key: name, known: Settings.knownKeys)
        }
        try locked {
            var settings = try loadSettings()
            if key == .currentContext, let value {
                _ = try loadContext(named: value)
            }
            settings[key] = value
            try write(settings.yaml, to: settingsFile)
        }
    }

    // MARK: Contexts

    /// Names of the stored contexts, sorted, with the built-in `local` unless a stored one replaces it.
    public func contextNames() throws -> [String] {
        var names = Set([Context.builtInLocal.name])
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: contextsDirectory.path)
        } catch {
            return Array(names)
        }
        for entry in entries where entry.hasSuffix(".yaml") && !entry.hasPrefix(".") {
            names.insert(String(entry.dropLast(".yaml".count)))
        }
        return names.sorted()
    }

    public func loadContext(named name: String) throws -> Context {
        let file = contextFile(named: name)
        guard Context.isValidName(name), let text = try FileText.readIfPresent(file) else {
            if name == Context.builtInLocal.name { return .builtInLocal }
            throw ConfigError.unknownContext(name: name, known: try contextNames())
        }
        let context = try ContextParser.parse(text, file: file.path)
        guard context.name == name else {
            throw ConfigError.invalidFile(
                file: file.path, line: nil, column: nil,
                message: "holds context \(quoted: context.name) but is named after \(quoted: name);"
                    + " make the file name and the 'name' key agree")
        }
        return context
    }

    /// The context to use: the `--context` flag, else `current_context`, else the built-in `local`.
    public func resolveContext(override: String?) throws -> Context {
        if let override { return try loadContext(named: override) }
        if let current = try loadSettings().currentContext { return try loadContext(named: current) }
        return .builtInLocal
    }

    public func add(_ context: Context) throws {
        try locked {
            if try storedContextExists(context.name) { throw ConfigError.contextExists(name: context.name) }
            try save(context)
        }
    }

    /// Replaces the context `previousName` with `context`, renaming its file when the name changed.
    public func replace(_ previousName: String, with context: Context) throws {
        try locked {
            if context.name != previousName, try storedContextExists(context.name) {
                throw ConfigError.contextExists(name: context.name)
            }
            try save(context)
            if context.name != previousName {
                try removeFile(contextFile(named: previousName))
                var settings = try loadSettings()
                if settings.currentContext == previousName {
                    settings.currentContext = context.name
                    try write(settings.yaml, to: settingsFile)
                }
            }
        }
    }

    /// Deletes a stored context; returns true when it was the current one, which is then unset.
    @discardableResult
    public func delete(named name: String) throws -> Bool {
        try locked {
            guard try storedContextExists(name) else {
                if name == Context.builtInLocal.name { throw ConfigError.builtInContext(name) }
                throw ConfigError.unknownContext(name: name, known: try contextNames())
            }
            try removeFile(contextFile(named: name))
            var settings = try loadSettings()
            guard settings.currentContext == name else { return false }
            settings.currentContext = nil
            try write(settings.yaml, to: settingsFile)
            return true
        }
    }

    public func copy(_ source: String, to destination: String) throws {
        guard Context.isValidName(destination) else { throw ConfigError.invalidContextName(destination) }
        var context = try loadContext(named: source)
        context.name = destination
        try add(context)
    }

    // MARK: Files

    func storedContextExists(_ name: String) throws -> Bool {
        FileManager.default.fileExists(atPath: contextFile(named: name).path)
    }

    func save(_ context: Context) throws {
        if let problem = context.problem() {
            throw ConfigError.invalidFlag(flag: "context \(quoted: context.name)", message: problem.message)
        }
        // Context env values may hold credentials: keep the files private.
        try write(ContextWriter.yaml(context), to: contextFile(named: context.name), mode: 0o600)
    }

    func write(_ text: String, to url: URL, mode: mode_t = 0o600) throws {
        try AtomicFile.write(text, to: url, mode: mode)
    }

    private func removeFile(_ url: URL) throws {
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            throw ConfigError.io("cannot remove \(url.path): \(error.localizedDescription)")
        }
    }

    func locked<T>(_ body: () throws -> T) throws -> T {
        try FileLock.withLock(lockFile, body)
    }
}
