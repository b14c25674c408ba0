import FakeKubernetes
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

@Suite struct TemplateTests {
    static let templatesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Templates")

    @Test func builtInTemplatesAreExactlyTheFilesInTemplates() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.templatesDirectory.path)
            .filter { $0.hasSuffix(".stencil") }
        #expect(Set(files.map { String($0.dropLast(".stencil".count)) }) == Set(BuiltInTemplates.files.keys))
        #expect(Set(BuiltInTemplates.files.keys) == Set(TemplateSet.Name.allCases.map(\.rawValue)))
        for file in files {
            let text = try String(contentsOf: Self.templatesDirectory.appendingPathComponent(file), encoding: .utf8)
            #expect(
                BuiltInTemplates.files[String(file.dropLast(".stencil".count))] == text,
                "\(file) changed: run 'make templates' (scripts/embed-templates)")
        }
    }

    @Test func overridesArePerFileInPrecedenceOrder() throws {
        let fixture = try PlanFixture()
        let sandbox = fixture.sandbox
        try sandbox.write("FROM {{ image.base }} # home\n", to: "templates/Dockerfile.stencil", in: sandbox.mrunHome)
        try sandbox.write("kind: Namespace # home\n", to: "templates/namespace.yaml.stencil", in: sandbox.mrunHome)
        try sandbox.write("kind: Namespace # context\n", to: "ctx-templates/namespace.yaml", in: sandbox.root)
        try sandbox.write(
            "kind: PersistentVolumeClaim # flag\n", to: "flag-templates/pvc.yaml.stencil", in: sandbox.root)
        try sandbox.write(
            "kind: PersistentVolumeClaim # context\n", to: "ctx-templates/pvc.yaml.stencil", in: sandbox.root)
        var context = PlanFixture.kubernetes
        context.templatesDir = sandbox.root.appendingPathComponent("ctx-templates").path
        var request = PlanFixture.request
        request.templatesDir = sandbox.root.appendingPathComponent("flag-templates").path
        let plan = try fixture.builder().plan(request, context: context)
        #expect(plan.artefact(.dockerfile)?.content == "FROM python:3.11-slim # home\n")
        #expect(plan.artefact(.namespace)?.content == "kind: Namespace # context\n")
        #expect(plan.artefact(.persistentVolumeClaim)?.content == "kind: PersistentVolumeClaim # flag\n")
        #expect(plan.artefact(.job)?.template == "built-in job.yaml")
        #expect(
            plan.artefact(.namespace)?.template
                == sandbox.root.appendingPathComponent("ctx-templates/namespace.yaml").path)
    }

    @Test func aBrokenTemplateNamesItsFile() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("x\n", to: "exp.py")
        let template = try sandbox.write("{% if %}\n", to: "templates/Dockerfile.stencil", in: sandbox.mrunHome)
        _ = try await CLI.run(
            ["context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", "r.io"], sandbox: sandbox)
        let result = try await CLI.run(["--context", "k", "run", "exp.py", "--dry-run"], sandbox: sandbox)
        #expect(result.status == 1)
        #expect(result.standardError.hasPrefix("error: \(template.path): template error: "))
        #expect(result.standardError.split(separator: "\n").count == 1)
    }

    @Test func aTemplateRenderingInvalidYAMLIsCaught() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("x\n", to: "exp.py")
        let template = try sandbox.write("kind: [Job\n", to: "templates/job.yaml.stencil", in: sandbox.mrunHome)
        _ = try await CLI.run(
            ["context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", "r.io"], sandbox: sandbox)
        let result = try await CLI.run(["--context", "k", "run", "exp.py", "--dry-run"], sandbox: sandbox)
        #expect(result.status == 1)
        #expect(result.standardError.hasPrefix("error: \(template.path): the rendered text is not valid YAML: "))
    }

    @Test func filtersQuoteForShellAndJSON() {
        #expect(TemplateFilters.shellQuote("plain-word_1.py") == "plain-word_1.py")
        #expect(TemplateFilters.shellQuote("a b") == "'a b'")
        #expect(TemplateFilters.shellQuote("it's") == "'it'\\''s'")
        #expect(TemplateFilters.shellQuote("") == "''")
        #expect(TemplateFilters.shellQuote("$(rm -rf /)") == "'$(rm -rf /)'")
        #expect(TemplateFilters.json("a\"b\\c\nd\u{1}") == #""a\"b\\c\nd\u0001""#)
        #expect(TemplateFilters.json(["x", 1, true] as [Any]) == #"["x", 1, true]"#)
    }
}

@Suite struct DocumentationTests {
    @Test func readmeDocumentsEveryContextKeyAndSetting() throws {
        let readme = try String(
            contentsOf: TemplateTests.templatesDirectory.deletingLastPathComponent().appendingPathComponent(
                "README.md"),
            encoding: .utf8)
        for key in ContextKey.allCases {
            #expect(readme.contains("| `\(key.rawValue)` |"), "README's context reference lacks \(key.rawValue)")
        }
        for key in Settings.Key.allCases {
            #expect(readme.contains(key.rawValue))
        }
        #expect(readme.contains("make test"))
    }
}
