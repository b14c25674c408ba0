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

/// Values that would reach ssh, a shell on the cluster, an sbatch script, docker or a manifest:
/// each is refused where the context or flag is read, with one line naming the file/line or flag,
/// and nothing stored changes.
@Suite struct HardeningTests {
    typealias Case = BadInputTests.Case

    static func contextFile(_ lines: String) -> [String: String] { ["c.yaml": lines] }
    static let addFile = ["context", "add", "--from-file", "c.yaml"]
    static let sshRule =
        "is not an ssh destination; use an alias from your ssh config or user@host[:port], without spaces or"
        + " control characters and not starting with '-'"
    static let labelRule =
        "must be an RFC 1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a"
        + " letter or digit"
    static let timeRule =
        "is not a Slurm time; use MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS, DAYS-HOURS:MINUTES,"
        + " DAYS-HOURS:MINUTES:SECONDS or UNLIMITED (e.g. 1:00:00 or 2-00:00:00)"
    static let memRule =
        "is not a Slurm memory size; use a whole number with an optional unit K, M, G or T (e.g. 8G or 512M)"
    static let kube = "name: a\ntype: kubernetes\nregistry_url: r.io\n"
    static let addKube = ["context", "add", "--name", "a", "--type", "kubernetes", "--registry_url", "r.io"]
    static let labelValueRule =
        "is not a label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    static let labelKeyRule =
        "is not a label key: an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' and '.',"
        + " starting and ending with a letter or digit (e.g. 'cloud.google.com/gke-nodepool')"
    static let tolerationUsage =
        "write KEY, KEY:EFFECT, KEY=VALUE or KEY=VALUE:EFFECT with EFFECT NoSchedule, PreferNoSchedule or NoExecute"
        + " (e.g. nvidia.com/gpu:NoSchedule)"

    static let cases: [Case] = [
        Case(
            name: "ssh option as host (file)", arguments: addFile,
            files: contextFile("name: a\ntype: slurm\nhost: \"-oProxyCommand=touch pwned\"\n"),
            message: "error: c.yaml:3:7: host '-oProxyCommand=touch pwned' \(sshRule)"),
        Case(
            name: "ssh option as host (flag)",
            arguments: ["context", "add", "--name", "a", "--type", "slurm", "--host=-oProxyCommand=touch"],
            message: "error: --host: host '-oProxyCommand=touch' \(sshRule)"),
        Case(
            name: "ssh option as user", arguments: addFile,
            files: contextFile("name: a\ntype: slurm\nhost: \"-F/tmp/x@h\"\n"),
            message: "error: c.yaml:3:7: host '-F/tmp/x@h' \(sshRule)"),
        Case(
            name: "control character in host", arguments: addFile,
            files: contextFile("name: a\ntype: slurm\nhost: \"h\\x01\"\n"),
            message:
                "error: c.yaml:3:7: host: 'h\\u{1}' holds a control character (a newline or the like); write the value on one line"
        ),
        Case(
            name: "newline in partition", arguments: addFile,
            files: contextFile("name: a\ntype: slurm\nhost: h\npartition: \"debug\\nrm -rf ~\"\n"),
            message:
                "error: c.yaml:4:12: partition: 'debug\\nrm -rf ~' holds a control character (a newline or the like); write the value on one line"
        ),
        Case(
            name: "newline in sbatch_options", arguments: addFile,
            files: contextFile("name: a\ntype: slurm\nhost: h\nsbatch_options: [\"--exclusive\\necho x\"]\n"),
            message:
                "error: c.yaml:4:17: sbatch_options: '--exclusive\\necho x' holds a control character (a newline or the like); write the value on one line"
        ),
        Case(
            name: "space in account",
            arguments: ["context", "add", "--name", "a", "--type", "slurm", "--host", "h", "--account", "a b"],
            message: "error: --account: account must be a Slurm name (no spaces, not starting with '-'), got 'a b'"),
        Case(
            name: "mem lots",
            arguments: ["context", "add", "--name", "a", "--type", "slurm", "--host", "h", "--mem", "lots"],
            message: "error: --mem: mem 'lots' \(memRule)"),
        Case(
            name: "mem negative", arguments: addFile, files: contextFile("name: a\ntype: slurm\nhost: h\nmem: -1G\n"),
            message: "error: c.yaml:4:6: mem '-1G' \(memRule)"),
        Case(
            name: "time forever",
            arguments: ["context", "add", "--name", "a", "--type", "slurm", "--host", "h", "--time", "forever"],
            message: "error: --time: time 'forever' \(timeRule)"),
        Case(
            name: "time with too many fields", arguments: addFile,
            files: contextFile("name: a\ntype: slurm\nhost: h\ntime: \"1:2:3:4\"\n"),
            message: "error: c.yaml:4:7: time '1:2:3:4' \(timeRule)"),
        Case(
            name: "time with 75 minutes",
            arguments: ["context", "add", "--name", "a", "--type", "slurm", "--host", "h", "--time", "1:75:00"],
            message:
                "error: --time: time '1:75:00' has minutes or seconds of 60 or more; write e.g. 1:30:00 for an hour and a half"
        ),
        Case(
            name: "duplicate resource",
            arguments: ["context", "add", "--name", "a", "--type", "local", "--resources", "cpu=1 cpu=2"],
            message: "error: --resources: 'cpu' is given twice; keep one"),
        Case(
            name: "gpu and gpus", arguments: addFile,
            files: contextFile("name: a\ntype: local\nresources: {gpu: 1, gpus: 2}\n"),
            message: "error: c.yaml:3:12: resources: 'gpus' is given twice; keep one"),
        Case(
            name: "nodes past 32 bits",
            arguments: ["context", "add", "--name", "a", "--type", "slurm", "--host", "h", "--nodes", "3000000000"],
            message: "error: --nodes: nodes must be at most 2147483647, got 3000000000"),
        Case(
            name: "backoff_limit past 32 bits", arguments: addFile,
            files: contextFile("name: a\ntype: kubernetes\nregistry_url: r.io\nbackoff_limit: 99999999999\n"),
            message: "error: c.yaml:4:16: backoff_limit must be at most 2147483647, got 99999999999"),
        Case(
            name: "registry with a space",
            arguments: ["context", "add", "--name", "a", "--type", "kubernetes", "--registry_url", "gcr.io/my proj"],
            message: "error: --registry_url: registry_url 'gcr.io/my proj' contains a space; registry names have none"),
        Case(
            name: "registry with a newline", arguments: addFile,
            files: contextFile("name: a\ntype: kubernetes\nregistry_url: \"r.io\\nx\"\n"),
            message:
                "error: c.yaml:3:15: registry_url: 'r.io\\nx' holds a control character (a newline or the like); write the value on one line"
        ),
        Case(
            name: "registry with uppercase path",
            arguments: ["context", "add", "--name", "a", "--type", "kubernetes", "--registry_url", "gcr.io/MyProj"],
            message:
                "error: --registry_url: registry_url 'gcr.io/MyProj': 'MyProj' must be lowercase letters and digits, separated by '.', '_', '__' or '-'"
        ),
        Case(
            name: "namespace with uppercase and _",
            arguments: [
                "context", "add", "--name", "a", "--type", "kubernetes", "--registry_url", "r.io", "--namespace",
                "My_NS",
            ],
            message: "error: --namespace: namespace 'My_NS' \(labelRule) (e.g. 'my-ns')"),
        Case(
            name: "namespace with a leading -", arguments: addFile,
            files: contextFile("name: a\ntype: kubernetes\nregistry_url: r.io\nnamespace: \"-ns\"\n"),
            message: "error: c.yaml:4:12: namespace '-ns' \(labelRule) (e.g. 'ns')"),
        Case(
            name: "namespace with a dot", arguments: addFile,
            files: contextFile("name: a\ntype: kubernetes\nregistry_url: r.io\nnamespace: team.ml\n"),
            message: "error: c.yaml:4:12: namespace 'team.ml' \(labelRule) (e.g. 'team-ml')"),
        Case(
            name: "namespace not ASCII", arguments: addFile,
            files: contextFile("name: a\ntype: kubernetes\nregistry_url: r.io\nnamespace: zespół\n"),
            message: "error: c.yaml:4:12: namespace 'zespół' \(labelRule) (e.g. 'zesp')"),
        Case(
            name: "namespace of 64 characters", arguments: addFile,
            files: contextFile(
                "name: a\ntype: kubernetes\nregistry_url: r.io\nnamespace: \(String(repeating: "n", count: 64))\n"),
            message:
                "error: c.yaml:4:12: namespace '\(String(repeating: "n", count: 64))' \(labelRule) (e.g. '\(String(repeating: "n", count: 63))')"
        ),
        Case(
            name: "project that becomes a bad namespace",
            arguments: [
                "context", "add", "--name", "a", "--type", "kubernetes", "--registry_url", "r.io", "--project",
                "Vision_Team",
            ],
            message:
                "error: --project: project 'Vision_Team' becomes the namespace and \(labelRule) (e.g. 'vision-team'); or set namespace to a valid one"
        ),
        Case(
            name: "base_image in a context", arguments: addFile,
            files: contextFile("name: a\ntype: kubernetes\nregistry_url: r.io\nbase_image: Python:3\n"),
            message:
                "error: c.yaml:4:13: base_image 'Python:3': 'Python' must be lowercase letters and digits, separated by '.', '_', '__' or '-'"
        ),
        Case(
            name: "empty --base_image", arguments: ["run", "exp.py", "--base_image", ""], files: ["exp.py": ""],
            message: "error: --base_image: is empty; give an image such as python:3.11-slim"),
        Case(
            name: "uppercase --base_image", arguments: ["run", "exp.py", "--base_image", "Python:3.11"],
            files: ["exp.py": ""],
            message:
                "error: --base_image: 'Python:3.11': 'Python' must be lowercase letters and digits, separated by '.', '_', '__' or '-'"
        ),
        Case(
            name: "--base_image with a space", arguments: ["run", "exp.py", "--base_image", "python 3"],
            files: ["exp.py": ""],
            message: "error: --base_image: 'python 3' contains a space; image names have none"),
        Case(
            name: "--base_image with a bad digest", arguments: ["run", "exp.py", "--base_image", "python@sha256:abc"],
            files: ["exp.py": ""],
            message:
                "error: --base_image: 'python@sha256:abc': a sha256 digest is 64 lowercase hexadecimal digits, got 3 characters 'abc'"
        ),
        Case(
            name: "empty --name", arguments: ["run", "exp.py", "--name", ""], files: ["exp.py": ""],
            message:
                "error: --name: '' cannot name an experiment; give letters or digits, e.g. --name resnet-baseline"),
        Case(
            name: "queue with a space", arguments: addKube + ["--queue", "team a"],
            message: "error: --queue: queue 'team a' \(labelValueRule); it names a Kueue LocalQueue (e.g. 'team-a')"),
        Case(
            name: "queue of 64 characters", arguments: addFile,
            files: contextFile(kube + "queue: \(String(repeating: "q", count: 64))\n"),
            message:
                "error: c.yaml:4:8: queue '\(String(repeating: "q", count: 64))' \(labelValueRule); it names a Kueue LocalQueue (e.g. 'team-a')"
        ),
        Case(
            name: "empty queue", arguments: addFile, files: contextFile(kube + "queue: \"\"\n"),
            message: "error: c.yaml:4:8: queue is empty; name a Kueue LocalQueue or remove the key"),
        Case(
            name: "priority_class with uppercase", arguments: addKube + ["--priority_class", "High"],
            message:
                "error: --priority_class: priority_class 'High' is not a DNS subdomain name: at most 253 lowercase letters, digits, '-' and '.', each part between dots starting and ending with a letter or digit (e.g. 'high-priority')"
        ),
        Case(
            name: "node_selector key with a space", arguments: addFile,
            files: contextFile(kube + "node_selector:\n  pool: a100\n  \"bad key\": x\n"),
            message: "error: c.yaml:6:3: node_selector: 'bad key' \(labelKeyRule)"),
        Case(
            name: "node_selector key with two slashes", arguments: addKube + ["--node_selector", "a/b/c=x"],
            message: "error: --node_selector: node_selector: 'a/b/c' \(labelKeyRule)"),
        Case(
            name: "node_selector value with a slash", arguments: addFile,
            files: contextFile(kube + "node_selector: {pool: a/100}\n"),
            message: "error: c.yaml:4:23: node_selector: the value 'a/100' of 'pool' \(labelValueRule)"),
        Case(
            name: "node_selector flag without a value", arguments: addKube + ["--node_selector", "pool"],
            message: "error: --node_selector: 'pool' is not LABEL=VALUE (e.g. cloud.google.com/gke-nodepool=gpu)"),
        Case(
            name: "toleration with a misspelt effect", arguments: addFile,
            files: contextFile(kube + "tolerations:\n  - nvidia.com/gpu:NoSchedule\n  - spot=true:noschedule\n"),
            message:
                "error: c.yaml:6:5: tolerations: toleration 'spot=true:noschedule': effect 'noschedule' must be NoSchedule, PreferNoSchedule or NoExecute (did you mean 'NoSchedule'?)"
        ),
        Case(
            name: "toleration seconds without NoExecute", arguments: addKube + ["--tolerations", "gpu:NoSchedule:60"],
            message:
                "error: --tolerations: tolerations: toleration 'gpu:NoSchedule:60': only NoExecute takes a number of seconds (e.g. KEY:NoExecute:300)"
        ),
        Case(
            name: "toleration seconds not a number", arguments: addKube + ["--tolerations", "spot:NoExecute:5m"],
            message:
                "error: --tolerations: tolerations: toleration 'spot:NoExecute:5m': '5m' is not a number of seconds; give a whole number from 0 to 2147483647 (e.g. KEY:NoExecute:300)"
        ),
        Case(
            name: "toleration of four parts", arguments: addKube + ["--tolerations", "a", "--tolerations", "a:b:c:d"],
            message: "error: --tolerations: tolerations: 'a:b:c:d' is not a toleration; \(tolerationUsage)"),
        Case(
            name: "toleration without a key", arguments: addFile, files: contextFile(kube + "tolerations: [\"=x\"]\n"),
            message: "error: c.yaml:4:15: tolerations: toleration '=x': key '' \(labelKeyRule)"),
        Case(
            name: "toleration value with a space", arguments: addKube + ["--tolerations", "pool=a b:NoSchedule"],
            message:
                "error: --tolerations: tolerations: toleration 'pool=a b:NoSchedule': value 'a b' \(labelValueRule)"),
        Case(
            name: "newline in a toleration", arguments: addFile,
            files: contextFile(kube + "tolerations: [\"gpu\\n:NoSchedule\"]\n"),
            message:
                "error: c.yaml:4:14: tolerations: 'gpu\\n:NoSchedule' holds a control character (a newline or the like); write the value on one line"
        ),
        Case(
            name: "a 2 MB value is quoted short", arguments: addFile,
            files: contextFile("name: a\ntype: \(String(repeating: "x", count: 2_000_000))\n"),
            message:
                "error: c.yaml:2:7: type must be one of local, kubernetes, slurm, ssh, got '\(String(repeating: "x", count: 80))…'"
        ),
    ]

    @Test(arguments: cases)
    func rejects(_ badInput: Case) async throws {
        let sandbox = try Sandbox()
        for (path, text) in badInput.files {
            try sandbox.write(text, to: path)
        }
        let before = try BadInputTests().snapshotOfHome(sandbox)
        let result = try await CLI.run(badInput.arguments, sandbox: sandbox)
        #expect(result.status == 1)
        #expect(result.standardError == badInput.message + "\n")
        #expect(try BadInputTests().snapshotOfHome(sandbox) == before, "the failed command changed MRUN_HOME")
    }

    /// A context file from a colleague, dropped straight into the store: mrun must refuse it before
    /// ssh ever runs, so the ProxyCommand never executes on this machine.
    @Test func storedContextWithAnSSHOptionNeverRunsACommand() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print(1)\n", to: "exp.py")
        let marker = sandbox.root.appendingPathComponent("pwned")
        let file = try sandbox.write(
            "name: lab\ntype: slurm\nhost: \"-oProxyCommand=touch \(marker.path)\"\n", to: "contexts/lab.yaml",
            in: sandbox.mrunHome)
        let run = try await CLI.run(["--context", "lab", "run", "exp.py"], sandbox: sandbox)
        #expect(run.status == 1)
        #expect(
            run.standardError == "error: \(file.path):3:7: host '-oProxyCommand=touch \(marker.path)' \(Self.sshRule)\n"
        )
        for command in [["status", "12"], ["cancel", "12"], ["logs", "12"]] {
            let result = try await CLI.run(["--context", "lab"] + command, sandbox: sandbox)
            #expect(result.status == 1, "\(command)")
            #expect(result.standardError.filter { $0 == "\n" }.count == 1, "\(command): \(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: marker.path), "ssh ran the ProxyCommand")
    }

    /// The kubeconfig's port went through a 16-bit conversion and killed mrun with a trap (signal 4).
    @Test func kubeconfigPortOutOfRangeIsOneLine() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print(1)\n", to: "exp.py")
        let kubeconfig = try sandbox.write(
            "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
                + "clusters: [{name: c, cluster: {server: \"https://127.0.0.1:99999\"}}]\n"
                + "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
            to: "kubeconfig", in: sandbox.home)
        try sandbox.write(
            "name: k\ntype: kubernetes\nregistry_url: 127.0.0.1:5000\n", to: "contexts/k.yaml", in: sandbox.mrunHome)
        let result = try await CLI.run(
            ["--context", "k", "run", "exp.py"], sandbox: sandbox, environment: ["KUBECONFIG": kubeconfig.path])
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "error: \(kubeconfig.path): server 'https://127.0.0.1:99999' of cluster 'c' (context 'x') is not an"
                + " http(s) URL; use the form https://HOST[:PORT], PORT from 1 to 65535\n")
    }
}
