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

/// A sweep on the real Slurm test bed: one job array, one code upload, every task its own point.
extension SlurmTests {
    @Suite struct SweepSubmission {
        static let experiment = """
            import json, os, sys
            from lib.util import greeting
            print(json.dumps({"argv": sys.argv[1:], "params": json.loads(os.environ["MRUN_PARAMS"]),
                "name": os.environ["MRUN_EXPERIMENT"], "task": os.environ.get("SLURM_ARRAY_TASK_ID"),
                "greeting": greeting()}), flush=True)
            """

        /// The job completion log's lines for the tasks of array `id`, by task index.
        func finishedTasks(_ id: String, _ testbed: SlurmTestbed) -> [Int: [String: String]] {
            guard let log = try? String(contentsOfFile: testbed.jobcomp, encoding: .utf8) else { return [:] }
            var tasks: [Int: [String: String]] = [:]
            for line in log.split(separator: "\n") where line.contains(" ArrayJobId=\(id) ") {
                var fields: [String: String] = [:]
                for token in line.split(separator: " ") {
                    guard let equals = token.firstIndex(of: "=") else { continue }
                    fields[String(token[..<equals])] = String(token[token.index(after: equals)...])
                }
                if let task = fields["ArrayTaskId"].flatMap({ Int($0) }) { tasks[task] = fields }
            }
            return tasks
        }

        @Test func twelvePointSweepIsOneJobArrayWithOneUpload() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write(Self.experiment, to: "exp.py")
            try slurm.sandbox.write("def greeting():\n    return 'hello from lib'\n", to: "lib/util.py")
            try slurm.sandbox.write("", to: "lib/__init__.py")
            let result = try await slurm.mrun(
                [
                    "run", "exp.py", "--zip", "seed=1,2", "--grid", "lr=0.1,0.01,0.001", "--grid", "opt=sgd,it's a b",
                    "--max-parallel", "4", "--", "--epochs", "3",
                ], environment: ["NEPTUNE_API_TOKEN": "tok-sweep-\(UUID().uuidString)"])
            #expect(result.status == 0, "\(result.standardError)")
            let lines = result.standardOutput.split(separator: "\n")
            let sweepID = try #require(lines.first { $0.hasPrefix("Sweep ") }?.dropFirst(6).prefix { $0 != ":" })
            let submitted = try #require(lines.first { $0.hasPrefix("Submitted job array ") })
            let id = try #require(submitted.split(separator: " ").dropFirst(3).first.map(String.init))
            let name = "exp-\(sweepID)"
            #expect(submitted == "Submitted job array \(id) (\(name), 12 points: \(id)_0 … \(id)_11)")
            let stderr = result.standardError.split(separator: "\n")
            #expect(stderr.filter { $0.hasPrefix("mrun: shipping ") }.count == 1, "\(result.standardError)")
            #expect(stderr.filter { $0.hasPrefix("mrun: rsync sent 3 files") }.count == 1, "one code upload")

            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(180))
            var tasks = finishedTasks(id, slurm.testbed)
            while tasks.count < 12 && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                tasks = finishedTasks(id, slurm.testbed)
            }
            #expect(tasks.keys.sorted() == Array(0..<12), "every task of the one array ended")
            #expect(tasks.values.allSatisfy { $0["JobState"] == "COMPLETED" && $0["ExitCode"] == "0:0" }, "\(tasks)")
            #expect(tasks.values.allSatisfy { $0["Name"] == name })
            let log = (try? String(contentsOfFile: slurm.testbed.jobcomp, encoding: .utf8)) ?? ""
            let named = log.split(separator: "\n").filter { $0.contains(" Name=\(name) ") }
            #expect(named.count == 12 && named.allSatisfy { $0.contains(" ArrayJobId=\(id) ") }, "one sbatch call")

            let jobDir = "\(slurm.workdir)/project/\(name)"
            let listing = try await slurm.testbed.remote("ls -A \(slurm.workdir)/project; ls \(jobDir)")
            #expect(listing.output.hasPrefix(".mrun-last\n\(name)\n"), "one job directory: \(listing.output)")
            let outputs = try await slurm.testbed.remote(
                "for i in $(seq 0 11); do tail -n 1 \(jobDir)/slurm-\(id)_$i.out; done")
            let reports = outputs.output.split(separator: "\n").map {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
            }
            try #require(reports.count == 12, "\(outputs.output)\(outputs.error)")
            for (index, report) in reports.enumerated() {
                let seed = index / 6 + 1
                let lr = ["0.1", "0.01", "0.001"][index / 2 % 3]
                let opt = ["sgd", "it's a b"][index % 2]
                #expect(
                    report["argv"] as? [String] == ["--epochs", "3", "--seed", "\(seed)", "--lr", lr, "--opt", opt])
                let params = report["params"] as? [String: Any]
                #expect(params?["seed"] as? Int == seed && params?["lr"] as? Double == Double(lr))
                #expect(params?["opt"] as? String == opt)
                #expect(report["name"] as? String == "\(name)-\(index)")
                #expect(report["task"] as? String == "\(index)")
                #expect(report["greeting"] as? String == "hello from lib")
            }

            let logs = try await slurm.mrun(["logs", "\(id)_5"])
            #expect(logs.status == 0, "\(logs.standardError)")
            #expect(logs.standardOutput.contains(#""name": "\#(name)-5""#), "\(logs.standardOutput)")

            // Every point is in the history, with its task's id, recorded at submission.
            let history = try HistoryStore(home: slurm.sandbox.mrunHome)
            let launches = try history.launches(sweep: String(sweepID))
            #expect(launches.map(\.jobId) == (0..<12).map { "\(id)_\($0)" })
            #expect(launches.map(\.experimentName) == (0..<12).map { "\(name)-\($0)" })
            #expect(launches.map(\.sweepIndex) == Array(0..<12))
            #expect(launches[11].parameters == ["seed": "2", "lr": "0.001", "opt": "it's a b"])
            #expect(try history.sweep(String(sweepID))?.points.count == 12)
            let wait = try await slurm.mrun(["wait", String(sweepID)])
            #expect(wait.status == 0, "\(wait.standardOutput)\(wait.standardError)")
            let list = try await slurm.mrun(["list", "--sweep", String(sweepID), "--output", "json"])
            let rows = try #require(
                try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]])
            #expect(rows.count == 12 && rows.allSatisfy { $0["state"] as? String == "completed" }, "\(rows)")
            try await slurm.cleanUp()
        }
    }
}
