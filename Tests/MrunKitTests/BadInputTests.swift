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

/// Bad input from the command line: each case must end with exactly one line on stderr, naming the
/// file/line, flag or key at fault, a non-zero status, and no change to what was stored.
@Suite struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        /// Files to create in the project directory first (path → text).
        var files: [String: String] = [:]
        /// The exact error line; `$P` stands for the project directory, `$H` for MRUN_HOME.
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "malformed YAML", arguments: ["context", "add", "--from-file", "c.yaml"],
            files: ["c.yaml": "name: a\ntype: local\nenv: {A: 1\n"],
            message: "error: c.yaml:4:1: invalid YAML: did not find expected ',' or '}' while parsing a flow mapping"),
        Case(
            name: "unknown key", arguments: ["context", "add", "--from-file", "c.yaml"],
            files: ["c.yaml": "name: a\ntype: kubernetes\nregistry: r.io\n"],
            message:
                "error: c.yaml:3:1: unknown key 'registry' (did you mean 'registry_url'?); see 'Context reference' in the README"
        ),
        Case(
            name: "wrong type of value", arguments: ["context", "add", "--from-file", "c.yaml"],
            files: ["c.yaml": "name: a\ntype: slurm\nhost: h\nnodes: [1]\n"],
            message: "error: c.yaml:4:8: nodes: must be a whole number"),
        Case(
            name: "empty file", arguments: ["context", "add", "--from-file", "c.yaml"], files: ["c.yaml": ""],
            message: "error: c.yaml: the file is empty; it should hold a context"),
        Case(
            name: "context file that is a directory", arguments: ["context", "add", "--from-file", "dir"],
            files: ["dir/x": ""],
            message: "error: $P/dir: is a directory, not a context file; give the path of a file"),
        Case(
            name: "missing context file", arguments: ["context", "add", "--from-file", "nope.yaml"],
            message: "error: $P/nope.yaml: no such context file; check the path"),
        Case(
            name: "non-UTF-8 file", arguments: ["context", "add", "--from-file", "c.yaml"],
            files: ["c.yaml": "\u{FFFF}"],
            message: "error: $P/c.yaml: is not UTF-8 text"),
        Case(
            name: "resources cpu=",
            arguments: ["context", "add", "--name", "a", "--type", "local", "--resources", "cpu="],
            message: "error: --resources: 'cpu=' has no value; write e.g. cpu=4"),
        Case(
            name: "resources gpu=-1",
            arguments: ["context", "add", "--name", "a", "--type", "local", "--resources", "gpu=-1"],
            message: "error: --resources: gpu must be a whole number of devices from 0 to 4096, got '-1'"),
        Case(
            name: "resources mem=lots",
            arguments: ["context", "add", "--name", "a", "--type", "local", "--resources", "mem=lots"],
            message: "error: --resources: mem must be a quantity like 8G, 512Mi or 16Gi, got 'lots'"),
        Case(
            name: "unknown flag",
            arguments: ["context", "add", "--name", "a", "--type", "kubernetes", "--registy-url", "r"],
            message:
                "error: --registy-url: unknown flag (did you mean '--registry_url'?); see 'mrun context add --help'"),
        Case(
            name: "flag for another type",
            arguments: ["context", "add", "--name", "a", "--type", "local", "--partition", "gpu"],
            message: "error: --partition: applies to slurm contexts, not local ones"),
        Case(
            name: "scheduling flag for another type",
            arguments: ["context", "add", "--name", "a", "--type", "slurm", "--host", "h", "--queue", "team-a"],
            message: "error: --queue: applies to kubernetes contexts, not slurm ones"),
        Case(
            name: "node_selector that is a list", arguments: ["context", "add", "--from-file", "c.yaml"],
            files: ["c.yaml": "name: a\ntype: kubernetes\nregistry_url: r.io\nnode_selector: [gpu]\n"],
            message: "error: c.yaml:4:16: node_selector: must be a mapping of names to strings"),
        Case(
            name: "tolerations as a mapping", arguments: ["context", "add", "--from-file", "c.yaml"],
            files: ["c.yaml": "name: a\ntype: kubernetes\nregistry_url: r.io\ntolerations: {key: gpu}\n"],
            message: "error: c.yaml:4:14: tolerations: must be a list of strings"),
        Case(
            name: "missing type", arguments: ["context", "add", "--name", "a"],
            message: "error: --type: required: local, kubernetes, slurm or ssh"),
        Case(
            name: "bad type", arguments: ["context", "add", "--name", "a", "--type", "slrum"],
            message: "error: --type: must be one of local, kubernetes, slurm, ssh, got 'slrum' (did you mean 'slurm'?)"),
        Case(
            name: "kubernetes without registry", arguments: ["context", "add", "--name", "a", "--type", "kubernetes"],
            message:
                "error: context 'a': kubernetes contexts need 'registry_url' (e.g. registry_url: gcr.io/my-project)"),
        Case(
            name: "invalid context name", arguments: ["context", "add", "--name", "a/b", "--type", "local"],
            message:
                "error: invalid context name 'a/b': use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters"
        ),
        Case(
            name: "flag without value", arguments: ["context", "add", "--name", "a", "--type", "slurm", "--host"],
            message: "error: --host: needs a value"),
        Case(
            name: "unknown context", arguments: ["context", "show", "gke"],
            message: "error: no context named 'gke'; known: local (add one with 'mrun context add')"),
        Case(
            name: "unknown global context", arguments: ["--context", "lcoal", "run", "exp.py"], files: ["exp.py": ""],
            message:
                "error: no context named 'lcoal' (did you mean 'local'?); known: local (add one with 'mrun context add')"
        ),
        Case(
            name: "current_context set to a missing context", arguments: ["config", "set", "current_context", "gke"],
            message: "error: no context named 'gke'; known: local (add one with 'mrun context add')"),
        Case(
            name: "unknown setting", arguments: ["config", "set", "current-context", "local"],
            message:
                "error: unknown setting 'current-context' (did you mean 'current_context'?); known settings: current_context, editor"
        ),
        Case(
            name: "delete the built-in context", arguments: ["context", "delete", "local"],
            message:
                "error: 'local' is the built-in context and cannot be changed or deleted; add a context of your own instead"
        ),
        Case(
            name: "delete an unknown context", arguments: ["context", "delete", "nope"],
            message: "error: no context named 'nope'; known: local (add one with 'mrun context add')"),
        Case(
            name: "missing script", arguments: ["run", "exp.py"],
            message: "error: exp.py: no such script; give the path of the experiment's Python file"),
        Case(
            name: "script is a directory", arguments: ["run", "src"], files: ["src/a.py": ""],
            message: "error: src: is a directory; give the path of the experiment's Python file"),
        Case(
            name: "invalid project name", arguments: ["run", "exp.py", "--project", "a/b"], files: ["exp.py": ""],
            message:
                "error: --project: 'a/b' cannot name a project; use at most 63 letters, digits, '-', '_', '.' or spaces (it becomes the namespace name)"
        ),
        Case(
            name: "bad --env", arguments: ["run", "exp.py", "--env", "NOVALUE"], files: ["exp.py": ""],
            message: "error: --env: 'NOVALUE' is not NAME=VALUE with NAME made of letters, digits and '_'"),
        Case(
            name: "bad --resources on run", arguments: ["run", "exp.py", "--resources", "gpu=two"],
            files: ["exp.py": ""],
            message: "error: --resources: gpu must be a whole number of devices from 0 to 4096, got 'two'"),
        Case(
            name: "missing requirements", arguments: ["run", "exp.py", "--requirements", "req.txt"],
            files: ["exp.py": ""],
            message: "error: --requirements: req.txt: no such file; check the path"),
        Case(
            name: "script excluded by .gitignore", arguments: ["run", "exp.py"],
            files: ["exp.py": "", ".gitignore": "*.py\n"],
            message:
                "error: exp.py: the script is excluded by .gitignore or .mrunignore, so it would not be shipped; re-include it with a '!exp.py' line in .mrunignore"
        ),
        Case(
            name: "templates flag not a directory", arguments: ["run", "exp.py", "--templates", "nope"],
            files: ["exp.py": ""],
            message: "error: --templates: nope is not a directory; give a directory of *.stencil templates"),
        Case(
            name: "unknown key in the Neptune config", arguments: ["run", "exp.py", "--config", "neptune.yaml"],
            files: ["exp.py": "", "neptune.yaml": "project: p\nparams: {}\n"],
            message:
                "error: neptune.yaml:2:1: unknown key 'params' (did you mean 'parameters'?); known: project, name, description, tags, parameters"
        ),
    ]

    @Test(arguments: cases)
    func rejects(_ badInput: Case) async throws {
        let sandbox = try Sandbox()
        for (path, text) in badInput.files {
            try sandbox.write(text, to: path)
        }
        if badInput.name == "non-UTF-8 file" {
            try Data([0x6E, 0x61, 0xFF, 0xFE, 0x0A]).write(to: sandbox.project.appendingPathComponent("c.yaml"))
        }
        let before = try snapshotOfHome(sandbox)
        let result = try await CLI.run(badInput.arguments, sandbox: sandbox)
        let expected = badInput.message.replacingOccurrences(of: "$P", with: sandbox.project.path)
            .replacingOccurrences(of: "$H", with: sandbox.mrunHome.path)
        #expect(result.status != 0)
        #expect(result.standardError == expected + "\n")
        #expect(try snapshotOfHome(sandbox) == before, "the failed command changed MRUN_HOME")
    }

    @Test func jsonOutputWithoutDryRunIsAUsageError() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print(1)\n", to: "exp.py")
        let result = try await CLI.run(["run", "exp.py", "--output", "json"], sandbox: sandbox)
        #expect(result.status == 64)
        #expect(result.standardError.hasPrefix("Error: --output json prints the plan, so it needs --dry-run\n"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.store.runsDirectory.path))
    }

    @Test func duplicateAddIsRefusedAndKeepsTheFirst() async throws {
        let sandbox = try Sandbox()
        let first = ["context", "add", "--name", "a", "--type", "slurm", "--host", "one"]
        #expect(try await CLI.run(first, sandbox: sandbox).status == 0)
        let before = try snapshotOfHome(sandbox)
        let second = try await CLI.run(["context", "add", "--name", "a", "--type", "local"], sandbox: sandbox)
        #expect(second.status == 1)
        #expect(
            second.standardError
                == "error: a context named 'a' already exists; choose another name, or change it with 'mrun context edit a'\n"
        )
        #expect(try snapshotOfHome(sandbox) == before)
        #expect(try sandbox.store.loadContext(named: "a").slurm.host == "one")
    }

    @Test func brokenStoredContextNamesItsFileLineAndColumn() async throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write(
            "name: b\ntype: local\nneptune: sure\n", to: "contexts/b.yaml", in: sandbox.mrunHome)
        let result = try await CLI.run(["--context", "b", "run", "x.py"], sandbox: sandbox)
        #expect(result.status == 1)
        #expect(result.standardError == "error: \(file.path):3:10: neptune: must be true or false, got 'sure'\n")
        let list = try await CLI.run(["context"], sandbox: sandbox)
        #expect(list.status == 0, "one broken context must not hide the others")
        #expect(list.standardOutput.contains("b                    invalid: \(file.path):3:10"))
    }

    @Test func unreadableFileIsReportedEvenForRoot() async throws {
        let sandbox = try Sandbox()
        let file = try sandbox.write("name: a\ntype: local\n", to: "c.yaml", mode: 0o000)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: sandbox.root.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: sandbox.project.path)
        // Root reads any file, so as root the check runs mrun as the unprivileged user 'nobody'.
        var arguments = ["context", "add", "--from-file", file.path]
        var environment: [String: String] = [:]
        if getuid() == 0 {
            let binary = try CLI.binary.path
            arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + arguments
            environment["MRUN_WRAPPER"] = "/usr/bin/setpriv"
        }
        let result = try await CLI.run(arguments, sandbox: sandbox, environment: environment)
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "error: \(file.path): permission denied; make the context file readable (chmod u+r)\n")
    }

    /// Every file under MRUN_HOME with its content, to prove a failed command changed nothing.
    func snapshotOfHome(_ sandbox: Sandbox) throws -> [String: String] {
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: sandbox.mrunHome.path)
        while let path = enumerator?.nextObject() as? String {
            let url = sandbox.mrunHome.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                path != ".lock"
            {
                files[path] = try sandbox.read(url)
            }
        }
        return files
    }
}
