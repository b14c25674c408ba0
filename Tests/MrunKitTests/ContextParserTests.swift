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

@Suite struct ContextParserTests {
    @Test func parsesEveryKeyOfAKubernetesContext() throws {
        let context = try ContextParser.parse(
            """
            name: gke.sandbox
            type: kubernetes
            registry_url: https://gcr.io/proj
            base_image: python:3.11-slim
            resources: cpu=4 mem=8G gpu=1 tpu=1
            neptune: false
            storage: /storage
            default_pvc_size: 100Gi
            kube_context: gke_proj_zone_cluster
            namespace: shared
            backoff_limit: 2
            env:
              WANDB_MODE: offline
            templates_dir: ~/templates
            """, file: "gke.yaml")
        #expect(context.name == "gke.sandbox")
        #expect(context.type == .kubernetes)
        #expect(context.kubernetes.registryURL == "https://gcr.io/proj")
        #expect(context.resources == Resources(cpu: "4", memory: "8G", gpu: 1, tpu: 1))
        #expect(context.neptune == false)
        #expect(context.kubernetes.defaultPVCSize == "100Gi")
        #expect(context.kubernetes.backoffLimit == 2)
        #expect(context.env == ["WANDB_MODE": "offline"])
        #expect(context.templatesDir == "~/templates")
    }

    @Test func roundTripsThroughYAMLForEveryType() throws {
        var slurm = Context(name: "plgrid.agents", type: .slurm)
        slurm.slurm.host = "user@login.cluster:2222"
        slurm.slurm.time = "1:00:00"
        slurm.gang.nodes = 2
        slurm.slurm.modules = ["python/3.11", "cuda/12"]
        slurm.slurm.setup = ["source ~/venv/bin/activate", "export X='a b'"]
        slurm.slurm.sbatchOptions = ["--exclusive", "--mail-type=END,FAIL"]
        slurm.env = ["A": "1", "EMPTY": "", "YES": "yes"]
        slurm.resources = Resources(cpu: "0.5", memory: "512Mi")
        var kube = Context(name: "k", type: .kubernetes)
        kube.kubernetes.registryURL = "127.0.0.1:5000"
        kube.project = "true"
        var local = Context(name: "l", type: .local)
        local.neptune = false
        local.storage = "~/storage"
        var loginNode = Context(name: "on.login", type: .slurm)
        loginNode.slurm.loginNode = true
        loginNode.slurm.containerImage = "docker://python:3.11"
        for context in [slurm, kube, local, Context.builtInLocal, loginNode] {
            let yaml = ContextWriter.yaml(context)
            let parsed = try ContextParser.parse(yaml, file: "x.yaml")
            #expect(parsed == context, "round trip of \(context.name):\n\(yaml)")
        }
    }

    @Test func acceptsResourcesAsAMapping() throws {
        let context = try ContextParser.parse(
            "name: a\ntype: local\nresources:\n  cpu: 500m\n  mem: 2Gi\n", file: "a.yaml")
        #expect(context.resources == Resources(cpu: "500m", memory: "2Gi"))
    }

    /// Each bad context file, with the exact one-line message it must produce.
    @Test(arguments: [
        (
            "name: a\ntype: local\nresources: [cpu=1\n",
            "f.yaml:4:1: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence"
        ),
        (
            "name: a\ntype: local\nregisty_url: x\n",
            "f.yaml:3:1: unknown key 'registy_url' (did you mean 'registry_url'?); see 'Context reference' in the README"
        ),
        (
            "name: a\ntype: kube\n",
            "f.yaml:2:7: type must be one of local, kubernetes, slurm, ssh, got 'kube' (did you mean 'kubernetes'?)"
        ),
        ("name: a\n", "f.yaml:1:1: missing key 'type' (one of local, kubernetes, slurm, ssh)"),
        ("type: local\n", "f.yaml:1:1: missing key 'name' (e.g. name: gke.sandbox)"),
        ("name: a\ntype: slurm\nhost: h\nnodes: many\n", "f.yaml:4:8: nodes: must be a whole number, got 'many'"),
        ("name: a\ntype: local\nneptune: maybe\n", "f.yaml:3:10: neptune: must be true or false, got 'maybe'"),
        ("name: a\ntype: local\nresources: cpu=\n", "f.yaml:3:12: resources: 'cpu=' has no value; write e.g. cpu=4"),
        (
            "name: a\ntype: local\nresources: gpu=-1\n",
            "f.yaml:3:12: resources: gpu must be a whole number of devices from 0 to 4096, got '-1'"
        ),
        (
            "name: a\ntype: local\nresources: mem=lots\n",
            "f.yaml:3:12: resources: mem must be a quantity like 8G, 512Mi or 16Gi, got 'lots'"
        ),
        (
            "name: a\ntype: local\npartition: gpu\n",
            "f.yaml:3:1: key 'partition' applies to slurm contexts, not local ones"
        ),
        (
            "name: a\ntype: kubernetes\n",
            "f.yaml:1:1: kubernetes contexts need 'registry_url' (e.g. registry_url: gcr.io/my-project)"
        ),
        ("name: a\ntype: slurm\nhost: h\ncpus_per_task: 0\n", "f.yaml:4:16: cpus_per_task must be 1 or more, got 0"),
        (
            "name: a\ntype: slurm\n",
            "f.yaml:1:1: slurm contexts need 'host' (an ssh alias or user@host[:port]),"
                + " or 'login_node: true' when mrun runs on the login node"
        ),
        (
            "name: a\ntype: slurm\nlogin_node: true\nhost: h\n",
            "f.yaml:4:7: host is for ssh, and login_node: true runs Slurm commands here without ssh; remove one of them"
        ),
        ("name: a\ntype: slurm\nlogin_node: sure\n", "f.yaml:3:13: login_node: must be true or false, got 'sure'"),
        (
            "name: a\ntype: local\ncontainer_image: x.sif\n",
            "f.yaml:3:1: key 'container_image' applies to slurm contexts, not local ones"
        ),
        ("name: a\ntype: local\nenv: [a, b]\n", "f.yaml:3:6: env: must be a mapping of names to strings"),
        (
            "name: a\ntype: local\nenv:\n  1BAD: x\n",
            "f.yaml:4:3: '1BAD' is not a valid environment variable name (letters, digits and _)"
        ),
        (
            "name: a b\ntype: local\n",
            "f.yaml:1:7: invalid context name 'a b': use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters"
        ),
        ("- name: a\n", "f.yaml:1:1: expected a context as a mapping of 'key: value' lines"),
        ("", "f.yaml: the file is empty; it should hold a context"),
        ("name: a\ntype: local\nname: b\n", "f.yaml:1:1: duplicate key 'name'; keep one"),
        ("name: a\ntype: local\nstorage:\n", "f.yaml:3:9: storage: has no value; give a string or remove the key"),
    ])
    func rejectsBadContextFiles(text: String, message: String) {
        #expect(throws: ConfigError.self) { try ContextParser.parse(text, file: "f.yaml") }
        do {
            _ = try ContextParser.parse(text, file: "f.yaml")
        } catch {
            #expect(error.description == message)
            #expect(!error.description.contains("\n"))
        }
    }
}

@Suite struct ResourcesTests {
    @Test func parsesMrunnerStrings() throws {
        #expect(try Resources.parse("cpu=4 mem=8G gpu=1 tpu=1") == Resources(cpu: "4", memory: "8G", gpu: 1, tpu: 1))
        #expect(try Resources.parse("cpu=500m,mem=512Mi") == Resources(cpu: "500m", memory: "512Mi"))
        #expect(try Resources.parse("") == Resources())
        #expect(Resources(cpu: "4", memory: "8G", gpu: 1).description == "cpu=4 mem=8G gpu=1")
    }

    @Test(arguments: [
        ("cpu=", ResourcesError.missingValue("cpu")),
        ("gpu=-1", .badCount("gpu", "-1")),
        ("gpu=1.5", .badCount("gpu", "1.5")),
        ("mem=lots", .badMemory("lots")),
        ("mem=8GB", .badMemory("8GB")),
        ("cpu=0", .badCPU("0")),
        ("cpu=1.5m", .badCPU("1.5m")),
        ("disk=1", .unknownResource("disk")),
        ("cpu4", .notKeyValue("cpu4")),
    ])
    func rejectsBadResources(text: String, expected: ResourcesError) {
        #expect(throws: expected) { try Resources.parse(text) }
    }
}
