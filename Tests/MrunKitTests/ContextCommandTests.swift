import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

@Suite struct ContextCommandTests {
    @Test func addListShowCopyDeleteRoundTrip() async throws {
        let sandbox = try Sandbox()
        let add = try await CLI.run(
            [
                "context", "add", "--name", "gke.sandbox", "--type", "kubernetes", "--registry_url", "https://gcr.io",
                "--storage", "/storage", "--resources", "tpu=1 cpu=4", "--no-neptune", "--env", "A=1 2",
                "--base-image", "python:3",
            ], sandbox: sandbox)
        #expect(add.status == 0, "\(add.standardError)")
        let stored = try sandbox.store.loadContext(named: "gke.sandbox")
        #expect(stored.kubernetes.registryURL == "https://gcr.io")
        #expect(stored.kubernetes.baseImage == "python:3")
        #expect(stored.resources == Resources(cpu: "4", tpu: 1))
        #expect(stored.neptune == false)
        #expect(stored.env == ["A": "1 2"])
        let mode =
            try FileManager.default.attributesOfItem(atPath: sandbox.store.contextFile(named: "gke.sandbox").path)[
                .posixPermissions] as? Int
        #expect(mode == 0o600)

        let show = try await CLI.run(["context", "show", "gke.sandbox"], sandbox: sandbox)
        #expect(show.status == 0)
        #expect(try ContextParser.parse(show.standardOutput, file: "show") == stored)

        #expect(try await CLI.run(["config", "set", "current_context", "gke.sandbox"], sandbox: sandbox).status == 0)
        let list = try await CLI.run(["context"], sandbox: sandbox)
        #expect(list.standardOutput.contains("* gke.sandbox"))
        #expect(list.standardOutput.contains("  local"))

        #expect(try await CLI.run(["context", "copy", "gke.sandbox", "gke.two"], sandbox: sandbox).status == 0)
        var copied = stored
        copied.name = "gke.two"
        #expect(try sandbox.store.loadContext(named: "gke.two") == copied)

        let delete = try await CLI.run(["context", "delete", "gke.sandbox"], sandbox: sandbox)
        #expect(delete.status == 0)
        #expect(delete.standardOutput.contains("It was the current context"))
        #expect(try sandbox.store.loadSettings().currentContext == nil)
        #expect(try sandbox.store.contextNames() == ["gke.two", "local"])
    }

    @Test func addFromAnExampleFileInContextsAndOverrideItsName() async throws {
        let sandbox = try Sandbox()
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Contexts")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 3)
        for file in files {
            let result = try await CLI.run(
                [
                    "context", "add", "--from-file", examples.appendingPathComponent(file).path, "--name",
                    "ex-\(file.dropLast(5))",
                ],
                sandbox: sandbox)
            #expect(result.status == 0, "\(file): \(result.standardError)")
        }
        let slurm = try sandbox.store.loadContext(named: "ex-plgrid.agents")
        #expect(slurm.type == .slurm)
        #expect(slurm.slurm.time == "2:00:00")
        #expect(slurm.slurm.modules == ["python/3.11"])
    }

    @Test func loginNodeFlagAloneIsTrueAndExcludesSSHKeys() throws {
        func context(_ arguments: [String]) throws(ConfigError) -> Context {
            try ContextFlags.context(
                from: ContextFlags.parse(["--name", "c", "--type", "slurm"] + arguments), base: nil)
        }
        let login = try context(["--login_node", "--container_image", "docker://python:3.11"])
        #expect(login.slurm.loginNode == true && login.slurm.host == nil)
        #expect(login.slurm.containerImage == "docker://python:3.11")
        #expect(try context(["--login-node", "yes"]).slurm.loginNode == true)
        #expect(try context(["--host", "h", "--login_node", "false"]).slurm.loginNode == false)
        #expect(try context(["--neptune", "false", "--host", "h"]).neptune == false)
        #expect(
            throws: ConfigError.invalidFlag(
                flag: "--host",
                message:
                    "host is for ssh, and login_node: true runs Slurm commands here without ssh; remove one of them")
        ) { try context(["--login_node", "--host", "h"]) }
        #expect(
            throws: ConfigError.invalidFlag(
                flag: "context 'c'",
                message: "slurm contexts need 'host' (an ssh alias or user@host[:port]),"
                    + " or 'login_node: true' when mrun runs on the login node")
        ) { try context(["--login_node", "off"]) }
    }

    @Test func configShowSetUnset() async throws {
        let sandbox = try Sandbox()
        let unset = try await CLI.run(["config"], sandbox: sandbox).standardOutput
        #expect(unset == "current_context: local (built-in default)\neditor: (unset)\n")
        #expect(try await CLI.run(["config", "set", "editor", "nano -w"], sandbox: sandbox).status == 0)
        #expect(try sandbox.store.loadSettings().editor == "nano -w")
        #expect(try await CLI.run(["config", "set", "current_context", "local"], sandbox: sandbox).status == 0)
        #expect(
            try await CLI.run(["config"], sandbox: sandbox).standardOutput
                == "current_context: local\neditor: nano -w\n")
        #expect(
            try await CLI.run(["config", "unset", "editor"], sandbox: sandbox).standardOutput == "editor: (unset)\n")
        #expect(try sandbox.store.loadSettings() == Settings(currentContext: "local"))
        let unsetContext = try await CLI.run(["config", "unset", "current_context"], sandbox: sandbox)
        #expect(unsetContext.standardOutput == "current_context: local (built-in default)\n")
        #expect(try sandbox.store.loadSettings() == Settings())
    }

    /// `context list` and `config` name the context used when none is set in the same words, and
    /// neither calls it a default once it is set.
    @Test func theBuiltInDefaultIsShownAlikeByContextListAndConfig() async throws {
        let sandbox = try Sandbox()
        let words = "local (built-in default)"
        let list = try await CLI.run(["context"], sandbox: sandbox).standardOutput
        #expect(list == "* local                \(words)\n")
        #expect(try await CLI.run(["config"], sandbox: sandbox).standardOutput.contains("current_context: \(words)\n"))

        #expect(try await CLI.run(["config", "set", "current_context", "local"], sandbox: sandbox).status == 0)
        #expect(try await CLI.run(["context"], sandbox: sandbox).standardOutput == "* local                local\n")
        #expect(try await CLI.run(["config"], sandbox: sandbox).standardOutput.contains("current_context: local\n"))

        let add = ["context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", "127.0.0.1:5000"]
        #expect(try await CLI.run(add, sandbox: sandbox).status == 0)
        #expect(try await CLI.run(["config", "set", "current_context", "k"], sandbox: sandbox).status == 0)
        let other = try await CLI.run(["context"], sandbox: sandbox).standardOutput
        #expect(other == "* k                    kubernetes\n  local                local\n")
    }

    @Test func globalContextFlagOverridesCurrentContext() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print('hi')\n", to: "exp.py")
        _ = try await CLI.run(
            ["context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", "r.io"], sandbox: sandbox)
        _ = try await CLI.run(
            ["context", "add", "--name", "s", "--type", "slurm", "--host", "login"], sandbox: sandbox)
        _ = try await CLI.run(["config", "set", "current_context", "k"], sandbox: sandbox)
        let current = try await CLI.run(["run", "exp.py", "--dry-run"], sandbox: sandbox)
        #expect(current.standardOutput.contains("Context      k (kubernetes)"))
        let overridden = try await CLI.run(["--context", "s", "run", "exp.py", "--dry-run"], sandbox: sandbox)
        #expect(overridden.standardOutput.contains("Context      s (slurm)"), "\(overridden.standardError)")
    }
}
