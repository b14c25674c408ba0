import FakeKubernetes
import Foundation
import GRDB
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// Launch records that differ only where a test says, in a fresh `$MRUN_HOME`.
struct HistoryFixture {
    let scratch: ScratchDirectory
    var home: URL { URL(fileURLWithPath: scratch.path).appendingPathComponent("mrun-home") }
    var file: URL { home.appendingPathComponent(HistoryStore.fileName) }

    init() throws {
        scratch = try ScratchDirectory()
    }

    func store() throws -> HistoryStore { try HistoryStore(home: home) }

    static let commit = String(repeating: "ab12", count: 10)

    static func launch(
        id: String = LaunchID.generate(), name: String = "train-k3x9q", context: Context = .builtInLocal,
        minutesAgo: Int = 0, jobId: String? = nil, files: [String: String] = ["train.py": "11", "lib/util.py": "22"],
        parameters: [String: String] = [:], sweepId: String? = nil, state: JobState = .submitted
    ) -> LaunchRecord {
        let hash = files.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return LaunchRecord(
            id: id, experimentName: name, project: "demo",
            created: Date(timeIntervalSince1970: 1_800_000_000 - Double(minutesAgo * 60) + 0.123), user: "ada",
            context: context, jobId: jobId, contentHash: "content-\(hash)", codeHash: "code-\(hash)", files: files,
            git: GitState(commit: commit, dirty: false), script: "train.py", args: ["--epochs", "3"],
            sweepId: sweepId, parameters: parameters, tags: ["baseline"], state: state)
    }

    func bytes() throws -> Data { try Data(contentsOf: file) }
}

@Suite struct HistoryStoreTests {
    @Test func recordedLaunchReadsBackEqual() throws {
        let fixture = try PlanFixture()
        var context = PlanFixture.kubernetes
        context.env["WANDB_API_KEY"] = "wandb-secret-do-not-leak"
        let plan = try fixture.builder().plan(PlanFixture.request, context: context)
        let launch = LaunchRecord(
            plan: plan, user: "ada", imageDigest: "sha256:feed",
            git: GitState(commit: HistoryFixture.commit, dirty: true),
            sweepId: "sweep-1", parameters: ["lr": "0.1"])
        #expect(launch.jobId == nil)  // set by the backend once the Job exists
        #expect(launch.imageTag == plan.image?.tag)
        #expect(launch.files.count == plan.snapshot.files.count)
        #expect(launch.files["train.py"] == plan.snapshot.files.first { $0.path == "train.py" }?.sha256)
        #expect(launch.context.env == ["WANDB_MODE": "<redacted>", "WANDB_API_KEY": "<redacted>"])
        #expect(launch.contextName == "gke.sandbox" && launch.backend == .kubernetes)

        let history = try HistoryFixture()
        let store = try history.store()
        try store.record(launch)
        #expect(try store.find(launch.id) == launch)
        #expect(try HistoryStore(home: history.home).find(launch.id) == launch)

        // No secret reaches the file, not even its write-ahead log.
        let stored = try [history.bytes(), (try? Data(contentsOf: URL(fileURLWithPath: history.file.path + "-wal")))]
        for data in stored.compactMap({ $0 }) {
            #expect(data.range(of: Data("wandb-secret-do-not-leak".utf8)) == nil)
            #expect(data.range(of: Data(PlanFixture.token.utf8)) == nil)
        }
    }

    @Test func detectingFillsUserAndGitAndDocumentCarriesFiles() async throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: .builtInLocal)
        let launch = await LaunchRecord.detecting(
            plan: plan, host: fixture.sandbox.host(["USER": "grace"]), runner: SystemProcessRunner())
        #expect(launch.user == "grace" && launch.gitCommit == nil && launch.gitDirty == nil)
        #expect(launch.runDirectory == plan.local?.runDirectory && launch.jobId == nil)
        #expect(launch.tags == ["baseline"] && launch.args == plan.experiment.args && launch.state == .submitted)
        #expect(!LaunchRecord.currentUser(host: fixture.sandbox.host()).isEmpty)

        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(launch.document)) as? [String: Any]
        #expect(json?["id"] as? String == launch.id)
        #expect(json?["files"] as? [String: String] == launch.files)
    }

    @Test func updateChangesStateAndExitCode() throws {
        let history = try HistoryFixture()
        let store = try history.store()
        let launch = HistoryFixture.launch()
        try store.record(launch)
        let later = Date(timeIntervalSince1970: 1_800_000_100.5)
        try store.update(id: launch.id, state: .failed, exitCode: 3, jobId: "4242", now: later)
        try store.update(id: launch.id, imageDigest: "sha256:beef")
        let updated = try store.find(launch.id)
        #expect(updated.state == .failed && updated.exitCode == 3 && updated.jobId == "4242")
        #expect(updated.updated == later && updated.imageDigest == "sha256:beef")
        #expect(throws: HistoryError.notFound(reference: "zzzzzzzz")) {
            try store.update(id: "zzzzzzzz", state: .completed)
        }
        #expect(throws: HistoryError.duplicateID(launch.id)) { try store.record(launch) }
    }

    @Test func listFiltersNewestFirst() throws {
        let store = try HistoryFixture().store()
        var slurm = Context(name: "plgrid", type: .slurm)
        slurm.slurm.host = "plgrid"
        let launches = [
            HistoryFixture.launch(id: "aaaaaaa1", minutesAgo: 3, sweepId: "s1", state: .completed),
            HistoryFixture.launch(id: "aaaaaaa2", context: slurm, minutesAgo: 2, sweepId: "s1"),
            HistoryFixture.launch(id: "aaaaaaa3", minutesAgo: 1, state: .completed),
        ]
        for launch in launches { try store.record(launch) }
        #expect(try store.list().map(\.id) == ["aaaaaaa3", "aaaaaaa2", "aaaaaaa1"])
        #expect(try store.list(context: "plgrid").map(\.id) == ["aaaaaaa2"])
        #expect(try store.list(sweep: "s1").map(\.id) == ["aaaaaaa2", "aaaaaaa1"])
        #expect(try store.list(state: .completed, limit: 1).map(\.id) == ["aaaaaaa3"])
        #expect(try store.list().first?.files == launches[2].files)
    }

    @Test func launchIDsAreShortBase32() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = LaunchID.generate()
            #expect(id.count == 8 && LaunchID.isPossiblePrefix(id))
            seen.insert(id)
        }
        #expect(seen.count == 1000)
        // Random, not time-ordered: ids drawn together rarely share even their first character.
        #expect(Set(seen.map(\.first)).count > 20)
    }
}

@Suite struct HistoryFindTests {
    let history: HistoryFixture
    let store: HistoryStore

    init() throws {
        history = try HistoryFixture()
        store = try history.store()
        var slurm = Context(name: "plgrid", type: .slurm)
        slurm.slurm.host = "plgrid"
        for launch in [
            HistoryFixture.launch(id: "abcd1234", name: "train-aaaaa", minutesAgo: 4),
            HistoryFixture.launch(id: "abcd5678", name: "train-bbbbb", minutesAgo: 3),
            HistoryFixture.launch(id: "abzz0000", name: "eval-ccccc", minutesAgo: 2),
            HistoryFixture.launch(id: "q0000000", name: "sweep-ddddd", context: slurm, minutesAgo: 1, jobId: "4242"),
        ] {
            try store.record(launch)
        }
    }

    @Test func findsByIdPrefixNameJobAndPattern() throws {
        #expect(try store.find("abcd1234").experimentName == "train-aaaaa")
        #expect(try store.find("ABCD5678").experimentName == "train-bbbbb")
        #expect(try store.find("abz").id == "abzz0000")
        #expect(try store.find("q").id == "q0000000")
        #expect(try store.find("train-bbbbb").id == "abcd5678")
        #expect(try store.find("4242").id == "q0000000")
        #expect(try store.find("eval-*").id == "abzz0000")
        #expect(try store.find("*-[d]*").id == "q0000000")
        #expect(try store.find("abz").files == ["train.py": "11", "lib/util.py": "22"])
    }

    @Test func ambiguousReferencesListTheCandidatesNewestFirst() throws {
        let prefix = #expect(throws: HistoryError.self) { try store.find("abcd") }
        #expect(
            prefix?.description
                == "'abcd' matches several launches: abcd5678 (train-bbbbb), abcd1234 (train-aaaaa);"
                + " name one of them by its id")
        let pattern = #expect(throws: HistoryError.self) { try store.find("train-*") }
        #expect(
            pattern
                == .ambiguous(
                    reference: "train-*", candidates: ["abcd5678 (train-bbbbb)", "abcd1234 (train-aaaaa)"], more: 0))
    }

    @Test func unknownReferencesAreNotFound() throws {
        for reference in ["nothing", "x*", "abcx", "abcd12345", ""] {
            let error = #expect(throws: HistoryError.self) { try store.find(reference) }
            #expect(error == .notFound(reference: reference))
        }
        #expect(
            HistoryError.notFound(reference: "x*").description
                == "no launch matches 'x*'; use an id, an id prefix, an experiment or job name,"
                + " or a name pattern such as 'train-*'")
    }

    @Test func longAmbiguityListsAreCut() throws {
        for index in 0..<12 {
            try store.record(HistoryFixture.launch(id: "m000\(String(format: "%04d", index))", name: "many-\(index)"))
        }
        let error = #expect(throws: HistoryError.self) { try store.find("many-*") }
        guard case .ambiguous(_, let candidates, let more) = error else {
            Issue.record("expected an ambiguity, got \(String(describing: error))")
            return
        }
        #expect(candidates.count == HistoryStore.candidateLimit && more == 2)
        #expect(error?.description.contains(" and 2 more;") == true)
    }
}
