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

/// The Slurm backend's pure parts: destinations, ssh options, Slurm's outputs and states.
@Suite struct SlurmUnitTests {
    @Test func destinationsAreAliasesOrUserHostPort() throws {
        #expect(try SSHDestination(parsing: "plgrid") == SSHDestination(host: "plgrid"))
        #expect(try SSHDestination(parsing: "ada@login.cluster") == SSHDestination(user: "ada", host: "login.cluster"))
        #expect(
            try SSHDestination(parsing: "ada@10.0.0.1:2222")
                == SSHDestination(user: "ada", host: "10.0.0.1", port: 2222))
        #expect(try SSHDestination(parsing: "[::1]:22") == SSHDestination(host: "::1", port: 22))
        #expect(try SSHDestination(parsing: "ada@[fe80::1]").rsyncTarget == "ada@[fe80::1]")
        #expect(try SSHDestination(parsing: "ada@h:22").description == "ada@h:22")
        for bad in ["", "-oProxyCommand=x", "h:port", "h:0", "a b", "ada@", "[::1", "h\u{1}", "-F@h"] {
            #expect(throws: SSHDestination.Invalid(host: bad), "\(bad)") { try SSHDestination(parsing: bad) }
        }
    }

    @Test func sshOptionsShareOneControlSocketAndPassConfigKeyAndPort() throws {
        let sandbox = try Sandbox()
        var settings = SlurmSettings()
        settings.host = "ada@cluster:2200"
        settings.sshConfig = "~/ssh/config"
        settings.identityFile = "keys/id"
        let session = try SSHSession(settings: settings, host: sandbox.host(), runner: SystemProcessRunner())
        let argv = session.argv("true")
        #expect(argv.first == "ssh")
        #expect(argv.suffix(4) == ["-T", "--", "ada@cluster", "true"])
        #expect(argv.contains("ControlMaster=auto") && argv.contains("ControlPersist=60"))
        let joined = argv.joined(separator: " ")
        #expect(joined.contains("-F \(sandbox.home.path)/ssh/config"))
        #expect(joined.contains("-i \(sandbox.project.path)/keys/id"))
        #expect(joined.contains("-p 2200"))
        #expect(session.controlPath.hasPrefix(sandbox.mrunHome.appendingPathComponent("ssh/cm-").path))
        let attributes = try FileManager.default.attributesOfItem(
            atPath: sandbox.mrunHome.appendingPathComponent("ssh").path)
        #expect(attributes[.posixPermissions] as? Int == 0o700)
        #expect(session.rsyncShell.hasPrefix("ssh -F "))
        #expect(SSHSession.rsyncQuote("a b'c") == #"'a b'\''c'"#)
    }

    @Test func controlSocketMovesOutOfADeepHomeToStayUnderTheSocketLimit() throws {
        let deep = URL(fileURLWithPath: "/tmp/" + String(repeating: "d", count: 100))
        let path = try SSHSession.controlPath(for: "key", under: deep)
        #expect(path.hasPrefix("/tmp/mrun-ssh-\(getuid())/cm-"))
        #expect(path.utf8.count <= SSHSession.longestControlPath)
        #expect(try SSHSession.controlPath(for: "key", under: deep) == path, "stable, so the connection is shared")
        #expect(try SSHSession.controlPath(for: "other", under: deep) != path)
    }

    @Test func sshFailuresAreClassified() throws {
        let session = try SSHSession(
            settings: {
                var s = SlurmSettings(); s.host = "h"; return s
            }(), host: Sandbox().host(),
            runner: SystemProcessRunner())
        #expect(
            session.failure("ssh: connect to host 127.0.0.1 port 9: Connection refused\n")
                == .ssh(
                    host: "h", problem: .unreachable, detail: "connect to host 127.0.0.1 port 9: Connection refused"))
        #expect(
            session.failure("mrun-test@127.0.0.1: Permission denied (publickey).\n")
                == .ssh(
                    host: "h", problem: .authenticationRefused,
                    detail: "mrun-test@127.0.0.1: Permission denied (publickey)"))
        #expect(session.failure("Host key verification failed.\n").description.contains("host key"))
        #expect(
            session.failure("ssh: Could not resolve hostname nope: Name or service not known\n").description.hasPrefix(
                "cannot reach h"))
    }

    @Test func slurmStatesMapToMrunStates() {
        let cases: [(String, SlurmState)] = [
            ("PENDING", .pending), ("CONFIGURING", .pending), ("RUNNING", .running), ("COMPLETING", .running),
            ("COMPLETED", .completed), ("FAILED", .failed), ("BOOT_FAIL", .failed), ("CANCELLED by 1001", .cancelled),
            ("TIMEOUT", .timeout), ("OUT_OF_MEMORY", .outOfMemory), ("NODE_FAIL", .nodeFailure),
            ("PREEMPTED", .preempted), ("SUSPENDED", .suspended), ("R", .running), ("CD", .completed),
            ("???", .unknown),
        ]
        for (slurm, group) in cases { #expect(SlurmState(slurm: slurm) == group, "\(slurm)") }
        let mapped: [SlurmState: JobState] = [
            .pending: .submitted, .running: .running, .suspended: .running, .completed: .completed,
            .failed: .failed, .cancelled: .cancelled, .timeout: .failed, .outOfMemory: .failed,
            .nodeFailure: .nodeFail, .preempted: .preempted, .unknown: .unknown,
        ]
        for group in SlurmState.allCases { #expect(group.jobState == mapped[group], "\(group)") }
        #expect(SlurmJob(id: "1", name: "x", slurmState: "TIMEOUT").stateDescription == "TIMEOUT")
        #expect(SlurmJob(id: "1", name: "x", slurmState: "COMPLETING").stateDescription == "RUNNING (COMPLETING)")
    }

    @Test func scontrolSqueueAndSacctOutputsParse() throws {
        let scontrol = """
            JobId=42 JobName=train-k3x9q UserId=ada(1001) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) \
            ExitCode=3:0 SubmitTime=2026-01-02T03:04:05 WorkDir=/home/ada Command=(null) \
            StdOut=/home/ada/mrun/p/train k3x9q/slurm-42.out Power=
            """
        let job = try #require(SlurmOutput.scontrol(scontrol))
        #expect(job.id == "42" && job.name == "train-k3x9q" && job.state == .failed)
        #expect(job.exitCode == 3 && job.signal == nil && job.reason == "NonZeroExitCode")
        #expect(job.output == "/home/ada/mrun/p/train k3x9q/slurm-42.out")
        #expect(job.stateDescription == "FAILED, exit code 3")
        #expect(SlurmOutput.scontrol("slurm_load_jobs error: Invalid job id specified") == nil)

        let squeue = "7|exp-ab1cd|RUNNING|None|/home/ada|/home/ada/mrun/p/exp-ab1cd/slurm-%j.out|2026-01-02T03:04:05|\n"
        let listed = try #require(SlurmOutput.squeue(squeue).first)
        #expect(listed.output == "/home/ada/mrun/p/exp-ab1cd/slurm-7.out" && listed.state == .running)
        #expect(listed.hasMrunName)

        let sacct = "9|x-abcde|CANCELLED by 1001|0:15|/home/ada|2026\n9.batch|batch|CANCELLED|0:15||\n"
        let finished = try #require(SlurmOutput.sacct(sacct).first)
        #expect(finished.state == .cancelled && finished.slurmState == "CANCELLED" && finished.signal == 15)
        #expect(SlurmOutput.sacct(sacct).count == 1, "job steps are not jobs")
        #expect(finished.user == nil)
        let jobcomp = "10|wrap|COMPLETED|0:0|/tmp|2026-01-02T03:04:05|root(0)\n11|a-bcdef|FAILED|2:0|/h|2026|ada\n"
        #expect(SlurmOutput.sacct(jobcomp).map(\.user) == ["root", "ada"], "name(uid) from the job completion log")
    }

    @Test func mrunNamesAreRecognised() {
        for name in ["train-k3x9q", "exp-my-run-00000", "a-12345"] {
            #expect(SlurmJob(id: "1", name: name, slurmState: "").hasMrunName)
        }
        for name in ["wrap", "sbatch", "train-k3x9", "Train-k3x9q", "-abcde", "1x-abcde"] {
            #expect(!SlurmJob(id: "1", name: name, slurmState: "").hasMrunName, "\(name)")
        }
    }

    @Test func toolMessagesBecomeShortReasons() {
        #expect(
            SlurmBackend.reason("sbatch: error: Batch job submission failed: Invalid partition name specified\n")
                == "Invalid partition name specified")
        #expect(SlurmBackend.cause("mkdir: cannot create directory '/p': Permission denied\n") == "Permission denied")
        #expect(CodeShipper.statistic("Literal data", in: "Number of files: 3\nLiteral data: 1,234 bytes\n") == 1234)
        #expect(
            CodeShipper.lastLine("rsync: failed: No space\nrsync error: some files (code 23)\n", status: .exited(23))
                == "rsync: failed: No space")
    }

    @Test func dryRunTemplatePathsStartFromTheRemoteHome() {
        #expect(SlurmPlanner.remoteWorkdir(nil) == "mrun")
        #expect(SlurmPlanner.remoteWorkdir("~/scratch/") == "scratch")
        #expect(SlurmPlanner.remoteWorkdir("~") == ".")
        #expect(SlurmPlanner.remoteWorkdir("/net/scratch") == "/net/scratch")
    }
}

/// `requeue: true`: sbatch's `--requeue`, so a preempted job or one whose node failed goes back in
/// the queue; without it, such a job shows Slurm's word and counts as failed (rerun --failed).
@Suite struct SlurmRequeueTests {
    @Test func requeueIsSbatchsOptionAndOnlyWhenSet() throws {
        let fixture = try PlanFixture()
        var context = try ContextParser.parse(
            "name: c\ntype: slurm\nhost: login\nrequeue: true\n", file: "c.yaml")
        #expect(context.slurm.requeue == true)
        let script = try #require(try fixture.builder().plan(PlanFixture.request, context: context).artefact(.sbatch))
        #expect(script.content.contains("\n#SBATCH --requeue\n"))
        context.slurm.requeue = nil
        let plain = try #require(try fixture.builder().plan(PlanFixture.request, context: context).artefact(.sbatch))
        #expect(!plain.content.contains("--requeue"))
        let wrong = #expect(throws: ConfigError.self) {
            try ContextParser.parse("name: c\ntype: slurm\nhost: login\nrequeue: maybe\n", file: "c.yaml")
        }
        #expect(wrong?.description.hasPrefix("c.yaml:4:") == true, "\(String(describing: wrong))")
    }

    @Test func preemptedAndNodeFailedJobsHaveStatesOfTheirOwn() throws {
        for (word, state) in [("PREEMPTED", JobState.preempted), ("NODE_FAIL", .nodeFail), ("PR", .preempted)] {
            #expect(SlurmState(slurm: word).jobState == state, "\(word)")
            #expect(state.isFinal && state.isFailure)
        }
        let jobs = SlurmOutput.sacct(
            "7|exp-abcde|PREEMPTED|0:15|/w|2026-12-04T10:00:00|u\n8|exp-fghij|NODE_FAIL|1:0|/w|x|u\n")
        #expect(jobs.map(\.state) == [.preempted, .nodeFail])
        #expect(jobs.first?.stateDescription == "PREEMPTED, signal 15", "\(jobs.first?.stateDescription ?? "")")
        #expect(jobs.last?.stateDescription == "NODE_FAIL, exit code 1", "\(jobs.last?.stateDescription ?? "")")
    }
}
