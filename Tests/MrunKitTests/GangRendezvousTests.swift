import Foundation
import Subprocess
import Testing

@testable import MrunKit
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport

/// Gangs that really meet: rank 0 listens on MASTER_ADDR:MASTER_PORT and every other rank connects
/// and says its rank (plain sockets, no torch). On this machine and on the Slurm test bed.
@Suite struct GangRendezvousTests {
    static let rendezvous = """
        import os, socket, sys, time
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
        print("rank %d of %d local %s" % (rank, world, os.environ["LOCAL_RANK"]), flush=True)
        if rank == 0:
            server = socket.socket()
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("0.0.0.0", port))
            server.listen(world)
            server.settimeout(60)
            seen = []
            for _ in range(world - 1):
                conn, _ = server.accept()
                seen.append(int(conn.recv(16).decode()))
                conn.close()
            print("rendezvous ok " + ",".join(map(str, sorted(seen))), flush=True)
        else:
            for _ in range(600):
                try:
                    conn = socket.create_connection((addr, port), timeout=5)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                sys.exit("rank %d could not reach %s:%d" % (rank, addr, port))
            conn.sendall(str(rank).encode())
            conn.close()

        """

    static func freePort() -> Int { Int.random(in: 30000...39999) }

    @Test(arguments: [2, 4])
    func ranksMeetRankZeroOnThisMachine(processes: Int) async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.rendezvous, to: "meet.py")
        let result = try await CLI.run(
            ["run", "meet.py", "--procs_per_node", String(processes), "--master_port", String(Self.freePort())],
            sandbox: sandbox)
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        let others = (1..<processes).map(String.init).joined(separator: ",")
        #expect(result.standardOutput.contains("[rank 0] rendezvous ok \(others)\n"), "\(result.standardOutput)")
        for rank in 0..<processes {
            #expect(result.standardOutput.contains("[rank \(rank)] rank \(rank) of \(processes) local \(rank)\n"))
        }
    }

    /// Ctrl-C reaches every rank: mrun's starter forwards SIGINT and mrun ends with them.
    @Test func ctrlCStopsEveryRank() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            """
            import os, signal, sys, time
            def stop(*_):
                print("stopped", os.environ["RANK"], flush=True)
                sys.exit(130)
            signal.signal(signal.SIGINT, stop)
            print("ready", os.getpid(), flush=True)
            time.sleep(60)
            """, to: "long.py")
        let start = ContinuousClock.now
        let outcome = try await Subprocess.run(
            .path(.init(try CLI.binary.path)), arguments: ["run", "long.py", "--procs_per_node", "3"],
            environment: .custom(
                Dictionary(
                    uniqueKeysWithValues: sandbox.environment().map {
                        (Environment.Key(stringLiteral: $0.key), $0.value)
                    })),
            workingDirectory: .init(sandbox.project.path), input: .none, output: .sequence,
            error: .string(limit: 1 << 20)
        ) { execution in
            var seen = ""
            for try await chunk in execution.standardOutput {
                seen += chunk.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                if seen.components(separatedBy: "ready").count - 1 == 3 && !seen.contains("SENT") {
                    try execution.send(signal: .interrupt)
                    seen += "SENT"
                }
            }
            return seen
        }
        #expect(ContinuousClock.now - start < .seconds(40), "the ranks did not sleep their minute")
        let seen = outcome.closureResult
        for rank in 0..<3 { #expect(seen.contains("[rank \(rank)] stopped \(rank)"), "\(seen)") }
        #expect(outcome.terminationStatus == .exited(130), "\(outcome.standardError)")
        let pids = seen.split(separator: "\n").filter { $0.contains("ready") }.compactMap {
            Int32($0.split(separator: " ").last ?? "")
        }
        #expect(pids.count == 3)
        for pid in pids { #expect(kill(pid, 0) != 0, "rank process \(pid) is gone") }
    }

    /// `launcher: torchrun`: the starter runs exactly torchrun's command line; a stand-in torchrun
    /// on the PATH prints what it was given.
    @Test func torchrunGetsItsExactCommandLine() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("print('never run by the stand-in')\n", to: "train.py")
        let bin = sandbox.root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try sandbox.write("#!/bin/sh\necho \"torchrun $*\"\n", to: "torchrun", in: bin, mode: 0o755)
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let result = try await CLI.run(
            [
                "run", "train.py", "--procs_per_node", "2", "--launcher", "torchrun", "--master_port", "29777", "--",
                "--lr", "0.1",
            ],
            sandbox: sandbox, environment: ["PATH": path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.standardOutput.contains(
                "torchrun --nnodes 1 --nproc-per-node 2 --node-rank 0 --master-addr 127.0.0.1 --master-port 29777"
                    + " train.py --lr 0.1\n"), "\(result.standardOutput)")
    }
}

extension SlurmTests {
    /// The same meeting on the real cluster: a 1 x 2 gang, then an array of 3 gangs.
    @Suite struct GangRendezvous {
        @Test func aGangAndAnArrayOfGangsMeetOnTheCluster() async throws {
            let slurm = try await SlurmSandbox()
            try slurm.sandbox.write(GangRendezvousTests.rendezvous, to: "meet.py")
            let port = String(GangRendezvousTests.freePort())
            let (_, id) = try await slurm.submit(["meet.py", "--procs_per_node", "2", "--master_port", port])
            #expect(try await slurm.waitForEnd(id) == "COMPLETED, exit code 0")
            let logs = try await slurm.mrun(["logs", id]).standardOutput
            #expect(
                logs.contains("[rank 0] rendezvous ok 1\n") && logs.contains("[rank 1] rank 1 of 2 local 1\n"),
                "\(logs)")

            let sweep = try await slurm.mrun(
                [
                    "run", "meet.py", "--grid", "x=1,2,3", "--max-parallel", "1", "--procs_per_node", "2",
                    "--master_port", port,
                ])
            #expect(sweep.status == 0, "\(sweep.standardError)")
            let history = try HistoryStore(home: slurm.sandbox.mrunHome)
            let points = try history.list().filter { $0.sweepId != nil }
            #expect(points.count == 3)
            for point in points {
                let job = try #require(point.jobId)
                #expect(try await slurm.waitForEnd(job) == "COMPLETED, exit code 0", "point \(job)")
                let out = try await slurm.mrun(["logs", job]).standardOutput
                #expect(out.contains("[rank 0] rendezvous ok 1\n"), "\(job): \(out)")
            }
            try await slurm.cleanUp()
        }

        /// torchrun's line in the sbatch script: one task per node, the starter builds the rest.
        @Test func torchrunsSbatchLines() throws {
            let fixture = try PlanFixture()
            var context = PlanFixture.slurm
            context.gang.nodes = 2
            context.gang.procsPerNode = 4
            context.gang.launcher = "torchrun"
            let plan = try fixture.builder().plan(PlanFixture.request, context: context)
            let script = try #require(plan.artefact(.sbatch)).content
            try Golden.check(script, "slurm-torchrun-sbatch.sh")
            #expect(script.contains("#SBATCH --nodes=2\n") && script.contains("#SBATCH --ntasks-per-node=1\n"))
            #expect(script.contains("exec srun --kill-on-bad-exit=1 python3 \"$mrun_starter\" --epochs 3"), "\(script)")
            #expect(
                script.contains(
                    #"argv = ["torchrun", "--nnodes", env["NNODES"], "--nproc-per-node", str(PROCS_PER_NODE),"#))
        }
    }
}
