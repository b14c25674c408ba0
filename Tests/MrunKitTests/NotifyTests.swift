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

/// A webhook receiver on 127.0.0.1: a real HTTP server (Python's), answering the given statuses in
/// turn (then 200) and writing every POST body, one JSON object a line, to a file.
final class WebhookReceiver: Sendable {
    static let script = """
        import http.server, json, sys
        codes = [int(c) for c in sys.argv[2].split(",") if c]
        out = sys.argv[1]
        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with open(out, "a") as f:
                    f.write(json.dumps({"path": self.path, "type": self.headers.get("Content-Type"),
                                        "body": json.loads(body)}) + "\\n")
                code = codes.pop(0) if codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    let process: Process
    let port: Int
    let file: URL
    /// The URL's path is its secret, as in a Slack webhook URL.
    let secret = "hook-SECRET-\(UUID().uuidString.prefix(8))"

    init(in sandbox: Sandbox, codes: [Int] = []) throws {
        file = sandbox.root.appendingPathComponent("posts-\(UUID().uuidString.prefix(6)).jsonl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.script, file.path, codes.map(String.init).joined(separator: ",")]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        self.process = process
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw CLIError("the webhook receiver did not start")
        }
        self.port = port
    }

    deinit { if process.isRunning { process.terminate() } }

    var url: String { "http://127.0.0.1:\(port)/services/\(secret)" }

    /// The bodies received so far.
    func posts() throws -> [[String: Any]] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["body"] as? [String: Any] ?? [:]
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite struct NotifyTests {
    func localContext(_ sandbox: Sandbox, notify: [String]) async throws {
        let file = "name: box\ntype: local\nnotify:\n" + notify.map { "  - \"\($0)\"\n" }.joined()
        try sandbox.write(file, to: "box.yaml", in: sandbox.root)
        let add = try await CLI.run(
            ["context", "add", "--from-file", sandbox.root.appendingPathComponent("box.yaml").path], sandbox: sandbox)
        #expect(add.status == 0, "\(add.standardError)")
    }

    /// Everything mrun wrote: the history, run directories, contexts' encoded copies.
    func everythingWritten(_ sandbox: Sandbox) throws -> [(String, Data)] {
        var found: [(String, Data)] = []
        let home = sandbox.mrunHome
        let walker = FileManager.default.enumerator(at: home, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = walker?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            // The context file itself holds the URL, as it holds tokens in env: mode 0600.
            if url.deletingLastPathComponent().lastPathComponent == "contexts" { continue }
            found.append((url.path, try Data(contentsOf: url)))
        }
        return found
    }

    @Test func aLocalLaunchThatFailsPostsOnceRetryingARefusingReceiver() async throws {
        let sandbox = try Sandbox()
        let receiver = try WebhookReceiver(in: sandbox, codes: [500, 500])
        try await localContext(sandbox, notify: [receiver.url])
        try sandbox.write("print('before the end')\nraise SystemExit(3)\n", to: "exp.py")
        let run = try await CLI.run(["--context", "box", "run", "exp.py"], sandbox: sandbox)
        #expect(run.status == 3, "the notification never changes the exit status: \(run.standardError)")
        let posts = try receiver.posts()
        #expect(posts.count == 3, "500, 500, then 200: \(posts.count) POSTs")
        let body = try #require(posts.last)
        #expect(
            body["state"] as? String == "failed" && body["exit_code"] as? Int == 3 && body["event"] as? String == "fail"
        )
        #expect((body["text"] as? String)?.contains("FAILED, exit code 3") == true)
        #expect((body["log_tail"] as? [String])?.contains("before the end") == true, "\(body)")
        #expect((body["show"] as? String)?.hasPrefix("mrun show ") == true)
        let secret = receiver.secret
        #expect(!run.standardOutput.contains(secret) && !run.standardError.contains(secret))
        for (path, data) in try everythingWritten(sandbox) {
            #expect(data.range(of: Data(secret.utf8)) == nil, "\(path) holds the webhook URL")
        }
        let dry = try await CLI.run(
            ["--context", "box", "run", "--dry-run", "--output", "json", "exp.py"], sandbox: sandbox)
        #expect(dry.status == 0 && !dry.standardOutput.contains(secret), "\(dry.standardOutput)")
        let show = try await CLI.run(["context", "show", "box"], sandbox: sandbox)
        #expect(show.status == 0)
    }

    @Test func runNotifyAddsATargetForOneLaunchAndRecordsNoURL() async throws {
        let sandbox = try Sandbox()
        let receiver = try WebhookReceiver(in: sandbox)
        try sandbox.write("print('ok')\n", to: "exp.py")
        let run = try await CLI.run(["run", "--notify", receiver.url, "exp.py"], sandbox: sandbox)
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try receiver.posts().count == 1)
        for (path, data) in try everythingWritten(sandbox) {
            #expect(data.range(of: Data(receiver.secret.utf8)) == nil, "\(path) holds the webhook URL")
        }
        let bad = try await CLI.run(["run", "--notify", "mailto:me", "exp.py"], sandbox: sandbox)
        #expect(bad.status != 0 && bad.standardError.hasPrefix("error: --notify: "), "\(bad.standardError)")
        let launch = try #require(try HistoryStore(home: sandbox.mrunHome).list().first)
        let rerun = try await CLI.run(["rerun", launch.id], sandbox: sandbox)
        #expect(rerun.status == 0, "\(rerun.standardError)")
        #expect(try receiver.posts().count == 1, "a rerun does not tell a URL it never recorded")
    }

    @Test func aCommandTargetGetsTheJSONOnItsInput() async throws {
        let sandbox = try Sandbox()
        let received = sandbox.root.appendingPathComponent("received.json")
        let catcher = try sandbox.write(
            "import sys\nopen(sys.argv[1], 'w').write(sys.stdin.read())\n", to: "catch.py", in: sandbox.root)
        try await localContext(sandbox, notify: ["command: python3 \(catcher.path) \(received.path)"])
        try sandbox.write("print('ok')\n", to: "exp.py")
        let run = try await CLI.run(["--context", "box", "run", "exp.py"], sandbox: sandbox)
        #expect(run.status == 0, "\(run.standardError)")
        let body = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: received)) as? [String: Any])
        #expect(body["state"] as? String == "completed" && body["event"] as? String == "end")
    }

    @Test func aSweepNotifiesOnceWithItsCounts() async throws {
        let sandbox = try Sandbox()
        let receiver = try WebhookReceiver(in: sandbox)
        try await localContext(sandbox, notify: [receiver.url])
        try sandbox.write("import sys\nraise SystemExit(int(sys.argv[-1]) % 2)\n", to: "exp.py")
        let run = try await CLI.run(["--context", "box", "run", "exp.py", "--grid", "x=1,2,3"], sandbox: sandbox)
        #expect(run.status == 1)
        let posts = try receiver.posts()
        #expect(posts.count == 1, "one message for the sweep: \(posts)")
        let counts = try #require(posts.first?["counts"] as? [String: Int])
        #expect(counts == ["completed": 1, "failed": 2])
    }

    @Test func badTargetsAreOneLineNamingTheItem() async throws {
        for (item, expected) in [
            ("ftp://x/y", "is neither an http(s) webhook URL nor 'command: ARGV'"),
            ("command:", "'command:' names no program"),
        ] {
            do {
                _ = try ContextParser.parse("name: a\ntype: local\nnotify:\n  - \"\(item)\"\n", file: "a.yaml")
                Issue.record("\(item) was accepted")
            } catch {
                #expect("\(error)".hasPrefix("a.yaml:4:"), "\(error)")
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        #expect(
            NotifyTargets.redacted("https://example.org/services/T000/B000/XXXX") == "https://example.org/<redacted>")
    }

    /// A Kubernetes launch, told from here once `mrun wait --notify` sees it end.
    @Test func waitNotifyTellsTheReceiverWhenAClusterJobEnds() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            let receiver = try WebhookReceiver(in: project.sandbox)
            project.context.notify = [receiver.url]
            project.context.notifyFrom = "here"
            try project.sandbox.store.add(project.context)
            let recorder = try project.recorder()
            let plan = try project.plan()
            #expect(await project.run(plan, recorder: recorder).status == 0)
            try await server.controller.run(
                job: plan.experiment.name, namespace: "proj", lines: ["trained"], exitCode: 0)
            let launch = try #require(try recorder.store.list().first)
            let wait = try await CLI.run(
                ["wait", "--notify", launch.id], sandbox: project.sandbox, environment: project.variables)
            #expect(wait.status == 0, "\(wait.standardError)")
            let posts = try receiver.posts()
            #expect(posts.count == 1)
            #expect(posts.first?["state"] as? String == "completed")
            #expect((posts.first?["log_tail"] as? [String]) == ["trained"])
        }
    }
}

/// Notifications the job sends itself, at its end, with the laptop closed.
extension SlurmTests {
    @Suite struct JobNotifications {
        @Test func aSlurmJobPostsItsEndAndASweepOnceWithTheURLOnlyInTheEnvFile() async throws {
            let scratch = try Sandbox()
            let receiver = try WebhookReceiver(in: scratch)
            let slurm = try await SlurmSandbox(contextFlags: ["--notify", receiver.url])
            try slurm.sandbox.write("print('last words')\nraise SystemExit(3)\n", to: "exp.py")
            let (_, id) = try await slurm.submit(["exp.py"])
            #expect(try await slurm.waitForEnd(id) == "FAILED, exit code 3")
            var posts: [[String: Any]] = []
            for _ in 0..<100 where posts.isEmpty {
                posts = try receiver.posts()
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(posts.count == 1, "\(posts)")
            #expect(posts.first?["state"] as? String == "failed" && posts.first?["exit_code"] as? Int == 3)
            #expect((posts.first?["log_tail"] as? [String])?.contains("last words") == true, "\(posts)")
            let launch = try #require(try HistoryStore(home: slurm.sandbox.mrunHome).list().first)
            #expect(
                posts.first?["launch"] as? String == launch.id
                    && posts.first?["show"] as? String == "mrun show \(launch.id)")
            let holders = try await slurm.testbed.remote("grep -rl -- '\(receiver.secret)' '\(slurm.workdir)' || true")
            let files = holders.output.split(separator: "\n")
            #expect(
                files.count == 1 && files.allSatisfy { $0.hasSuffix(".env") || $0.contains("env") }, "\(holders.output)"
            )

            try slurm.sandbox.write("import sys\nraise SystemExit(int(sys.argv[-1]) % 2)\n", to: "exp.py")
            let sweep = try await slurm.mrun(["run", "exp.py", "--grid", "x=1,2,3"])
            #expect(sweep.status == 0, "\(sweep.standardError)")
            var sweepPosts: [[String: Any]] = []
            for _ in 0..<300 where sweepPosts.isEmpty {
                sweepPosts = try receiver.posts().filter { $0["counts"] != nil }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(sweepPosts.count == 1)
            #expect(sweepPosts.first?["counts"] as? [String: Int] == ["completed": 1, "failed": 2], "\(sweepPosts)")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try receiver.posts().count == 2, "one for the job, one for the sweep")
            try await slurm.cleanUp()
        }
    }
}

/// The Kubernetes side: the pod's command is wrapped by the notifier, the URL only in the Secret.
@Suite struct KubernetesNotifyTests {
    @Test func theWrappedCommandRunsAndPostsItsEnd() async throws {
        try await withFakeKubernetes { server in
            var project = try KubernetesProject(server: server)
            let receiver = try WebhookReceiver(in: project.sandbox)
            project.context.notify = [receiver.url]
            try project.sandbox.write("print('from the pod')\nraise SystemExit(5)\n", to: "exp.py")
            let plan = try project.plan()
            let manifest = try #require(plan.artefact(.job)).content
            #expect(!manifest.contains(receiver.secret) && manifest.contains("\"--wrap\""))
            let text = PlanPrinter.text(plan) + (try PlanPrinter.json(plan))
            #expect(!text.contains(receiver.secret), "the dry run never shows the URL")
            #expect(await project.run(plan).status == 0)
            let secret = try await server.controller.get(
                Kubernetes.Secret.self, namespace: "proj", name: "mrun-neptune")
            #expect(
                secret.stringData?["MRUN_NOTIFY"]?.contains(receiver.secret) == true
                    || secret.data?["MRUN_NOTIFY"] != nil, "the URL travels in the Secret")
            for body in server.createBodies("jobs") {
                #expect(!String(decoding: body, as: UTF8.self).contains(receiver.secret))
            }
            // The pod's command, run by the real interpreter with the Secret's variable.
            let job = try KubernetesManifests.object(Kubernetes.Job.self, from: try #require(plan.artefact(.job)))
                .object
            let container = try #require(job.spec?.template.spec?.containers.first)
            var environment = ProcessInfo.processInfo.environment
            environment["MRUN_NOTIFY"] = try #require(plan.secrets.first { $0.name == "MRUN_NOTIFY" }).value
            environment["MRUN_EXPERIMENT"] = plan.experiment.name
            let ran = try await SystemProcessRunner().run(
                (container.command ?? []) + (container.args ?? []), environment: environment,
                workingDirectory: project.sandbox.project.path)
            #expect(ran.status == .exited(5), "the command's status: \(ran.standardError)")
            #expect(ran.standardOutput.contains("from the pod"))
            let posts = try receiver.posts()
            #expect(posts.count == 1)
            #expect(posts.first?["exit_code"] as? Int == 5 && posts.first?["name"] as? String == plan.experiment.name)
            #expect((posts.first?["log_tail"] as? [String]) == ["from the pod"])
        }
    }
}
