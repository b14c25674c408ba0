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

/// How templates see their variables and how rendered manifests are read: what a custom template
/// may rely on, and YAML typed as Kubernetes types it.
@Suite struct TemplateRenderingTests {
    private func render(_ text: String, _ variables: [String: any Sendable]) throws -> String {
        let renderer = TemplateRenderer()
        let prepared = renderer.prepare(TemplateSet.Source(text: text, origin: "test"))
        return try renderer.render(prepared, with: variables)
    }

    @Test func objectsReadLikeMappingsAndNestedMappingsIterate() throws {
        let params: [String: any Sendable] = ["lr": 0.1, "bs": 32]
        let experiment: [String: any Sendable] = ["name": "exp-1", "args": ["--lr", "0.1"], "params": params]
        let first: [String: any Sendable] = ["name": "A", "value": "1"]
        let second: [String: any Sendable] = ["name": "B", "value": "2"]
        let environment: [any Sendable] = [first, second]
        let variables: [String: any Sendable] = ["experiment": experiment, "environment": environment]
        let text = """
            {{ experiment.name }} {{ experiment.args|tojson }} {{ experiment.count }}
            {% for variable in environment %}{{ variable.name }}={{ variable.value }};{% endfor %}
            {% for key, value in experiment.params %}{{ key }}:{{ value }},{% endfor %}
            {% if experiment.missing %}yes{% else %}no{% endif %} {{ experiment|tojson }}
            """
        let lines = try render(text, variables).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == #"exp-1 ["--lr", "0.1"] 3"#)
        #expect(lines[1] == "A=1;B=2;")
        #expect(lines[2] == "bs:32,lr:0.1,")
        #expect(lines[3] == #"no {"args": ["--lr", "0.1"], "name": "exp-1", "params": {"bs": 32, "lr": 0.1}}"#)
    }

    @Test func aParsedTemplateRendersManyTimesAndReportsSyntaxErrorsWhenRendered() throws {
        let renderer = TemplateRenderer()
        let prepared = renderer.prepare(TemplateSet.Source(text: "n={{ point.i }}", origin: "job.yaml"))
        for index in 0..<3 {
            #expect(try renderer.render(prepared, with: ["point": ["i": index]]) == "n=\(index)")
        }
        let broken = renderer.prepare(TemplateSet.Source(text: "{% for x in %}", origin: "broken.stencil"))
        #expect(throws: TemplateError.self) { try renderer.render(broken, with: [:]) }
    }

    @Test func manifestScalarsAreTypedAsKubernetesReadsThem() throws {
        let yaml = """
            plainString: hello
            quoted: "42"
            single: 'true'
            integer: 42
            negative: -7
            hex: 0x1F
            decimal: 2.5
            yes11: yes
            off11: off
            truth: true
            nothing: ~
            empty:
            nameLike: no-such-word
            stamp: 2026-11-22
            limits: {cpu: 4, memory: 8Gi, nvidia.com/gpu: 1, fraction: 0.5}
            list: [1, "1", x]
            """
        let value = try #require(try ManifestYAML.json(yaml, quantityKeys: ["limits"]))
        guard case .object(let fields) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(fields["plainString"] == .string("hello"))
        #expect(fields["quoted"] == .string("42"))
        #expect(fields["single"] == .string("true"))
        #expect(fields["integer"] == .integer(42))
        #expect(fields["negative"] == .integer(-7))
        #expect(fields["hex"] == .integer(31))
        #expect(fields["decimal"] == .number(2.5))
        #expect(fields["yes11"] == .bool(true))
        #expect(fields["off11"] == .bool(false))
        #expect(fields["truth"] == .bool(true))
        #expect(fields["nothing"] == .null)
        #expect(fields["empty"] == .null)
        #expect(fields["nameLike"] == .string("no-such-word"))
        #expect(fields["stamp"]?.string?.hasPrefix("2026-11-22T00:00:00") == true)
        #expect(
            fields["limits"]
                == .object([
                    "cpu": .string("4"), "memory": .string("8Gi"), "nvidia.com/gpu": .string("1"),
                    "fraction": .string("0.5"),
                ]))
        #expect(fields["list"] == .array([.integer(1), .string("1"), .string("x")]))
    }

    @Test func manifestsThatAreNotJSONAreRefused() throws {
        #expect(throws: (any Error).self) { try ManifestYAML.json("a: [1, 2\n") }
        #expect(throws: ManifestYAML.Problem.self) { try ManifestYAML.json("? [a, b]\n: c\n") }
        #expect(throws: ManifestYAML.Problem.self) { try ManifestYAML.json("x: .inf\n") }
        #expect(try ManifestYAML.json("") == nil)
    }

    @Test func jsonTextRoundTripsThroughTheDecoder() throws {
        let value = JSONValue.object([
            "s": .string("quote \" slash \\ newline \n tab \t ü 😀 \u{1}"), "i": .integer(-3), "d": .number(0.25),
            "b": .bool(false), "n": .null, "a": .array([.integer(1), .object([:]), .array([])]),
        ])
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(value.jsonText.utf8))
        #expect(decoded == value)
        #expect(JSONValue.object(["b": .integer(1), "a": .integer(2)]).jsonText == #"{"a":2,"b":1}"#)
    }
}
