import Foundation
import Testing

@testable import MrunConfig
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// Template variables are encoded straight into Stencil's values; they must be what the JSON
/// round trip (JSONEncoder with snake_case keys, JSONSerialization, unbridging) made.
@Suite struct TemplateValueEncoderTests {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// An object with the given keys, each holding 1.
    struct Keys: Encodable {
        var names: [String]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for name in names { try container.encode(1, forKey: Key(stringValue: name)) }
        }
    }

    enum Color: String, Codable, CodingKeyRepresentable {
        case deepRed, lightBlue
    }

    struct Everything: Encodable {
        var plainName = "a"
        var myURLValue = URL(string: "https://example.org/a b")
        var created = Date(timeIntervalSinceReferenceDate: 12.5)
        var wholeDouble = 2.0
        var fraction = 0.25
        var tiny: Float = 0.1
        var flag = true
        var zero = 0
        var missing: String? = nil
        var items: [String?] = ["x", nil]
        var camelKeyedMap = ["camelKey": 1, "a.b/cD": 2]
        var colors: [Color: Int] = [.deepRed: 1]
        var nested = [Keys(names: ["innerKey"])]
        var empty: [String: Int] = [:]
    }

    static func same(_ value: some Encodable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let direct = try TemplateRenderer.variables(value)
        let reference = try TemplateRenderer.variablesThroughJSON(value)
        #expect(
            TemplateFilters.json(direct) == TemplateFilters.json(reference), sourceLocation: sourceLocation)
        #expect(!direct.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func keysAreConvertedAsJSONEncoderConvertsThem() throws {
        let names = [
            "a", "name", "contentHash", "myURLValue", "URLValue", "isUP", "aB", "ABc", "AB", "gpu2Count",
            "outputSubPath", "procsPerNode", "x1Y2z", "already_snake", "HTTP2Streams",
        ]
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let object = try JSONSerialization.jsonObject(with: encoder.encode(Keys(names: names))) as? [String: Any]
        let expected = Set(object?.keys.map { $0 } ?? [])
        #expect(Set(names.map(TemplateValueEncoder.snakeCase)) == expected)
        #expect(TemplateValueEncoder.snakeCase("myURLValue") == "my_url_value")
    }

    @Test func scalarsCollectionsAndSpecialTypesMatchTheJSONRoundTrip() throws {
        try Self.same(Everything())
        let direct = try TemplateRenderer.variables(Everything())
        #expect(direct["whole_double"] as? Int == 2, "a whole Double reads as an Int, for Stencil's truth")
        #expect(direct["flag"] as? Bool == true)
        #expect(direct["missing"] == nil)
    }

    @Test func everyBackendsPlanVariablesMatchTheJSONRoundTrip() throws {
        let fixture = try PlanFixture()
        let builder = fixture.builder()
        var contexts = [PlanFixture.kubernetes, PlanFixture.slurm, Context(name: "here", type: .local)]
        var ssh = Context(name: "lab", type: .ssh)
        ssh.ssh.hosts = ["gpu1", "gpu2"]
        contexts.append(ssh)
        for context in contexts {
            let plan = try builder.plan(PlanFixture.request, context: context)
            try Self.same(TemplateVariables(plan: plan, revealSecrets: false))
            let spec = SweepSpec(grid: [try SweepAxis.parse("lr=0.1,1", flag: "--grid")])
            let sweep = try builder.sweep(PlanFixture.request, spec: spec, context: context)
            for point in sweep.plans { try Self.same(TemplateVariables(plan: point, revealSecrets: false)) }
        }
    }
}

@Suite struct JSONTextTests {
    @Test func plainStringsAreQuotedAndTheRestEscapedAsJSONDecoderReadsThem() throws {
        let samples = [
            "exp-k3x9q-0", "/storage/p", "", "a \"b\" c", "back\\slash", "two\nlines\tand\r", "\u{1}\u{7F}", "zażółć ✓",
        ]
        for sample in samples {
            let text = JSONText.string(sample)
            #expect(try JSONDecoder().decode(String.self, from: Data(text.utf8)) == sample, "\(text)")
        }
        #expect(JSONText.string("exp-0") == "\"exp-0\"")
        #expect(JSONText.string("a\"b") == "\"a\\\"b\"")
        #expect(JSONText.string("\u{1}") == "\"\\u0001\"")
    }
}
