import Foundation
import Subprocess
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

@Suite struct AtomicWriteTests {
    struct InjectedFailure: Error {}

    @Test(arguments: AtomicFile.Step.allCases)
    func aWriteInterruptedAtAnyStepLeavesThePreviousFileIntact(step: AtomicFile.Step) throws {
        let sandbox = try Sandbox()
        let file = sandbox.store.contextFile(named: "s")
        var context = Context(name: "s", type: .slurm)
        context.slurm.host = "old-host"
        try AtomicFile.write(ContextWriter.yaml(context), to: file, mode: 0o600)
        context.slurm.host = "new-host"
        #expect(throws: InjectedFailure.self) {
            try AtomicFile.write(ContextWriter.yaml(context), to: file, mode: 0o600) { current in
                if current == step { throw InjectedFailure() }
            }
        }
        #expect(try sandbox.store.loadContext(named: "s").slurm.host == "old-host")
        let entries = try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path)
        #expect(entries == ["s.yaml"], "no temporary file may be left behind")
    }

    @Test func leftoversOfKilledWritersAreSweptButLiveOnesKept() throws {
        let sandbox = try Sandbox()
        let file = sandbox.root.appendingPathComponent("config.yaml")
        // A pid above the kernel's maximum cannot be alive; our own pid stands for a live writer.
        let stale = try sandbox.write("half", to: ".config.yaml.tmp-99999999-1", in: sandbox.root)
        let live = try sandbox.write("busy", to: ".config.yaml.tmp-\(getpid())-2", in: sandbox.root)
        try AtomicFile.write("whole", to: file)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
        #expect(try sandbox.read(file) == "whole")
    }

    @Test func writesTheRequestedModeWhateverTheUmask() throws {
        let sandbox = try Sandbox()
        let file = sandbox.root.appendingPathComponent("secret")
        let previous = umask(0)
        defer { umask(previous) }
        try AtomicFile.write("x", to: file, mode: 0o600)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// mrun processes killed with SIGKILL at random moments while writing the settings: the file is
    /// always parseable and holds either the old value or one of the new ones.
    @Test func killedWritersNeverLeaveAHalfWrittenFile() async throws {
        let sandbox = try Sandbox()
        try sandbox.store.setSetting("editor", to: "initial")
        let binary = try CLI.binary
        var values: Set<String> = ["initial"]
        for round in 0..<25 {
            let value = "editor-\(round)-" + String(repeating: "x", count: 2000)
            values.insert(value)
            _ = try await Subprocess.run(
                .path(.init(binary.path)), arguments: ["config", "set", "editor", value],
                environment: .custom(
                    Dictionary(
                        uniqueKeysWithValues: sandbox.environment().map {
                            (Environment.Key(stringLiteral: $0.key), $0.value)
                        })),
                input: .none, output: .discarded, error: .discarded
            ) { execution in
                try await Task.sleep(for: .microseconds(Int.random(in: 0...30000)))
                try? execution.send(signal: .kill)
            }
            let settings = try sandbox.store.loadSettings()
            #expect(values.contains(settings.editor ?? ""), "round \(round): unexpected content")
        }
    }

    /// Twelve processes adding contexts at once: the lock serialises them and none is lost.
    @Test func concurrentAddsLoseNothing() async throws {
        let sandbox = try Sandbox()
        try await withThrowingTaskGroup(of: CLIResult.self) { group in
            for index in 0..<12 {
                group.addTask {
                    try await CLI.run(["context", "add", "--name", "c\(index)", "--type", "local"], sandbox: sandbox)
                }
            }
            for try await result in group {
                #expect(result.status == 0, "\(result.standardError)")
            }
        }
        #expect(try sandbox.store.contextNames().count == 13)
    }
}
