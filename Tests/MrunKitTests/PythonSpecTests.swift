import Foundation
import Testing

@testable import MrunKit
@testable import MrunConfig
@testable import MrunPlan
@testable import MrunSupport

/// `mrun run --spec SPEC.py`: mrunner experiment specifications, written here in mrunner's form, read
/// by the local Python with mrun's compatibility module (no mrunner installed), through the binary.
@Suite struct PythonSpecTests {
    /// An experiment written for mrunner: it asks mrunner's client helper for its parameters.
    static let experiment = """
        import json, sys
        from mrunner.helpers.client_helper import get_configuration
        params = get_configuration(nesting_prefixes=("model_",))
        print("lr=%s batch=%s depth=%s via-attr=%s" % (params["lr"], params.batch, params.model.depth, params.lr))
        print("args", " ".join(sys.argv[1:]))

        """

    /// A grid of 2 x 3 over a base config, mrunner's way.
    static let grid = """
        from mrunner.helpers.specification_helper import create_experiments_helper

        print("Neptune link: none today")
        base_config = {"lr": 0.5, "batch": 8, "model_depth": 3, "label": "base", "schedule": None}
        params_grid = {"lr": [0.1, 0.01], "batch": [16, 32, 64]}
        experiments_list = create_experiments_helper(
            experiment_name="Grid search", project_name="lab/grid-demo", script="python train.py --fixed 1",
            python_path=".", paths_to_dump="", tags=["grid", "demo"], base_config=base_config,
            params_grid=params_grid)

        """

    func project(_ files: [String: String]) throws -> Sandbox {
        let sandbox = try Sandbox()
        try sandbox.write(Self.experiment, to: "train.py")
        for (path, text) in files { try sandbox.write(text, to: path) }
        return sandbox
    }

    /// The points of a `--dry-run --output json`: each one's arguments and `MRUN_PARAMS`.
    func points(_ result: CLIResult) throws -> [(args: [String], params: String)] {
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let points = try #require(object?["points"] as? [[String: Any]], "\(result.standardOutput)")
        return points.map { ($0["args"] as? [String] ?? [], $0["params"] as? String ?? "") }
    }

    @Test func aGridOfTwoByThreeIsSixPointsWithTheBaseConfigUpdated() async throws {
        let sandbox = try project(["experiment_conf.py": Self.grid])
        let result = try await CLI.run(
            ["run", "--spec", "experiment_conf.py", "--dry-run", "--output", "json"], sandbox: sandbox)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("Neptune link: none today"), "the spec's prints go to stderr")
        let points = try points(result)
        #expect(points.count == 6)
        #expect(
            points.first?.params
                == #"{"lr": 0.1, "batch": 16, "model_depth": 3, "label": "base", "schedule": null}"#)
        #expect(points.last?.params.hasPrefix(#"{"lr": 0.01, "batch": 64,"#) == true)
        #expect(
            points.first?.args
                == ["--lr", "0.1", "--batch", "16", "--model_depth", "3", "--label", "base", "--schedule", "null"])

        let text = try await CLI.run(["run", "--spec", "experiment_conf.py", "--dry-run"], sandbox: sandbox)
        let plan = text.standardOutput
        #expect(plan.contains("Sweep        "), "\(plan)")
        #expect(plan.contains("grid-search-"), "mrunner's name, as a DNS label")
        #expect(plan.contains("(project grid-demo)"), "the project part of mrunner's WORKSPACE/PROJECT")
        #expect(plan.contains("Command      python3 train.py --fixed 1 --lr 0.1 --batch 16"), "\(plan)")
        #expect(plan.contains("Tags         grid, demo"))
        #expect(plan.contains("mrun's compatibility module shipped with the code (5 files under mrunner/)"))
        #expect(plan.contains("  mrunner/helpers/client_helper.py  (added by mrun)\n"))
        #expect(plan.contains("  PYTHONPATH=.\n"), "mrunner's python_path")

        let crossed = try await CLI.run(
            ["run", "--spec", "experiment_conf.py", "--grid", "x=1,2", "--dry-run"], sandbox: sandbox)
        #expect(crossed.status != 0)
        #expect(
            crossed.standardError.hasSuffix(
                "error: --grid: a Python spec lists its points itself; add the values to its params_grid instead\n"))
    }

    @Test func keysEndingInThreeUnderscoresAreZippedThenCrossed() async throws {
        let spec = """
            from mrunner.helpers.specification_helper import create_experiments_helper
            runs = create_experiments_helper(
                experiment_name="zipped", base_config={}, script="python train.py", python_path=".",
                paths_to_dump="", tags=[], params_grid={"seed___": [1, 2], "env___": ["pong", "breakout"],
                "lr": [0.1, 0.2, 0.3]})

            """
        let sandbox = try project(["zip_conf.py": spec])
        let result = try await CLI.run(
            ["run", "--spec", "zip_conf.py", "--spec-var", "runs", "--dry-run", "--output", "json"], sandbox: sandbox)
        #expect(result.status == 0, "\(result.standardError)")
        let params = try points(result).map(\.params)
        #expect(
            params == [
                #"{"seed": 1, "env": "pong", "lr": 0.1}"#, #"{"seed": 1, "env": "pong", "lr": 0.2}"#,
                #"{"seed": 1, "env": "pong", "lr": 0.3}"#, #"{"seed": 2, "env": "breakout", "lr": 0.1}"#,
                #"{"seed": 2, "env": "breakout", "lr": 0.2}"#, #"{"seed": 2, "env": "breakout", "lr": 0.3}"#,
            ])

        let unnamed = try await CLI.run(["run", "--spec", "zip_conf.py", "--dry-run"], sandbox: sandbox)
        #expect(unnamed.status != 0)
        #expect(
            unnamed.standardError
                == "error: zip_conf.py: sets no variable 'experiments_list' (name the list with --spec-var);"
                + " lists there: runs\n")
    }

    /// A list written out by hand, with Experiment and Munch, as mrunner's older specifications did
    /// (munch is not installed here: mrun's reader stands in for it).
    @Test func aCustomListOfExperimentsAndHandWrittenExperiments() async throws {
        let spec = """
            import os
            from munch import Munch
            from mrunner.experiment import Experiment
            token = {"NEPTUNE_API_TOKEN": "nep-do-not-copy", "SEED_BASE": "7"}
            mine = [Experiment(project="p", name="hand", script="python train.py", tags=["t%d" % i], env=token,
                               parameters=Munch(lr=0.1 * i, batch=4, model_depth=i, opts={"a": [1]}),
                               python_path=".", time="0-0:10") for i in (1, 2)]

            """
        let sandbox = try project(["hand.py": spec])
        let result = try await CLI.run(
            ["run", "--spec", "hand.py", "--spec-var", "mine", "--dry-run", "--output", "json"], sandbox: sandbox)
        #expect(result.status == 0, "\(result.standardError)")
        let points = try points(result)
        #expect(points.map(\.params).last == #"{"lr": 0.2, "batch": 4, "model_depth": 2, "opts": {"a": [1]}}"#)
        #expect(points.first?.args.suffix(2) == ["--opts", #"{"a": [1]}"#])
        #expect(!result.standardOutput.contains("nep-do-not-copy"), "Neptune's token is mrun's to pass, as a secret")
        #expect(result.standardOutput.contains(#""name" : "SEED_BASE""#), "the spec's other env")
        #expect(result.standardOutput.contains(#""generated" : true"#), "the module's files are marked in the plan")
    }

    @Test func aLambdaIsRefusedNamingTheParameterAndPoint() async throws {
        let spec = """
            from mrunner.helpers.specification_helper import create_experiments_helper
            experiments_list = create_experiments_helper(
                experiment_name="fn", base_config={"lr": 1}, script="python train.py", python_path=".",
                paths_to_dump="", tags=[], params_grid={"lr": [1, 2], "activation": ["relu", lambda x: x]})

            """
        let sandbox = try project(["fn_conf.py": spec])
        let result = try await CLI.run(["run", "--spec", "fn_conf.py"], sandbox: sandbox)
        #expect(result.status != 0)
        #expect(
            result.standardError
                == "error: fn_conf.py: parameter 'activation' of point 1 is a function (<lambda>), which mrun"
                + " cannot pass to the experiment as JSON\n")
        #expect(!FileManager.default.fileExists(atPath: sandbox.store.runsDirectory.path), "nothing ran")

        let object = """
            from mrunner.experiment import Experiment
            class Schedule:
                def __repr__(self):
                    return "Schedule()"
            experiments_list = [Experiment(name="o", script="train.py", parameters={"lr": 1}),
                                Experiment(name="o", script="train.py", parameters={"lr": 2, "schedule": Schedule()})]

            """
        try sandbox.write(object, to: "object_conf.py")
        let refused = try await CLI.run(["run", "--spec", "object_conf.py", "--dry-run"], sandbox: sandbox)
        #expect(
            refused.standardError
                == "error: object_conf.py: parameter 'schedule' of point 1 is Schedule() of type Schedule, which mrun"
                + " cannot pass to the experiment as JSON\n")
    }

    @Test func anExceptionInTheSpecIsOneLineWithItsFileAndLine() async throws {
        let spec = """
            import os

            def grid():
                return {"lr": [0.1]} + 1

            experiments_list = grid()

            """
        let sandbox = try project(["bad_conf.py": spec, "syntax_conf.py": "experiments_list = [\n"])
        let result = try await CLI.run(["run", "--spec", "bad_conf.py", "--dry-run"], sandbox: sandbox)
        #expect(result.status != 0)
        #expect(
            result.standardError
                == "error: bad_conf.py:4: TypeError: unsupported operand type(s) for +: 'dict' and 'int'\n")
        let syntax = try await CLI.run(["run", "--spec", "syntax_conf.py", "--dry-run"], sandbox: sandbox)
        #expect(syntax.standardError.hasPrefix("error: syntax_conf.py:1: SyntaxError: "), "\(syntax.standardError)")
        #expect(syntax.standardError.split(separator: "\n").count == 1)
        let python = try await CLI.run(
            ["run", "--spec", "bad_conf.py", "--set", "python=no-such-python3", "--dry-run"], sandbox: sandbox)
        #expect(python.standardError.contains("cannot run no-such-python3 to read it"), "\(python.standardError)")
    }

    /// The experiment runs on the local context and gets its point's parameters from
    /// get_configuration(), nested by nesting_prefixes, beside them as `--NAME VALUE`.
    @Test func anExperimentCallingGetConfigurationReceivesItsPointLocally() async throws {
        let sandbox = try project(["experiment_conf.py": Self.grid])
        let result = try await CLI.run(["run", "--spec", "experiment_conf.py", "--limit", "2"], sandbox: sandbox)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("lr=0.1 batch=16 depth=3 via-attr=0.1\n"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("lr=0.1 batch=32 depth=3 via-attr=0.1\n"))
        #expect(
            result.standardOutput.contains(
                "args --fixed 1 --lr 0.1 --batch 32 --model_depth 3 --label base --schedule null\n"))
        // The project never got the module: only the run directories did.
        #expect(!FileManager.default.fileExists(atPath: sandbox.project.appendingPathComponent("mrunner").path))
        let history = try HistoryStore(home: sandbox.mrunHome)
        let launches = try history.list()
        #expect(launches.count == 2 && launches.allSatisfy { $0.tags == ["grid", "demo"] })
        #expect(launches.allSatisfy { $0.files["mrunner/helpers/client_helper.py"] != nil }, "in the code manifest")

        let rerun = try await CLI.run(["rerun", try #require(launches.first?.id)], sandbox: sandbox)
        #expect(rerun.status == 0, "\(rerun.standardError)")
        #expect(rerun.standardOutput.contains("via-attr="), "a rerun ships the module again: \(rerun.standardOutput)")
    }

    @Test func aProjectWithItsOwnMrunnerKeepsIt() async throws {
        let own = "def get_configuration(**kwargs):\n    return {'lr': 'own', 'batch': 0}\n"
        let sandbox = try project([
            "experiment_conf.py": Self.grid, "mrunner/__init__.py": "", "mrunner/helpers/__init__.py": "",
            "mrunner/helpers/client_helper.py": own,
        ])
        let result = try await CLI.run(["run", "--spec", "experiment_conf.py", "--dry-run"], sandbox: sandbox)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardOutput.contains("added by mrun"))
        #expect(!result.standardOutput.contains("compatibility module"))
    }

    @Test func experimentsThatDifferInScriptAreRefused() throws {
        let item = PythonSpecReader.Item(
            name: "a", project: nil, script: ["python", "a.py"], tags: [], env: [:], pythonPath: nil, parameters: [])
        var other = item
        other.script = ["python", "b.py"]
        #expect(throws: PythonSpecError.differingField(spec: "s.py", field: "script", point: 1)) {
            try PythonSpecReader.sweep([item, other], spec: "s.py", variable: "experiments_list")
        }
        #expect(throws: PythonSpecError.empty(spec: "s.py", variable: "xs")) {
            try PythonSpecReader.sweep([], spec: "s.py", variable: "xs")
        }
        var odd = item
        odd.parameters = [.init(name: "_private", kind: "plain", text: "1", json: "1")]
        #expect(throws: PythonSpecError.invalidName(spec: "s.py", name: "_private", point: 0)) {
            try PythonSpecReader.sweep([odd], spec: "s.py", variable: "experiments_list")
        }
        #expect(PythonSpecReader.isPython("python3.11") && PythonSpecReader.isPython("/usr/bin/python"))
        #expect(!PythonSpecReader.isPython("pythonic.py") && !PythonSpecReader.isPython("./run.sh"))
        let sweep = try PythonSpecReader.sweep([item], spec: "s.py", variable: "experiments_list")
        #expect(sweep.script == "a.py" && sweep.args.isEmpty)
    }
}
