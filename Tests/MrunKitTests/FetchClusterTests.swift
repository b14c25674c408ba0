import Foundation
import Testing

@testable import MrunHistory

/// `mrun fetch` from the real Slurm cluster and ssh host of the test bed: over rsync and the
/// shared ssh connection.
extension SlurmTests {
    @Suite struct Fetch {
        @Test func aJobsOutputsComeBackFromTheCluster() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write(FetchTests.writer, to: "write.py")
            let (_, job) = try await slurm.submit(["write.py", "--", "--loss", "0.25"])
            #expect(try await slurm.waitForEnd(job) == "COMPLETED, exit code 0")
            let launch = try #require(try HistoryStore(home: slurm.sandbox.mrunHome).list().first)
            // Without a storage, the output directory is under the workdir, from the remote home.
            let listed = try await slurm.testbed.remote(
                "ls '\(slurm.workdir)/\(launch.project)/outputs/\(launch.experimentName)'")
            #expect(listed.output.contains("run.sh"), "\(listed.output)\(listed.error)")
            let fetched = try await slurm.mrun(["fetch", launch.id])
            #expect(fetched.status == 0, "\(fetched.standardError)")
            let local = slurm.sandbox.project.appendingPathComponent("outputs/\(launch.experimentName)")
            #expect(
                try String(contentsOf: local.appendingPathComponent("results/metrics.json"), encoding: .utf8)
                    == #"{"loss": 0.25}"#)
            let mode = try FileManager.default.attributesOfItem(atPath: local.appendingPathComponent("run.sh").path)
            #expect((mode[.posixPermissions] as? Int) == 0o755)
            try await slurm.cleanUp()
        }
    }
}

extension SSHHostTests {
    @Test func aPointsOutputsComeBackFromItsHost() async throws {
        let lab = try await SSHSandbox(contextFlags: ["--gpus", "0"])
        try lab.sandbox.write(FetchTests.writer, to: "write.py")
        let run = try await lab.mrun(["run", "write.py", "--grid", "loss=1,2"])
        try #require(run.status == 0, "\(run.standardError)")
        let launches = try await lab.launches()
        for launch in launches { _ = try await lab.waitFor(launch.id, ["COMPLETED"]) }
        let sweep = try #require(try HistoryStore(home: lab.sandbox.mrunHome).list().first?.sweepId)
        let fetched = try await lab.mrun(["fetch", "--sweep", sweep, "results/metrics.json"])
        #expect(fetched.status == 0, "\(fetched.standardError)")
        for launch in try HistoryStore(home: lab.sandbox.mrunHome).launches(sweep: sweep) {
            let metrics = lab.sandbox.project.appendingPathComponent(
                "outputs/\(launch.experimentName)/results/metrics.json")
            #expect(
                try String(contentsOf: metrics, encoding: .utf8) == "{\"loss\": \(launch.parameters["loss"] ?? "")}",
                "\(launch.experimentName)")
        }
        let hosts = try HistoryStore(home: lab.sandbox.mrunHome).launches(sweep: sweep).compactMap {
            try HistoryStore(home: lab.sandbox.mrunHome).sshLaunch(id: $0.id)?.host
        }
        #expect(Set(hosts).count == 2, "each point came from its own host: \(hosts)")
        try await lab.cleanUp()
    }
}
