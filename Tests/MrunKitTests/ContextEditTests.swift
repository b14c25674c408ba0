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

/// `mrun context edit` with a scripted `$EDITOR`: a shell script standing in for the user.
@Suite struct ContextEditTests {
    func prepare(editorBody: String) throws -> (Sandbox, URL, String) {
        let sandbox = try Sandbox()
        var context = Context(name: "s", type: .slurm)
        context.slurm.host = "login"
        context.slurm.partition = "cpu"
        try sandbox.store.add(context)
        let editor = try sandbox.write(
            "#!/bin/sh\nset -e\nfile=\"$1\"\n\(editorBody)\n", to: "editor.sh", in: sandbox.root, mode: 0o755)
        let original = try sandbox.read(sandbox.store.contextFile(named: "s"))
        return (sandbox, editor, original)
    }

    @Test func validEditIsSaved() async throws {
        let (sandbox, editor, _) = try prepare(editorBody: "sed -i 's/partition: cpu/partition: gpu/' \"$file\"")
        let result = try await CLI.run(
            ["context", "edit", "s"], sandbox: sandbox, environment: ["EDITOR": editor.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "Saved context 's'.\n")
        #expect(try sandbox.store.loadContext(named: "s").slurm.partition == "gpu")
    }

    @Test func visualWinsOverEditorAndEditorSettingWinsOverBoth() async throws {
        let (sandbox, editor, _) = try prepare(editorBody: "sed -i 's/partition: cpu/partition: gpu/' \"$file\"")
        let failing = try sandbox.write("#!/bin/sh\nexit 3\n", to: "failing.sh", in: sandbox.root, mode: 0o755)
        let viaVisual = try await CLI.run(
            ["context", "edit", "s"], sandbox: sandbox, environment: ["VISUAL": editor.path, "EDITOR": failing.path])
        #expect(viaVisual.status == 0)
        try sandbox.store.setSetting("editor", to: failing.path)
        let viaSetting = try await CLI.run(
            ["context", "edit", "s"], sandbox: sandbox, environment: ["VISUAL": editor.path])
        #expect(viaSetting.status == 1)
        #expect(
            viaSetting.standardError
                == "error: the editor '\(failing.path)' failed (exited(3)); the context is unchanged\n")
    }

    @Test func invalidEditThenAbortLeavesTheFileUnchanged() async throws {
        let (sandbox, editor, original) = try prepare(
            editorBody: "printf 'name: s\\ntype: slurm\\nhost: login\\npartiton: gpu\\n' > \"$file\"")
        let file = sandbox.store.contextFile(named: "s").path
        let result = try await CLI.run(
            ["context", "edit", "s"], sandbox: sandbox, environment: ["EDITOR": editor.path], input: "n\n")
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "error: \(file):4:1: unknown key 'partiton' (did you mean 'partition'?); see 'Context reference' in the README\n"
                + "Re-open the editor to fix it? [Y/n] error: edit aborted; \(file) is unchanged\n")
        #expect(try sandbox.read(sandbox.store.contextFile(named: "s")) == original)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sandbox.store.contextsDirectory.path)
        #expect(leftovers == ["s.yaml"], "the draft must be removed")
    }

    @Test func invalidEditReopenedAndFixedIsSaved() async throws {
        // First call writes a bad value, the second (after "y") fixes it: the draft keeps the first edit.
        let body = """
            count_file="$(dirname "$0")/count"
            n=$(cat "$count_file" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$count_file"
            if [ $n -eq 1 ]; then sed -i 's/partition: cpu/nodes: zero/' "$file"; else sed -i 's/nodes: zero/nodes: 2/' "$file"; fi
            """
        let (sandbox, editor, _) = try prepare(editorBody: body)
        let result = try await CLI.run(
            ["context", "edit", "s"], sandbox: sandbox, environment: ["EDITOR": editor.path], input: "y\n")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("nodes: must be a whole number, got 'zero'"))
        let saved = try sandbox.store.loadContext(named: "s")
        #expect(saved.gang.nodes == 2)
        #expect(saved.slurm.partition == nil)
    }

    @Test func unchangedEditSaysSo() async throws {
        let (sandbox, editor, original) = try prepare(editorBody: "true")
        let result = try await CLI.run(
            ["context", "edit", "s"], sandbox: sandbox, environment: ["EDITOR": editor.path])
        #expect(result.status == 0)
        #expect(result.standardOutput == "No changes.\n")
        #expect(try sandbox.read(sandbox.store.contextFile(named: "s")) == original)
    }

    @Test func renamingInTheEditorMovesTheContextAndCurrentContext() async throws {
        let (sandbox, editor, _) = try prepare(editorBody: "sed -i 's/^name: s$/name: renamed/' \"$file\"")
        try sandbox.store.setSetting("current_context", to: "s")
        let result = try await CLI.run(
            ["context", "edit", "s"], sandbox: sandbox, environment: ["EDITOR": editor.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try sandbox.store.contextNames() == ["local", "renamed"])
        #expect(try sandbox.store.loadSettings().currentContext == "renamed")
    }
}
