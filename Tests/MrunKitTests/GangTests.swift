import Foundation
import Testing

@testable import MrunKit
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// Gangs (`nodes` x `procs_per_node`) on this machine, with mrun's starter, and their bad input.
@Suite struct GangTests {
    /// Prints what each rank sees; rank 1 fails with 3 when asked to (once rank 0 has printed),
    /// rank 0 then sleeps long enough that only the starter's stop can end it.
    static let script = """
        import json, os, sys, time
        keys = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "NODE_RANK", "NNODES",
                "MASTER_ADDR", "MASTER_PORT", "CUDA_VISIBLE_DEVICES"]
        print(json.dumps({"args": sys.argv[1:], **{k: os.environ.get(k) for k in keys}}), flush=True)
        if "--fail" in sys.argv:
            # Rank 1 fails once rank 0 has printed, so that both lines are in the log.
            ready = "/tmp/mrun-gang-ready-" + os.environ.get("MRUN_EXPERIMENT", "")
            if os.environ["RANK"] == "1":
                for _ in range(600):
                    if os.path.exists(ready):
                        break
                    time.sleep(0.05)
                os.remove(ready)
                sys.exit(3)
            open(ready, "w").close()
            time.sleep(60)
        """

    static func ranks(_ output: String) throws -> [String: [String: String?]] {
        var ranks: [String: [String: String?]] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("[rank ") {
            let prefix = try #require(line.firstIndex(of: "]"))
            let rank = String(line[line.index(line.startIndex, offsetBy: 6)..<prefix])
            let json = try JSONSerialization.jsonObject(with: Data(line[line.index(prefix, offsetBy: 2)...].utf8))
            let object = try #require(json as? [String: Any])
            var values: [String: String?] = [:]
            for (key, value) in object {
                values[key] = key == "args" ? (value as? [String])?.joined(separator: " ") : value as? String
            }
            ranks[rank] = values
        }
        return ranks
    }

    @Test func threeProcessesGetTheirRanksAndTheArguments() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.script, to: "exp.py")
        let result = try await CLI.run(
            ["run", "exp.py", "--procs_per_node", "3", "--master_port", "29600", "--", "--epochs", "2"],
            sandbox: sandbox, environment: ["CUDA_VISIBLE_DEVICES": "4,5,6"])
        #expect(result.status == 0, "\(result.standardError)")
        let ranks = try Self.ranks(result.standardOutput)
        #expect(ranks.keys.sorted() == ["0", "1", "2"])
        for (rank, values) in ranks {
            #expect(values["RANK"] == rank && values["LOCAL_RANK"] == rank)
            #expect(values["WORLD_SIZE"] == "3" && values["LOCAL_WORLD_SIZE"] == "3")
            #expect(values["NODE_RANK"] == "0" && values["NNODES"] == "1")
            #expect(values["MASTER_ADDR"] == "127.0.0.1" && values["MASTER_PORT"] == "29600")
            #expect(values["args"] == "--epochs 2")
            // One GPU of the node's each, by its local rank.
            #expect(values["CUDA_VISIBLE_DEVICES"] == ["0": "4", "1": "5", "2": "6"][rank])
        }
    }

    /// Without a `gpus` list, nvidia-smi's GPUs: a stand-in on the PATH lists two.
    @Test func eachProcessGetsOneOfTheGPUsNvidiaSmiLists() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.script, to: "exp.py")
        let bin = sandbox.root.appendingPathComponent("bin")
        try sandbox.write("#!/bin/sh\nprintf '0\\n1\\n'\n", to: "nvidia-smi", in: bin, mode: 0o755)
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let result = try await CLI.run(
            ["run", "exp.py", "--procs_per_node", "2"], sandbox: sandbox, environment: ["PATH": path])
        #expect(result.status == 0, "\(result.standardError)")
        let ranks = try Self.ranks(result.standardOutput)
        #expect(ranks["0"]?["CUDA_VISIBLE_DEVICES"] == "0" && ranks["1"]?["CUDA_VISIBLE_DEVICES"] == "1")
    }

    @Test func aGPUsListNarrowsEachProcessToItsOwn() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.script, to: "exp.py")
        try sandbox.write("name: box\ntype: local\ngpus: [2, 3]\nprocs_per_node: 2\n", to: "box.yaml")
        let added = try await CLI.run(["context", "add", "--from-file", "box.yaml"], sandbox: sandbox)
        #expect(added.status == 0, "\(added.standardError)")
        let result = try await CLI.run(["--context", "box", "run", "exp.py"], sandbox: sandbox)
        #expect(result.status == 0, "\(result.standardError)")
        let ranks = try Self.ranks(result.standardOutput)
        #expect(ranks["0"]?["CUDA_VISIBLE_DEVICES"] == "2" && ranks["1"]?["CUDA_VISIBLE_DEVICES"] == "3")
    }

    @Test func theFirstFailureStopsTheOthersAndIsTheStatus() async throws {
        let sandbox = try Sandbox()
        try sandbox.write(Self.script, to: "exp.py")
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await CLI.run(["run", "exp.py", "--procs_per_node", "2", "--", "--fail"], sandbox: sandbox)
        #expect(result.status == 3, "\(result.standardError)")
        // Rank 0 would sleep a minute: the starter stopped it when rank 1 failed.
        #expect(start.duration(to: clock.now) < .seconds(50))
        #expect(try Self.ranks(result.standardOutput).keys.sorted() == ["0", "1"])
    }

    @Test func oneProcessIsLaunchedAsBeforeWithoutTheStarter() async throws {
        let fixture = try PlanFixture()
        let plan = try fixture.builder().plan(PlanFixture.request, context: .builtInLocal)
        #expect(!plan.shape.isGang && plan.artefact(.gang) == nil)
        #expect(!PlanPrinter.text(plan).contains("Gang"))
        #expect(!(try PlanPrinter.json(plan)).contains("\"gang\""))
    }

    @Test func aGangsPlanShowsItsShapeAndItsStarter() throws {
        let fixture = try PlanFixture()
        var request = PlanFixture.request
        request.gang.procsPerNode = 4
        let plan = try fixture.builder().plan(request, context: .builtInLocal)
        #expect(plan.shape == JobShape(nodes: 1, procsPerNode: 4, launcher: .mrun, masterPort: 29500))
        let text = PlanPrinter.text(plan)
        #expect(text.contains("Gang         4 processes (1 x 4, launcher mrun, MASTER_PORT 29500)\n"))
        #expect(text.contains("--- gang.py (built-in gang.py)"))
        let starter = try #require(plan.artefact(.gang)).content
        #expect(starter.contains("PROCS_PER_NODE = 4\n"))
        #expect(starter.contains(#"COMMAND = ["python3", "train.py"] + sys.argv[1:]"#))
        #expect(try PlanPrinter.json(plan).contains("\"gang\""))
    }

    @Test func procsPerNodeDefaultsToTheGPUsPerNode() throws {
        var context = Context(name: "g", type: .slurm)
        context.resources.gpu = 4
        #expect(JobShape(context) == JobShape(nodes: 1, procsPerNode: 4, launcher: .mrun, masterPort: 29500))
        context.gang.nodes = 2
        context.gang.launcher = "torchrun"
        let shape = JobShape(context)
        #expect(shape.isGang && shape.worldSize == 8 && shape.tasksPerNode == 1)
        context.gang.launcher = "none"
        #expect(JobShape(context).worldSize == 2)
        #expect(!JobShape(Context(name: "one", type: .local)).isGang)
    }

    static let addFile = ["context", "add", "--from-file", "c.yaml"]

    static let cases: [BadInputTests.Case] = [
        .init(
            name: "nodes 0", arguments: addFile, files: ["c.yaml": "name: a\ntype: slurm\nhost: h\nnodes: 0\n"],
            message: "error: c.yaml:4:8: nodes must be 1 or more, got 0"),
        .init(
            name: "procs_per_node -1", arguments: addFile,
            files: ["c.yaml": "name: a\ntype: kubernetes\nregistry_url: r.io\nprocs_per_node: -1\n"],
            message: "error: c.yaml:4:17: procs_per_node must be 1 or more, got -1"),
        .init(
            name: "procs_per_node a word", arguments: addFile,
            files: ["c.yaml": "name: a\ntype: local\nprocs_per_node: many\n"],
            message: "error: c.yaml:3:17: procs_per_node: must be a whole number, got 'many'"),
        .init(
            name: "launcher mpi", arguments: addFile, files: ["c.yaml": "name: a\ntype: local\nlauncher: mpi\n"],
            message: "error: c.yaml:3:11: launcher must be one of mrun, torchrun, none, got 'mpi'"),
        .init(
            name: "master_port 70000", arguments: addFile,
            files: ["c.yaml": "name: a\ntype: local\nmaster_port: 70000\n"],
            message: "error: c.yaml:3:14: master_port must be at most 65535, got 70000"),
        .init(
            name: "nodes 2 on a local context", arguments: addFile,
            files: ["c.yaml": "name: a\ntype: local\nnodes: 2\n"],
            message:
                "error: c.yaml:3:8: nodes must be 1 on a local context (it is this one machine), got 2; use procs_per_node for several processes"
        ),
        .init(
            name: "gpus [0, 0]", arguments: addFile, files: ["c.yaml": "name: a\ntype: local\ngpus: [0, 0]\n"],
            message: "error: c.yaml:3:7: gpus: 0 is listed twice; each GPU once"),
        .init(
            name: "gpus [-1]", arguments: addFile, files: ["c.yaml": "name: a\ntype: local\ngpus: [-1]\n"],
            message: "error: c.yaml:3:7: gpus: '-1' is not a GPU index; list them as numbers, e.g. [0, 1]"),
        .init(
            name: "--nodes 0", arguments: ["run", "exp.py", "--nodes", "0"], files: ["exp.py": ""],
            message: "error: --nodes: nodes must be 1 or more, got 0"),
        .init(
            name: "--launcher mpi", arguments: ["run", "exp.py", "--launcher", "mpi"], files: ["exp.py": ""],
            message: "error: --launcher: launcher must be one of mrun, torchrun, none, got 'mpi'"),
        .init(
            name: "--nodes 2 on this machine", arguments: ["run", "exp.py", "--nodes", "2"], files: ["exp.py": ""],
            message:
                "error: --nodes: nodes must be 1 on a local context (it is this one machine), got 2; use procs_per_node for several processes"
        ),
    ]

    @Test(arguments: cases)
    func rejects(_ badInput: BadInputTests.Case) async throws {
        try await BadInputTests().rejects(badInput)
    }
}
