import Foundation
import Stencil
import Testing

@testable import MrunSupport
@testable import MrunTemplates

/// The two shortcuts of a sweep's planning give what the long ways give: templates trimmed once
/// when parsed render as Stencil renders them, and manifests read from libyaml's events read as
/// Yams' nodes read them, or are left to Yams.
@Suite struct TemplateFastPathTests {
    /// What Stencil's own `Template.render` makes of `text`, marks trimmed on every render.
    private func stencilRender(_ text: String, _ variables: [String: any Sendable]) throws -> String {
        let environment = Environment(extensions: [TemplateRenderer.filters], trimBehaviour: .nothing)
        return try Template(templateString: text, environment: environment).render(TemplateRenderer.objects(variables))
    }

    private func render(_ text: String, _ variables: [String: any Sendable]) throws -> String {
        let renderer = TemplateRenderer()
        return try renderer.render(renderer.prepare(TemplateSet.Source(text: text, origin: "test")), with: variables)
    }

    private static let rich: [String: any Sendable] = {
        let toleration: [String: any Sendable] = ["key": "gpu", "value": "a100", "effect": "NoSchedule", "seconds": 30]
        let kubernetes: [String: any Sendable] = [
            "queue": "q", "priority_class": "high", "node_selector": ["pool": "gpu"], "tolerations": [toleration],
            "namespace": "ns",
        ]
        let experiment: [String: any Sendable] = [
            "name": "exp-1", "args": ["--lr", "0.1"], "requirements": "requirements.txt", "script": "exp.py",
        ]
        let sweep: [String: any Sendable] = ["indexed": false, "id": "abc12", "point": ["lr": 0.1]]
        return [
            "experiment": experiment, "kubernetes": kubernetes, "sweep": sweep, "gang": ["nodes": 2],
            "environment": [["name": "A", "value": "1"] as [String: any Sendable]],
        ]
    }()

    @Test func marksTrimmedWhenParsedRenderAsStencilTrimsThem() throws {
        let texts = [
            "a  \n  {%- if x %} b {% endif -%}  \n  c",
            "{%- if x -%}\n\n{{ x }}\n\n{%- else -%}\n none \n{%- endif -%}\n",
            "  {{ x }}  {%- for i in list -%}  [{{ i }}]  {%- empty -%} nothing {%- endfor %}  tail  ",
            "x {# note -#}  \n {%- if x %}\n y\n{%+ endif -%}\n\t z",
            "{% if x %}\n  {%- if y -%}\n   deep \n  {%- elif x -%}\n  other\n  {%- endif %}\n{% endif %}",
            " \u{2003}\n{%- if x -%} \u{00A0}keep\u{2028}\n{%- endif %}",
            "{% for k, v in o.map -%}\n  {{ k }}={{ v }}\n{%- endfor %}",
        ]
        let variables: [String: any Sendable] = ["x": "1", "y": 0, "list": [1, 2], "o": ["map": ["a": 1, "b": 2]]]
        for text in texts {
            for given in [variables, [:]] {
                let ours = Result { try render(text, given) }
                let stencils = Result { try stencilRender(text, given) }
                #expect(
                    (try? ours.get()) == (try? stencils.get()) && (try? ours.get()) != nil,
                    "\(text.debugDescription): \(ours) and Stencil's \(stencils)")
            }
        }
    }

    @Test func theTrimmedTokensKeepNoMarksForTheRenderToApply() {
        let tokens = Template(templateString: "a \n{%- if x -%}\n b {% endif -%} c").tokens
        let trimmed = TemplateTrimming.trimmed(tokens)
        #expect(trimmed.map(\.contents) == ["a", "if x", "b ", "endif", "c"])
        #expect(trimmed.filter { $0.kind == .block }.allSatisfy { $0.whitespace == .unspecified })
    }

    @Test func theBuiltInTemplatesRenderAsStencilRendersThem() throws {
        let templates = TemplateSet(searchPath: [])
        for name in TemplateSet.Name.allCases {
            let text = try templates.source(name).text
            for variables in [Self.rich, [:]] {
                #expect(try render(text, variables) == stencilRender(text, variables), "\(name.rawValue)")
            }
        }
    }

    /// One parsed template rendered for many variables in turn, its parts reused where what they
    /// name did not change: each render is what Stencil makes of those variables.
    @Test func partsReusedAcrossRendersRenderAsAWholeRenderWould() throws {
        let templates = TemplateSet(searchPath: [])
        let builtIn = try TemplateSet.Name.allCases.map { try templates.source($0).text }
        let texts =
            builtIn + [

                "{{ experiment.name }} {{ experiment.count }} {{ experiment|tojson }} {{ list.0 }} {{ list.count }}",
                "{% for k, v in o.map %}{{ k }}={{ v }},{% endfor %}|{% if o.flag and not x %}on{% else %}off{% endif %}",
                "{% for item in list %}{% if item > 1 %}{{ item }}{% endif %}{% empty %}none{% endfor %} {{ 'x.y'|default:o.name }}",
                "{% if o.deep.er %}{{ o.deep.er.est }}{% endif %}{# experiment #}{{ o.deep|tojson }}",
            ]
        func variables(_ index: Int, _ flag: Bool, _ list: [Int], _ deep: String?) -> [String: any Sendable] {
            var rich = Self.rich
            var experiment = rich["experiment"] as? [String: any Sendable] ?? [:]
            experiment["name"] = "exp-\(index)"
            if index % 2 == 1 { experiment["extra"] = index }
            rich["experiment"] = experiment
            rich["list"] = list
            rich["x"] = index > 2 ? "set" : nil
            let inner: [String: any Sendable] = deep.map { ["est": $0] } ?? [:]
            rich["o"] =
                ["map": ["a": index, "b": 2], "flag": flag, "name": "n", "deep": ["er": inner]]
                as [String: any Sendable]
            return rich
        }
        let sets = [
            variables(0, true, [1, 2], "a"), variables(1, true, [1, 2], "a"), variables(2, false, [3], "a"),
            variables(3, true, [], nil), variables(0, true, [1, 2], "b"), variables(0, true, [1, 2], "a"),
        ]
        let renderer = TemplateRenderer()
        for text in texts {
            let prepared = renderer.prepare(TemplateSet.Source(text: text, origin: "test"))
            // The points' templates (a Job, an ssh run script) and the hand-made ones are split.
            let pointTemplates = try [templates.source(.job).text, templates.source(.sshRun).text]
            #expect(
                prepared.reusesParts || (builtIn.contains(text) && !pointTemplates.contains(text)), "\(text.prefix(60))"
            )
            for (number, given) in sets.enumerated() {
                #expect(
                    try renderer.render(prepared, with: given) == stencilRender(text, given),
                    "set \(number): \(text.prefix(60))")
            }
        }
    }

    @Test func templatesWithOtherTagsAreRenderedWhole() throws {
        let renderer = TemplateRenderer()
        for text in [
            "{% filter uppercase %}{{ x }}{% endfilter %}", "{% for x in l %}{% break %}{% endfor %}",
            "{% ifnot x %}y{% endif %}",
        ] {
            let prepared = renderer.prepare(TemplateSet.Source(text: text, origin: "test"))
            #expect(!prepared.reusesParts, "\(text)")
            for given: [String: any Sendable] in [["x": "a", "l": [1]], ["x": "b", "l": [2]]] {
                #expect(try renderer.render(prepared, with: given) == stencilRender(text, given), "\(text)")
            }
        }
    }

    /// Manifests the events read: the same JSON as through Yams' nodes.
    @Test func plainManifestsReadFromEventsAsFromNodes() throws {
        let manifests = [
            """
            apiVersion: batch/v1
            kind: Job
            metadata: {name: "exp-1", labels: {a: "1", b: yes}}
            spec:
              backoffLimit: 0
              template:
                spec:
                  containers:
                  - name: main
                    args: ["--lr", 0.1, -3, 0x1F, ~, "", true, off, on, null, Null, 2026-11-22]
                    command: |
                      python exp.py
                    env: [{name: A, value: 'x'}]
                    workingDir: >
                      folded
                      text
                    resources:
                      limits: {cpu: 4, memory: 8Gi, nvidia.com/gpu: 1, fraction: 0.5, big: 1e3}
            """,
            "just a string\n", "42\n", "- 1\n- [a, {b: c}]\n- {}\n- []\n", "---\nkey:\n...\n", "é: ü😀\n",
            "key: .5\nother: +12\nthird: 1_000\nfourth: 0o17\nfifth: 190:20:30\nsixth: -.5e3\n",
        ]
        for text in manifests {
            let events = try #require(
                try? ManifestYAMLEvents.json(text, quantityKeys: ["limits"]), "not read from events: \(text)")
            #expect(events == (try ManifestYAML.jsonThroughNodes(text, quantityKeys: ["limits"])), "\(text)")
            #expect(events == (try ManifestYAML.json(text, quantityKeys: ["limits"])))
        }
        #expect(try ManifestYAMLEvents.json("", quantityKeys: []) == .some(nil))
    }

    /// Manifests the events leave to Yams: the answer or the error is Yams' own.
    @Test func whatTheEventsDoNotReadIsLeftToYams() throws {
        let left = [
            "a: &x 1\nb: *x\n", "a: !!str 12\n", "a: !custom x\n", "? [a]\n: b\n", "a: 1\na: 2\n",
            "a: 1\n---\nb: 2\n", "a: [1, 2\n", "a: *missing\n", "a: !!map {b: 1}\n", "\"a\": 1\na: 2\n",
        ]
        for text in left {
            #expect(throws: ManifestYAMLEvents.Unsupported.self, "\(text)") {
                try ManifestYAMLEvents.json(text, quantityKeys: [])
            }
            let viaNodes = Result { try ManifestYAML.jsonThroughNodes(text) }
            let overall = Result { try ManifestYAML.json(text) }
            switch (viaNodes, overall) {
            case (.success(let expected), .success(let got)): #expect(got == expected, "\(text)")
            case (.failure(let expected), .failure(let got)): #expect("\(got)" == "\(expected)", "\(text)")
            default: Issue.record("\(text.debugDescription): through nodes \(viaNodes), overall \(overall)")
            }
        }
        #expect(try ManifestYAML.json("a: &x 1\nb: *x\n") == .object(["a": .integer(1), "b": .integer(1)]))
    }
}
