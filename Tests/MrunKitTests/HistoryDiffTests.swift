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

@Suite struct HistoryDiffTests {
    @Test func oneFileAndOneParameterApartShowExactlyThose() throws {
        let store = try HistoryFixture().store()
        try store.record(
            HistoryFixture.launch(
                id: "aaaaaaaa", name: "train-aaaaa", files: ["train.py": "11", "lib/util.py": "22"],
                parameters: ["lr": "0.1", "batch": "32"]))
        try store.record(
            HistoryFixture.launch(
                id: "bbbbbbbb", name: "train-bbbbb", minutesAgo: 5, files: ["train.py": "11", "lib/util.py": "33"],
                parameters: ["lr": "0.2", "batch": "32"], state: .failed))
        let diff = store.diff(try store.find("aaaaaaaa"), try store.find("bbbbbbbb"))
        #expect(diff.filesChanged == ["lib/util.py"])
        #expect(diff.filesAdded.isEmpty && diff.filesRemoved.isEmpty)
        #expect(diff.parameters == [LaunchDiff.Change(key: "lr", old: "0.1", new: "0.2")])
        #expect(diff.context.isEmpty && diff.command.isEmpty && diff.git == nil && diff.imageDigest == nil)
        #expect(
            diff.text == """
                launch aaaaaaaa → bbbbbbbb
                parameters:
                  lr: 0.1 → 0.2
                files:
                  ~ lib/util.py

                """)
    }

    @Test func everyKindOfDifferenceIsRendered() {
        var kubernetes = PlanFixture.kubernetes
        var a = HistoryFixture.launch(id: "aaaaaaaa", context: kubernetes, files: ["a.py": "1", "old.py": "2"])
        kubernetes.kubernetes.registryURL = "https://gcr.io/other"
        kubernetes.env["HF_TOKEN"] = "secret"
        var b = HistoryFixture.launch(id: "bbbbbbbb", context: kubernetes, files: ["a.py": "1", "new.py": "3"])
        a.imageDigest = "sha256:1111"
        b.imageDigest = "sha256:2222"
        b.args = ["--epochs", "5", "a b"]
        b.gitCommit = String(repeating: "cd34", count: 10)
        b.gitDirty = true
        let diff = LaunchDiff(a, b)
        #expect(
            diff.text == """
                launch aaaaaaaa → bbbbbbbb
                context:
                  env.HF_TOKEN: (unset) → <redacted>
                  registry_url: https://gcr.io/proj → https://gcr.io/other
                command:
                  args: --epochs 3 → --epochs 5 'a b'
                files:
                  + new.py
                  - old.py
                git:
                  git: \(HistoryFixture.commit) → \(String(repeating: "cd34", count: 10)) (dirty)
                image:
                  image digest: sha256:1111 → sha256:2222

                """)
        #expect(LaunchDiff(a, a).isEmpty)
        #expect(LaunchDiff(a, a).text.hasSuffix("same context, command, parameters, code, git commit and image\n"))
    }
}

@Suite struct HistoryGitTests {
    func git(_ arguments: [String], in directory: String) async throws -> String {
        let result = try await SystemProcessRunner().run(
            ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.org", "-c", "init.defaultBranch=main"]
                + arguments,
            environment: nil, workingDirectory: directory)
        #expect(result.status == .exited(0), "git \(arguments): \(result.standardError)")
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func detectsCommitAndDirtyWorkTree() async throws {
        let scratch = try ScratchDirectory()
        let runner = SystemProcessRunner()
        #expect(await GitState.detect(in: scratch.path, runner: runner) == nil)

        _ = try await git(["init", "-q"], in: scratch.path)
        try scratch.write("train.py", "print(1)\n")
        // A repository without a commit has no HEAD to record yet.
        #expect(await GitState.detect(in: scratch.path, runner: runner) == nil)

        _ = try await git(["add", "train.py"], in: scratch.path)
        _ = try await git(["commit", "-q", "-m", "first"], in: scratch.path)
        let head = try await git(["rev-parse", "HEAD"], in: scratch.path)
        #expect(await GitState.detect(in: scratch.path, runner: runner) == GitState(commit: head, dirty: false))

        try scratch.write("train.py", "print(2)\n")
        #expect(await GitState.detect(in: scratch.path, runner: runner) == GitState(commit: head, dirty: true))
        _ = try await git(["checkout", "-q", "--", "train.py"], in: scratch.path)
        try scratch.write("notes.txt", "untracked\n")
        #expect(await GitState.detect(in: scratch.path, runner: runner)?.dirty == true)

        // From a subdirectory, the enclosing work tree counts.
        try FileManager.default.createDirectory(atPath: scratch.path + "/sub", withIntermediateDirectories: true)
        #expect(await GitState.detect(in: scratch.path + "/sub", runner: runner)?.commit == head)
    }
}
