import FakeKubernetes
import Foundation
import Synchronization
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// An image step that finds every image in the registry, for tests of the cluster side; or,
/// with ``missing``, one that finds none and "builds" for a minute (cancellable) first: longer
/// than any cluster setup takes, even on a loaded machine.
final class StubImageBuilder: ImageBuilder {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)
    private let count = Mutex(0)
    private let built = Mutex(0)
    private let absent = Mutex(false)

    var calls: Int { count.withLock { $0 } }
    /// Builds that ran to their end.
    var builds: Int { built.withLock { $0 } }
    /// Whether the registry lacks every image, so that the step builds.
    var missing: Bool {
        get { absent.withLock { $0 } }
        set { absent.withLock { $0 = newValue } }
    }

    func ensureImage(for plan: ExperimentPlan, progress: some OutputSink) async throws -> ImageResult {
        count.withLock { $0 += 1 }
        if missing {
            try await Task.sleep(for: .seconds(60))
            built.withLock { $0 += 1 }
        }
        let tag = plan.image?.tag ?? ""
        return ImageResult(outcome: .alreadyInRegistry(tag: tag, digest: Self.digest), timings: [], buildSteps: [])
    }
}

/// A project and a Kubernetes context whose kubeconfig reaches a ``FakeKubernetesServer``.
struct KubernetesProject {
    static let token = "nep-TOKEN-k8s-do-not-leak-\(UUID().uuidString.prefix(8))"
    static let script = "import sys\nprint('args', sys.argv[1:])\n"

    let server: FakeKubernetesServer
    let sandbox: Sandbox
    var variables: [String: String]
    var context: Context
    let images = StubImageBuilder()

    init(server: FakeKubernetesServer, user: FakeKubernetesServer.User = .certificate("alice")) throws {
        self.server = server
        sandbox = try Sandbox()
        try sandbox.write(Self.script, to: "exp.py")
        variables = ["KUBECONFIG": try server.kubeconfig(for: user).path, "NEPTUNE_API_TOKEN": Self.token]
        context = Context(name: "k", type: .kubernetes)
        context.kubernetes.registryURL = "127.0.0.1:5000"
        context.project = "proj"
    }

    var host: HostEnvironment { sandbox.host(variables) }
    var namespace: String { context.kubernetes.namespace ?? "proj" }

    func plan(_ arguments: [String] = ["--epochs", "3"], name: String? = nil) throws -> ExperimentPlan {
        var request = RunRequest(script: "exp.py", arguments: arguments)
        request.name = name
        return try PlanBuilder(host: host, store: sandbox.store).plan(request, context: context)
    }

    func sweep(_ grid: [String], suffix: String = "swp01") throws -> SweepPlan {
        let spec = SweepSpec(grid: try grid.map { try SweepAxis.parse($0, flag: "--grid") })
        let builder = PlanBuilder(host: host, store: sandbox.store, suffix: { suffix })
        return try builder.sweep(
            RunRequest(script: "exp.py", arguments: ["--epochs", "1"]), spec: spec, context: context)
    }

    /// A backend with its own HTTP client (shut down when it is done) and test-speed retries.
    func backend(
        _ sink: any OutputSink, options: KubernetesClient.Options = .fast(), maxConcurrentCreates: Int = 32,
        recorder: LaunchRecorder? = nil, warn: @escaping @Sendable (String) -> Void = TestEnvironment.warn
    ) -> KubernetesBackend {
        KubernetesBackend(
            host: host, sink: sink, http: KubernetesHTTPClient(), warn: warn, imageBuilder: images,
            shutsDownHTTPClient: true, clientOptions: options, maxConcurrentCreates: maxConcurrentCreates,
            recorder: recorder)
    }

    /// Records launches in the sandbox's history, as `mrun run` does.
    func recorder() throws -> LaunchRecorder {
        LaunchRecorder(
            store: try HistoryStore(home: sandbox.mrunHome), user: "tester", git: nil,
            inputs: LaunchInputs(request: RunRequest(script: "exp.py"), host: host), warn: TestEnvironment.warn)
    }

    /// Runs the plan; returns the exit status or the error, and what was printed.
    func run(
        _ plan: ExperimentPlan, options: KubernetesClient.Options = .fast(), recorder: LaunchRecorder? = nil
    ) async -> Outcome {
        let sink = RecordingSink()
        do {
            let status = try await backend(sink, options: options, recorder: recorder).execute(plan)
            return Outcome(
                status: status, error: nil, output: await sink.text(of: .output), notes: await sink.text(of: .error))
        } catch {
            return Outcome(
                status: nil, error: error, output: await sink.text(of: .output), notes: await sink.text(of: .error))
        }
    }

    struct Outcome {
        var status: Int32?
        var error: (any Error)?
        var output: String
        var notes: String

        var message: String { error.map { "\($0)" } ?? "" }
    }

    /// Lifecycle commands over a client of their own.
    func jobs(options: KubernetesClient.Options = .fast()) throws -> KubernetesJobs {
        var jobs = KubernetesJobs(
            context: context, client: try server.client(options: options), namespace: namespace)
        jobs.pollInterval = .milliseconds(20)
        return jobs
    }
}

extension FakeKubernetesServer {
    /// The bodies of the requests that created objects of `resource`.
    func createBodies(_ resource: String) -> [Data] {
        requests.filter { $0.method == "POST" && $0.path.hasSuffix("/\(resource)") && $0.status == 201 }.map(\.body)
    }
}
