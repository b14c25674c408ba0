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

/// Job arrays (a sweep on Slurm) in what mrun reads from Slurm and remembers.
@Suite struct SlurmArrayTests {
    @Test func arrayTaskIDsAreJobIDs() {
        for id in ["123", "123_4"] { #expect(SlurmOutput.isJobID(id), "\(id)") }
        for id in ["", "_", "123_", "_4", "123_4_5", "123_[0-3]", "12a", "123 4", "1;2"] {
            #expect(!SlurmOutput.isJobID(id), "\(id)")
        }
    }

    @Test func outputPatternsOfArrays() {
        let pattern = "/h/mrun/p/exp-abcde/slurm-%A_%a.out"
        #expect(
            SlurmOutput.expand(pattern, job: SlurmJob(id: "315", name: "exp-abcde", slurmState: ""))
                == "/h/mrun/p/exp-abcde/slurm-315_%a.out")
        #expect(
            SlurmOutput.expand(pattern, job: SlurmJob(id: "315_7", name: "exp-abcde", slurmState: ""))
                == "/h/mrun/p/exp-abcde/slurm-315_7.out")
        #expect(SlurmOutput.expand("%x-%j.out", job: SlurmJob(id: "9", name: "n", slurmState: "")) == "n-9.out")
    }

    @Test func scontrolAndSqueueNameTasksByArrayAndIndex() throws {
        let scontrol = """
            JobId=317 ArrayJobId=315 ArrayTaskId=2 ArrayTaskThrottle=4 JobName=exp-abcde JobState=COMPLETED \
            ExitCode=0:0 StdOut=/h/slurm-315_2.out
            """
        let task = try #require(SlurmOutput.scontrol(scontrol))
        #expect(task.id == "315_2" && task.state == .completed && task.output == "/h/slurm-315_2.out")

        let squeue = """
            315|exp-abcde|PENDING|JobArrayTaskLimit|/h|/h/slurm-%A_%a.out|2026-01-02T03:04:05|315|3-11%4|
            316|exp-abcde|RUNNING|None|/h|/h/slurm-%A_%a.out|2026-01-02T03:04:05|315|0|
            7|exp-ab1cd|RUNNING|None|/h|/h/slurm-%j.out|2026-01-02T03:04:05|7|N/A|

            """
        let jobs = SlurmOutput.squeue(squeue)
        #expect(jobs.map(\.id) == ["315_[3-11%4]", "315_0", "7"])
        #expect(jobs.map(\.output) == ["/h/slurm-315_%a.out", "/h/slurm-315_0.out", "/h/slurm-7.out"])
    }

    @Test func aTaskHasItsArraysRecordWithItsOwnOutput() throws {
        let sandbox = try Sandbox()
        let history = try HistoryStore(home: sandbox.mrunHome)
        let records = SlurmJobRecords(context: "tb", history: { history })
        try records.save(
            SlurmJobRecord(
                context: "tb", id: "315", name: "exp-abcde", project: "p", host: "h",
                jobDirectory: "/h/mrun/p/exp-abcde",
                output: "/h/mrun/p/exp-abcde/slurm-315_%a.out", submitted: Date(timeIntervalSince1970: 0)))
        let task = try #require(records.load("315_4"))
        #expect(task.id == "315_4" && task.output == "/h/mrun/p/exp-abcde/slurm-315_4.out")
        #expect(records.load("316_4") == nil)
        #expect(records.load("315")?.output == "/h/mrun/p/exp-abcde/slurm-315_%a.out")
    }
}
