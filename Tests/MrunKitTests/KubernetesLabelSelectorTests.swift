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

@Suite struct KubernetesLabelSelectorTests {
    typealias Selector = Kubernetes.LabelSelector
    typealias K = Kubernetes

    @Test func rendersEqualityAndSetBasedRequirements() {
        let selector: Selector = [.equals("a", "b"), .in("c", ["x", "y"]), .doesNotExist("d")]
        #expect(selector.description == "a=b,c in (x,y),!d")
        let more: Selector = [.notEquals("a", "b"), .notIn("c", ["x"]), .exists("mrun/project")]
        #expect(more.description == "a!=b,c notin (x),mrun/project")
        #expect(Selector().description == "")
        #expect(
            Selector(["mrun/project": "lr-sweep", "app.kubernetes.io/managed-by": "mrun"]).description
                == "app.kubernetes.io/managed-by=mrun,mrun/project=lr-sweep")
        #expect(selector.queryItem == URLQueryItem(name: "labelSelector", value: "a=b,c in (x,y),!d"))
    }

    @Test func parsesWhatItRenders() throws {
        for text in [
            "a=b", "a!=b", "a in (x,y)", "a notin (x)", "a", "!a", "a>3", "a<10", "a=",
            "app.kubernetes.io/managed-by=mrun,mrun/experiment=exp-lr-0-01-a1b2c", "a=b,c in (x,y),!d",
        ] {
            #expect(try Selector(parsing: text).description == text)
        }
    }

    @Test func parsesTheServersSpellings() throws {
        let parsed = try Selector(parsing: " a == b , c in ( y , x , y ) , ! d ")
        #expect(parsed == [.equals("a", "b"), .in("c", ["x", "y"]), .doesNotExist("d")])
        #expect(try Selector(parsing: "x in (in,notin)") == [.in("x", ["in", "notin"])])
        #expect(try Selector(parsing: "x in ()") == [.in("x", [""])])
        #expect(try Selector(parsing: "") == Selector())
    }

    /// Fixture 28: the same message the API server put in its 400 Status.
    @Test func invalidSelectorFailsAsTheServerDoes() throws {
        let fixture = try Fixtures.named("28")
        let selector = try #require(fixture.request.query["labelSelector"])
        let serverMessage = try fixture.body(as: K.Status.self).message
        #expect(throws: LabelSelectorError(selector: selector, message: try #require(serverMessage))) {
            try Selector(parsing: selector)
        }
        #expect(
            LabelSelectorError(selector: selector, message: "m").description
                == "invalid label selector 'mrun/experiment in (a': m")
    }

    static let unparsable = "unable to parse requirement: "
    static let keyShape = "a key is an optional DNS subdomain prefix and '/' followed by a name"
    static let prefixRule = "the prefix before '/' must be a lowercase DNS subdomain (e.g. 'example.com')"
    static let nameRule =
        "the name part must be at most 63 characters: alphanumerics, '-', '_' or '.', starting and ending with"
        + " an alphanumeric character"
    static let valueRule =
        "a valid label value is empty or at most 63 characters: alphanumerics, '-', '_' or '.', starting and"
        + " ending with an alphanumeric character"
    static let long = String(repeating: "v", count: 64)

    @Test(arguments: [
        ("a=b,", "found '', expected: identifier after ','"),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a in x", "unable to parse requirement: found 'x' expected: '('"),
        ("a in (x", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("=b", "found '=', expected: !, identifier, or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a>x", "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer"),
        ("a/b/c=d", Self.unparsable + #"invalid label key "a/b/c": "# + Self.keyShape),
        ("Example.com/a=b", Self.unparsable + #"invalid label key "Example.com/a": "# + Self.prefixRule),
        ("-a=b", Self.unparsable + #"invalid label key "-a": "# + Self.nameRule),
        ("a=b_", Self.unparsable + #"invalid label value: "b_": at key: "a": "# + Self.valueRule),
        ("a=\(Self.long)", Self.unparsable + #"invalid label value: "\#(Self.long)": at key: "a": "# + Self.valueRule),
    ])
    func refusesMalformedSelectors(text: String, message: String) {
        #expect(throws: LabelSelectorError(selector: text, message: message)) { try Selector(parsing: text) }
    }

    @Test func matchesLikeTheAPIServer() throws {
        let labels = ["app": "web", "tier": "front", "replicas": "3"]
        let cases: [(String, Bool)] = [
            ("", true), ("app=web", true), ("app==web", true), ("app=db", false), ("app!=db", true),
            ("app!=web", false), ("missing!=x", true), ("app in (db,web)", true), ("app in (db)", false),
            ("missing in (x)", false), ("app notin (db)", true), ("app notin (web)", false),
            ("missing notin (x)", true),
            ("app", true), ("missing", false), ("!missing", true), ("!app", false), ("replicas>2", true),
            ("replicas<3", false), ("app>1", false), ("missing<1", false), ("app=web,tier=back", false),
            ("app=web,tier=front,!missing", true),
        ]
        for (text, expected) in cases {
            #expect(try Selector(parsing: text).matches(labels) == expected, "\(text)")
        }
        #expect(Selector(requirements: [.exists("a")]).matches(nil as [String: String]?) == false)
        #expect(Selector().matches(nil as [String: String]?))
    }

    /// Fixtures 24–29 and 45 ran against the same Jobs (those of list 24): the selector picks
    /// exactly the ones the server returned, and every pod list holds only matching pods.
    @Test func selectsWhatTheServerSelected() throws {
        let jobs = try Fixtures.named("24").body(as: K.List<K.Job>.self).items
        #expect(!jobs.isEmpty)
        for number in ["24", "25", "26", "27", "29", "45"] {
            let fixture = try Fixtures.named(number)
            let selector = try Selector(parsing: try #require(fixture.request.query["labelSelector"]))
            let returned = try fixture.body(as: K.List<K.Job>.self).items.compactMap(\.metadata.name)
            #expect(jobs.filter(selector.matches).compactMap(\.metadata.name) == returned, "\(number)")
        }
        #expect(try Fixtures.named("26").body(as: K.List<K.Job>.self).items.isEmpty)
        for number in ["30", "53", "57", "64", "69", "73"] {
            let fixture = try Fixtures.named(number)
            let selector = try Selector(parsing: try #require(fixture.request.query["labelSelector"]))
            let pods = try fixture.body(as: K.List<K.Pod>.self).items
            #expect(pods.count == 1 && pods.allSatisfy(selector.matches), "\(number)")
        }
    }

    /// The Job's own `spec.selector` selects its pods (and only through `controller-uid`).
    @Test func structuredSelectorConvertsToTheQueryForm() throws {
        let job = try Fixtures.named("23").body(as: K.Job.self)
        let selector = try #require(job.spec?.selector?.labelSelector)
        #expect(selector.description == "controller-uid=f33657d4-d834-436f-9415-a8618854b5c8")
        let pod = try #require(try Fixtures.named("30").body(as: K.List<K.Pod>.self).items.first)
        #expect(selector.matches(pod))
        #expect(!selector.matches(try #require(try Fixtures.named("53").body(as: K.List<K.Pod>.self).items.first)))
        let expressions = K.SelectorSpec(
            matchLabels: ["a": "b"],
            matchExpressions: [
                .init(key: "c", operator: "In", values: ["x", "y"]), .init(key: "d", operator: "DoesNotExist"),
                .init(key: "e", operator: "Exists"), .init(key: "f", operator: "NotIn", values: ["z"]),
            ])
        #expect(expressions.labelSelector.description == "a=b,c in (x,y),!d,e,f notin (z)")
        let unknown = K.SelectorSpec(matchExpressions: [.init(key: "g", operator: "Gt", values: ["1"])])
        #expect(!unknown.labelSelector.matches(["g": "5"]))
    }
}
