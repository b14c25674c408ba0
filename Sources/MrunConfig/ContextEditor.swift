import Foundation
import Subprocess
import MrunSupport

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// `mrun context edit`: opens the context's YAML in the user's editor, validates what was saved and
/// only then replaces the stored file. An invalid edit is reported and can be re-opened or abandoned,
/// leaving the stored context untouched.
public struct ContextEditor: Sendable {
    public enum Outcome: Sendable, Equatable {
        case saved(Context)
        case unchanged
    }

    public var store: ConfigStore
    public var host: HostEnvironment

    public init(store: ConfigStore, host: HostEnvironment) {
        self.store = store
        self.host = host
    }

    /// The editor command: the `editor` setting, `$VISUAL`, `$EDITOR`, then `vi`, split into words.
    public func editorCommand() throws -> [String] {
        let configured = try store.loadSettings().editor
        let command =
            [configured, host.variables["VISUAL"], host.variables["EDITOR"]]
            .compactMap { $0 }.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? "vi"
        return command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// Edits context `name`; `reopen` is asked, with the problem, whether to try again after an
    /// invalid edit.
    public func edit(_ name: String, reopen: @Sendable (ConfigError) async -> Bool) async throws -> Outcome {
        let original = try store.loadContext(named: name)
        let originalText = ContextWriter.yaml(original)
        let displayPath = store.contextFile(named: name).path
        let draft = store.contextsDirectory.appendingPathComponent(
            ".edit-\(name)-\(getpid()).yaml")
        try AtomicFile.write(originalText, to: draft, mode: 0o600)
        defer { try? FileManager.default.removeItem(at: draft) }
        while true {
            try await runEditor(on: draft)
            let text = try FileText.read(draft)
            if text == originalText { return .unchanged }
            do {
                let edited = try ContextParser.parse(text, file: displayPath)
                if edited == original { return .unchanged }
                try store.replace(name, with: edited)
                return .saved(edited)
            } catch let problem as ConfigError {
                guard await reopen(problem) else { throw ConfigError.editAborted(file: displayPath) }
            }
        }
    }

    private func runEditor(on file: URL) async throws {
        let command = try editorCommand()
        guard let program = command.first else { return }
        let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
        let result: ExecutionResult<Void, FileDescriptorOutput, FileDescriptorOutput>
        do {
            result = try await Subprocess.run(
                executable, arguments: Arguments(Array(command.dropFirst()) + [file.path]),
                environment: .custom(
                    Dictionary(
                        uniqueKeysWithValues: host.variables.map { (Environment.Key(stringLiteral: $0.key), $0.value) })
                ),
                input: .currentStandardInput, output: .currentStandardOutput, error: .currentStandardError)
        } catch {
            throw ConfigError.editorFailed(
                "cannot start the editor \(quoted: program); set $EDITOR or 'mrun config set editor COMMAND'")
        }
        guard case .exited(0) = result.terminationStatus else {
            throw ConfigError.editorFailed(
                "the editor \(quoted: program) failed (\(result.terminationStatus)); the context is unchanged")
        }
    }
}
