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

/// Files mrun reads besides contexts: Neptune's experiment config and `~/.neptune.yaml`, and
/// templates. A value of the wrong shape or a broken template is one line naming file and key/line.
@Suite struct HardeningFileTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var file: String
        var text: String
        var message: String
        var testDescription: String { name }
    }

    static let neptuneCases: [Case] = [
        Case(
            name: "name is a mapping", file: "neptune.yaml", text: "name: {a: 1}\n",
            message: "error: neptune.yaml:1:7: name: must be a single value, not a mapping"),
        Case(
            name: "tags is a mapping", file: "neptune.yaml", text: "tags: {a: 1}\n",
            message: "error: neptune.yaml:1:7: tags: must be a tag or a list of tags"),
        Case(
            name: "a tag is a list", file: "neptune.yaml", text: "tags: [a, [b]]\n",
            message: "error: neptune.yaml:1:11: tags: must be a single value, not a list"),
        Case(
            name: "project is a list", file: "neptune.yaml", text: "project: [a, b]\n",
            message: "error: neptune.yaml:1:10: project: must be a single value, not a list"),
        Case(
            name: "a parameter is a list", file: "neptune.yaml", text: "parameters: {lr: [1, 2]}\n",
            message: "error: neptune.yaml:1:18: parameters.lr: must be a single value, not a list"),
        Case(
            name: "host is a list", file: ".neptune.yaml", text: "host: [a, b]\n",
            message: "error: $HOME/.neptune.yaml:1:7: host: must be a single value, not a list"),
        Case(
            name: "password is a list", file: ".neptune.yaml", text: "password: [hunter2]\n",
            message: "error: $HOME/.neptune.yaml:1:11: password: must be a single value, not a list"),
        Case(
            name: "port out of range", file: ".neptune.yaml", text: "port: 70000\n",
            message: "error: $HOME/.neptune.yaml:1:7: port: must be a port number from 1 to 65535, got '70000'"),
        Case(
            name: "port is a word", file: ".neptune.yaml", text: "port: http\n",
            message: "error: $HOME/.neptune.yaml:1:7: port: must be a port number from 1 to 65535, got 'http'"),
    ]

    @Test(arguments: neptuneCases)
    func neptuneFile(_ badInput: Case) async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print(1)\n", to: "exp.py")
        let inHome = badInput.file == ".neptune.yaml"
        try sandbox.write(badInput.text, to: badInput.file, in: inHome ? sandbox.home : nil)
        let arguments = ["run", "--dry-run", "exp.py"] + (inHome ? [] : ["--config", badInput.file])
        let result = try await CLI.run(arguments, sandbox: sandbox)
        #expect(result.status == 1)
        #expect(
            result.standardError == badInput.message.replacingOccurrences(of: "$HOME", with: sandbox.home.path) + "\n")
        #expect(!result.standardError.contains("hunter2"))
    }

    /// Templates whose defects Stencil lets through or chokes on.
    static let templateCases: [Case] = [
        Case(
            name: "unclosed variable", file: "sbatch.sh.stencil",
            text: "#!/bin/bash\n#SBATCH --job-name={{ experiment.name\n",
            message: "error: $T/sbatch.sh.stencil:2: template error: {{ is never closed with }}"),
        Case(
            name: "variable closed only after the next tag", file: "sbatch.sh.stencil",
            text: "#!/bin/bash {{ experiment.name\necho x\n{% if slurm %}y{% endif %} }}\n",
            message: "error: $T/sbatch.sh.stencil:1: template error: {{ is not closed with }} before the next {%"),
        Case(
            name: "unclosed tag", file: "sbatch.sh.stencil", text: "#!/bin/bash\n\n{% if slurm \n",
            message: "error: $T/sbatch.sh.stencil:3: template error: {% is never closed with %}"),
        Case(
            name: "3000 nested ifs", file: "sbatch.sh.stencil",
            text: "#!/bin/bash\n" + String(repeating: "{% if slurm %}", count: 3000)
                + String(repeating: "{% endif %}", count: 3000),
            message:
                "error: $T/sbatch.sh.stencil:2: template error: blocks are nested more than 64 deep; flatten the template"
        ),
        Case(
            name: "3000 nested fors", file: "sbatch.sh.stencil",
            text: "#!/bin/bash\n" + String(repeating: "{% for a in b %}\n", count: 3000) + "{% endfor %}\n",
            message:
                "error: $T/sbatch.sh.stencil:66: template error: blocks are nested more than 64 deep; flatten the template"
        ),
        Case(
            name: "2 MiB template", file: "sbatch.sh.stencil", text: String(repeating: "# padding\n", count: 210_000),
            message:
                "error: $T/sbatch.sh.stencil: template error: the template is larger than 1024 KiB; keep templates small"
        ),
    ]

    @Test(arguments: templateCases)
    func template(_ badInput: Case) async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print(1)\n", to: "exp.py")
        let templates = sandbox.root.appendingPathComponent("templates")
        try sandbox.write(badInput.text, to: badInput.file, in: templates)
        try sandbox.write("name: hpc\ntype: slurm\nhost: h\n", to: "contexts/hpc.yaml", in: sandbox.mrunHome)
        let result = try await CLI.run(
            ["--context", "hpc", "run", "--dry-run", "--templates", templates.path, "exp.py"], sandbox: sandbox)
        #expect(result.status == 1)
        #expect(result.standardError == badInput.message.replacingOccurrences(of: "$T", with: templates.path) + "\n")
    }

    /// The renderer itself refuses the deep template before Stencil's recursive parser sees it:
    /// 3000 levels used to keep it busy for minutes.
    @Test func deepTemplatesFailBeforeParsing() throws {
        let deep = String(repeating: "{% if a %}", count: 3000) + String(repeating: "{% endif %}", count: 3000)
        let source = TemplateSet.Source(text: deep, origin: "deep.stencil")
        #expect(
            throws: TemplateError.syntax(
                source: "deep.stencil", line: 1, message: "blocks are nested more than 64 deep; flatten the template")
        ) {
            try TemplateRenderer().render(source, with: [:])
        }
    }

    @Test func lintAcceptsTheBuiltInTemplatesAndCommentsWithTags() {
        for (name, text) in BuiltInTemplates.files {
            #expect(TemplateLint.problem(in: text) == nil, "\(name)")
        }
        #expect(TemplateLint.problem(in: "{# a {{ b }} and {% c %} #}\n{{ x }}") == nil)
        #expect(TemplateLint.problem(in: "{% for a in b %}{% if a %}{% endif %}{% endfor %}") == nil)
        let deep = String(repeating: "{% if a %}", count: 64) + String(repeating: "{% endif %}", count: 64)
        #expect(TemplateLint.problem(in: deep) == nil)
        #expect(TemplateLint.problem(in: deep + deep + deep) == nil, "depth counts nesting, not tags")
    }

    @Test func messagesQuoteValuesShortAndOnOneLine() {
        #expect(MessageQuoting.quoted("abc") == "'abc'")
        #expect(MessageQuoting.quoted("a\nb\tc\u{1B}") == "'a\\nb\\tc\\u{1b}'")
        let long = MessageQuoting.quoted(String(repeating: "é", count: 2_000_000))
        #expect(long == "'" + String(repeating: "é", count: 80) + "…'")
        #expect("got \(quoted: 42)" == "got '42'")
    }
}

@Suite struct SbatchQuotingTests {
    /// What the model lets through with spaces or shell characters (a constraint expression, a
    /// workdir) is quoted on its `#SBATCH` line; sbatch reads shell quoting there.
    @Test func valuesOnSbatchLinesAreQuoted() throws {
        let fixture = try PlanFixture()
        var context = PlanFixture.slurm
        context.slurm.constraint = "intel&(v100|a100) big"
        context.slurm.workdir = "runs of ada"
        let plan = try fixture.builder().plan(PlanFixture.request, context: context)
        let script = try #require(plan.artefacts.first).content
        #expect(script.contains("\n#SBATCH --constraint='intel&(v100|a100) big'\n"))
        #expect(script.contains("\n#SBATCH --output='runs of ada/"))
        #expect(script.contains("\n#SBATCH --partition=plgrid-gpu\n"), "plain values stay as they were")
    }
}
