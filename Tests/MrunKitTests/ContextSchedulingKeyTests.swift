import Foundation
import Testing

@testable import MrunConfig
@testable import MrunSupport

/// The scheduling keys of a kubernetes context (queue, priority_class, node_selector,
/// tolerations): read from a file and from flags, written back, and each toleration's forms.
@Suite struct ContextSchedulingKeyTests {
    static let file = """
        name: gpu.cluster
        type: kubernetes
        registry_url: 127.0.0.1:5000
        queue: team-a
        priority_class: high-priority
        node_selector:
          cloud.google.com/gke-nodepool: a100
          topology.kubernetes.io/zone: europe-west4-a
        tolerations:
          - nvidia.com/gpu:NoSchedule
          - spot=true:NoExecute:300
          - dedicated=ml
          - example.com/maintenance

        """

    @Test func aFileSetsEveryKeyAndWritesItBack() throws {
        let context = try ContextParser.parse(Self.file, file: "gpu.yaml")
        let settings = context.kubernetes
        #expect(settings.queue == "team-a" && settings.priorityClass == "high-priority")
        #expect(
            settings.nodeSelector
                == ["cloud.google.com/gke-nodepool": "a100", "topology.kubernetes.io/zone": "europe-west4-a"])
        #expect(settings.tolerations?.count == 4)
        #expect(settings.parsedTolerations.map(\.operator) == ["Exists", "Equal", "Equal", "Exists"])
        let written = ContextWriter.yaml(context)
        #expect(written.contains("queue: team-a\npriority_class: high-priority\nnode_selector:\n"))
        #expect(written.contains("- \"spot=true:NoExecute:300\""), "quoted: it holds ':'\n\(written)")
        #expect(try ContextParser.parse(written, file: "again.yaml") == context)
    }

    @Test func anEmptyMappingOrListLeavesTheKeyUnset() throws {
        let context = try ContextParser.parse(
            "name: k\ntype: kubernetes\nregistry_url: r.io\nnode_selector: {}\ntolerations: []\n", file: "k.yaml")
        #expect(context.kubernetes.nodeSelector == nil && context.kubernetes.tolerations == nil)
        #expect(!ContextWriter.yaml(context).contains("node_selector"))
    }

    @Test func flagsAddEntriesAndItemsOverTheBaseFile() throws {
        let base = try ContextParser.parse(Self.file, file: "gpu.yaml")
        let parsed = try ContextFlags.parse([
            "--node-selector", "pool=spot", "--node_selector=cloud.google.com/gke-nodepool=h100", "--tolerations",
            "gpu:NoSchedule", "--queue", "team-b",
        ])
        let context = try ContextFlags.context(from: parsed, base: base)
        #expect(context.kubernetes.queue == "team-b")
        #expect(
            context.kubernetes.nodeSelector
                == [
                    "cloud.google.com/gke-nodepool": "h100", "topology.kubernetes.io/zone": "europe-west4-a",
                    "pool": "spot",
                ])
        #expect(context.kubernetes.tolerations == ["gpu:NoSchedule"], "list flags replace the file's list")
    }

    @Test func contextAddAndEditThroughTheBinary() async throws {
        let sandbox = try Sandbox()
        let add = try await CLI.run(
            [
                "context", "add", "--name", "k", "--type", "kubernetes", "--registry_url", "r.io", "--queue", "team-a",
                "--priority-class", "high", "--node_selector", "pool=a100", "--tolerations", "gpu:NoSchedule",
                "--tolerations", "spot=true:NoExecute:300",
            ], sandbox: sandbox)
        #expect(add.status == 0, "\(add.standardError)")
        let show = try await CLI.run(["context", "show", "k"], sandbox: sandbox)
        #expect(
            show.standardOutput.hasSuffix(
                "queue: team-a\npriority_class: high\nnode_selector:\n  pool: a100\ntolerations:\n"
                    + "- \"gpu:NoSchedule\"\n- \"spot=true:NoExecute:300\"\n"), "\(show.standardOutput)")

        let editor = try sandbox.write(
            "#!/bin/sh\nsed -i 's/gpu:NoSchedule/gpu:NoSchedul/' \"$1\"\n", to: "editor.sh", in: sandbox.root,
            mode: 0o755)
        let before = try sandbox.read(sandbox.store.contextFile(named: "k"))
        let edit = try await CLI.run(
            ["context", "edit", "k"], sandbox: sandbox, environment: ["EDITOR": editor.path], input: "n\n")
        let file = sandbox.store.contextFile(named: "k").path
        #expect(edit.status == 1)
        #expect(
            edit.standardError.hasPrefix(
                "error: \(file):10:3: tolerations: toleration 'gpu:NoSchedul': effect 'NoSchedul' must be NoSchedule,"
                    + " PreferNoSchedule or NoExecute (did you mean 'NoSchedule'?)\n"), "\(edit.standardError)")
        #expect(try sandbox.read(sandbox.store.contextFile(named: "k")) == before)
    }

    @Test(arguments: [
        ("gpu", KubernetesToleration(key: "gpu", operator: "Exists")),
        (
            "nvidia.com/gpu:NoSchedule",
            KubernetesToleration(key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule")
        ),
        ("dedicated=ml", KubernetesToleration(key: "dedicated", operator: "Equal", value: "ml")),
        (
            "dedicated=:PreferNoSchedule",
            KubernetesToleration(key: "dedicated", operator: "Equal", value: "", effect: "PreferNoSchedule")
        ),
        (
            "spot=true:NoExecute:300",
            KubernetesToleration(key: "spot", operator: "Equal", value: "true", effect: "NoExecute", seconds: 300)
        ),
        (
            "node.kubernetes.io/unreachable:NoExecute:0",
            KubernetesToleration(
                key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", seconds: 0)
        ),
    ])
    func tolerationsReadAsKubectlTaintWritesTheTaint(text: String, expected: KubernetesToleration) throws {
        #expect(try KubernetesToleration(parsing: text) == expected)
    }

    @Test func badTolerationsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("", "'' is not a toleration"), (":NoSchedule", "':NoSchedule' is not a toleration"),
            ("gpu:Never", "effect 'Never' must be NoSchedule, PreferNoSchedule or NoExecute"),
            ("gpu:NoExecute:-1", "'-1' is not a number of seconds"),
            ("gpu:NoExecute:99999999999", "'99999999999' is not a number of seconds"),
            ("Bad Key", "key 'Bad Key' is not a label key"), ("k=v=w", "value 'v=w' is not a label value"),
        ]
        for (text, expected) in cases {
            do {
                let parsed = try KubernetesToleration(parsing: text)
                Issue.record("\(text) was read as \(parsed)")
            } catch {
                #expect(error.message.contains(expected), "\(text): \(error.message)")
            }
        }
    }

    @Test func labelSyntaxIsTheServers() {
        for key in ["a", "A-b_c.d", "example.com/x", "kueue.x-k8s.io/queue-name", String(repeating: "k", count: 63)] {
            #expect(KubernetesLabel.isKey(key), "\(key)")
        }
        for key in ["", "-a", "a-", "Example.com/x", "a/", "/a", "a/b/c", "x y", String(repeating: "k", count: 64)] {
            #expect(!KubernetesLabel.isKey(key), "\(key)")
        }
        #expect(KubernetesLabel.isValue("") && KubernetesLabel.isValue("A1.b_c-d"))
        #expect(!KubernetesLabel.isValue("_a") && !KubernetesLabel.isValue("zespół"))
        #expect(KubernetesLabel.isSubdomain("high-priority.example") && !KubernetesLabel.isSubdomain("a..b"))
        #expect(!KubernetesLabel.isSubdomain(String(repeating: "a.", count: 127) + "a"), "255 characters")
    }
}

/// `mrun run --set KEY=VALUE`: mrunner's per-launch overrides of any context key, checked as in a
/// context file, naming `--set KEY` when a value is wrong.
@Suite struct SetOverrideTests {
    static var slurm: Context {
        var context = Context(name: "cluster", type: .slurm)
        context.slurm.host = "login"
        context.slurm.partition = "short"
        return context
    }

    @Test func keysAreOverriddenForOneLaunch() throws {
        let context = try ContextFlags.overriding(
            Self.slurm, with: ["partition=long", "time=2:00:00", "modules=python/3.11", "env=SEED=3"])
        #expect(context.slurm.partition == "long" && context.slurm.time == "2:00:00")
        #expect(context.slurm.modules == ["python/3.11"] && context.env == ["SEED": "3"])
        #expect(context.name == "cluster" && context.slurm.host == "login", "the rest stays")
        #expect(try ContextFlags.overriding(Self.slurm, with: []) == Self.slurm)
    }

    @Test func badOverridesNameTheKey() {
        let cases: [([String], String)] = [
            (["time=forever"], "--set time: time 'forever'"),
            (["partition"], "--set: 'partition' is not KEY=VALUE"),
            (["registry_url=r.io"], "--set registry_url: applies to kubernetes contexts, not slurm ones"),
            (["type=local"], "--set type: the context's type cannot change for one launch"),
            (["partiton=long"], "--set partiton: unknown flag"),
        ]
        for (settings, expected) in cases {
            do {
                _ = try ContextFlags.overriding(Self.slurm, with: settings)
                Issue.record("\(settings) was accepted")
            } catch {
                #expect(error.description.hasPrefix(expected), "\(settings): \(error.description)")
            }
        }
    }

    @Test func theDryRunShowsTheOverride() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print(1)\n", to: "exp.py")
        let add = try await CLI.run(
            ["context", "add", "--name", "tb", "--type", "slurm", "--host", "login", "--partition", "short"],
            sandbox: sandbox)
        #expect(add.status == 0, "\(add.standardError)")
        let dry = try await CLI.run(
            ["--context", "tb", "run", "--dry-run", "--set", "partition=long", "--set", "time=2:00:00", "exp.py"],
            sandbox: sandbox)
        #expect(dry.status == 0, "\(dry.standardError)")
        #expect(
            dry.standardOutput.contains("#SBATCH --partition=long") || dry.standardOutput.contains("--partition='long'")
                || dry.standardOutput.contains("--partition=\"long\""), "\(dry.standardOutput)")
        #expect(dry.standardOutput.contains("2:00:00"))
        let bad = try await CLI.run(
            ["--context", "tb", "run", "--dry-run", "--set", "mem=lots", "exp.py"], sandbox: sandbox)
        #expect(bad.status != 0 && bad.standardError.hasPrefix("error: --set mem: "), "\(bad.standardError)")
    }
}
