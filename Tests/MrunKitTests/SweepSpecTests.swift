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

/// Expanding sweeps: grid, zip, zip × grid, limit, shuffle.
@Suite struct SweepExpansionTests {
    func spec(grid: [String] = [], zip: [String] = []) throws -> SweepSpec {
        SweepSpec(
            grid: try grid.map { try SweepAxis.parse($0, flag: "--grid") },
            zip: try zip.map { try SweepAxis.parse($0, flag: "--zip") })
    }

    func table(_ points: [SweepPoint]) -> [String] {
        points.map { point in
            "\(point.index): " + point.parameters.map { "\($0.name)=\($0.value.text)" }.joined(separator: " ")
        }
    }

    @Test func gridIsTheCartesianProductWithTheLastParameterFastest() throws {
        let points = try spec(grid: ["lr=0.1,0.01", "batch=32,64"]).expand()
        #expect(
            table(points) == ["0: lr=0.1 batch=32", "1: lr=0.1 batch=64", "2: lr=0.01 batch=32", "3: lr=0.01 batch=64"])
        #expect(points[1].arguments == ["--lr", "0.1", "--batch", "64"])
        #expect(points[1].json == #"{"lr": 0.1, "batch": 64}"#)
    }

    @Test func zipPairsValuesIndexByIndex() throws {
        let points = try spec(zip: ["seed=1,2,3", "task=a,b,c"]).expand()
        #expect(table(points) == ["0: seed=1 task=a", "1: seed=2 task=b", "2: seed=3 task=c"])
        #expect(points[2].json == #"{"seed": 3, "task": "c"}"#)
    }

    @Test func zipTimesGridCrossesEachTupleWithTheGrid() throws {
        let points = try spec(grid: ["lr=0.1,0.01"], zip: ["seed=1,2", "task=a,b"]).expand()
        #expect(
            table(points) == [
                "0: seed=1 task=a lr=0.1", "1: seed=1 task=a lr=0.01", "2: seed=2 task=b lr=0.1",
                "3: seed=2 task=b lr=0.01",
            ])
        #expect(try spec(grid: ["a=1,2,3", "b=1,2"], zip: ["s=1,2"]).totalPoints == 12)
    }

    @Test func limitKeepsTheFirstPoints() throws {
        var sweep = try spec(grid: ["lr=1,2,3", "batch=4,5"])
        sweep.limit = 3
        #expect(table(try sweep.expand()) == ["0: lr=1 batch=4", "1: lr=1 batch=5", "2: lr=2 batch=4"])
        sweep.limit = 100
        #expect(try sweep.expand().count == 6)
    }

    @Test func shuffleIsDeterministicWithASeedAndRenumbersThePoints() throws {
        var sweep = try spec(grid: ["a=0,1,2,3,4,5,6,7,8,9", "b=x,y"])
        sweep.shuffle = true
        sweep.seed = 42
        let first = try sweep.expand()
        #expect(try sweep.expand() == first, "the same seed gives the same order")
        #expect(first.map(\.index) == Array(0..<20))
        #expect(Set(table(first).map { $0.drop { $0 != ":" } }).count == 20, "a permutation of every point")
        let unshuffled = try spec(grid: ["a=0,1,2,3,4,5,6,7,8,9", "b=x,y"]).expand()
        #expect(first.map(\.parameters) != unshuffled.map(\.parameters))
        // Pinned, so that a seed means the same order in every version of mrun.
        #expect(
            first.prefix(3).map(\.arguments) == [
                ["--a", "8", "--b", "x"], ["--a", "1", "--b", "y"], ["--a", "4", "--b", "x"],
            ])
        sweep.seed = 43
        #expect(try sweep.expand() != first)
        sweep.seed = 42
        sweep.limit = 5
        #expect(try sweep.expand() == Array(first.prefix(5)), "limit applies after shuffling")
    }

    @Test func valuesAreTypedInParamsButPassedAsWritten() throws {
        let points = try spec(grid: ["v=1e-3,0.10,-2,true,.5,007,a b,x\\,y,null"]).expand()
        #expect(
            points.map(\.json) == [
                #"{"v": 1e-3}"#, #"{"v": 0.10}"#, #"{"v": -2}"#, #"{"v": true}"#, #"{"v": ".5"}"#, #"{"v": "007"}"#,
                #"{"v": "a b"}"#, #"{"v": "x,y"}"#, #"{"v": "null"}"#,
            ])
        #expect(points[6].arguments == ["--v", "a b"])
        #expect(points[7].arguments == ["--v", "x,y"])
        #expect(SweepValue("3", quoted: true).json == #""3""#)
    }

    @Test func hugeSweepsNeedALimitWithoutShuffle() throws {
        let values = "v=" + (0..<100).map(String.init).joined(separator: ",")
        var sweep = try spec(grid: [
            values, values.replacingOccurrences(of: "v=", with: "w="), "x=1,2,3,4,5,6,7,8,9,10,11",
        ])
        #expect(throws: SweepError.tooManyPoints(count: "110000")) { try sweep.expand() }
        sweep.limit = 2
        #expect(table(try sweep.expand()) == ["0: v=0 w=0 x=1", "1: v=0 w=0 x=2"])
        sweep.shuffle = true
        #expect(throws: SweepError.tooManyPoints(count: "110000")) { try sweep.expand() }
    }

    @Test func pointNamesStayDNSLabels() {
        let base = Naming.baseName(String(repeating: "x", count: 100))
        let sweep = Naming.sweepName(base: base, id: "k3x9q", count: 1000)
        #expect(Naming.pointName(sweep: sweep, index: 999).count == 63)
        #expect(Naming.sweepName(base: "train", id: "k3x9q", count: 4) == "train-k3x9q")
        #expect(Naming.pointName(sweep: "train-k3x9q", index: 3) == "train-k3x9q-3")
    }
}

/// Every bad sweep definition and its exact one-line message.
@Suite struct SweepErrorTests {
    func resolve(_ options: SweepOptions, files: [String: String] = [:]) throws -> SweepSpec? {
        let sandbox = try Sandbox()
        for (path, text) in files { try sandbox.write(text, to: path) }
        var request = RunRequest(script: "train.py")
        return try options.resolve(into: &request, host: sandbox.host())
    }

    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch let error as any UserFacingError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    static let flagCases: [(grid: [String], zip: [String], message: String)] = [
        (["lr"], [], "--grid: 'lr' is not NAME=VALUE,VALUE,...; write e.g. --grid lr=0.1,0.01"),
        (["lr="], [], "--grid: 'lr' has no values; list them after '=', separated by commas (e.g. lr=1,2)"),
        (["=1,2"], [], "--grid: '=1,2' has no parameter name before '='; write e.g. --grid lr=0.1,0.01"),
        (
            ["lr=0.1,,0.01"], [],
            "--grid: 'lr=0.1,,0.01' has an empty value; remove the extra comma (write '\\,' for a comma inside a value)"
        ),
        (
            ["lr=0.1,"], [],
            "--grid: 'lr=0.1,' has an empty value; remove the extra comma (write '\\,' for a comma inside a value)"
        ),
        (
            ["a b=1"], [],
            "--grid: 'a b' cannot name a parameter (it becomes the option --a b); use a letter, then letters, digits, '_', '-' or '.'"
        ),
        (
            ["1lr=1"], [],
            "--grid: '1lr' cannot name a parameter (it becomes the option --1lr); use a letter, then letters, digits, '_', '-' or '.'"
        ),
        (["lr=1,2", "lr=3"], [], "parameter 'lr' is swept twice in --grid; sweep each parameter once"),
        (["lr=1,2"], ["lr=3"], "parameter 'lr' is swept in both --zip and --grid; sweep each parameter once"),
        (
            [], ["seed=1,2,3", "task=a,b"],
            "--zip: zipped lists must have the same length, but seed has 3 values, task has 2 values; use --grid to cross lists instead"
        ),
        ([], ["seed"], "--zip: 'seed' is not NAME=VALUE,VALUE,...; write e.g. --zip lr=0.1,0.01"),
    ]

    @Test(arguments: 0..<flagCases.count)
    func badFlags(_ index: Int) throws {
        let item = Self.flagCases[index]
        var options = SweepOptions()
        options.grid = item.grid
        options.zip = item.zip
        #expect(message { _ = try resolve(options) } == item.message)
    }

    @Test func badCountsAndStrayOptions() throws {
        var options = SweepOptions()
        options.limit = 3
        #expect(message { _ = try resolve(options) } == "--limit: applies to sweeps; add --grid, --zip or --spec")
        options.grid = ["lr=1,2"]
        options.limit = 0
        #expect(message { _ = try resolve(options) } == "--limit: must be 1 or more, got 0")
        options.limit = nil
        options.seed = 7
        #expect(message { _ = try resolve(options) } == "--seed: only orders a shuffled sweep; add --shuffle")
        options.seed = nil
        options.parallel = 65
        #expect(
            message { _ = try resolve(options) } == "--parallel: at most 64 points can run at once in one mrun, got 65")
        options.parallel = 2
        #expect(
            message { try options.check(for: .slurm) }
                == "--parallel: does not apply to slurm contexts; use --max-parallel to limit how many points run at once"
        )
        options.parallel = nil
        options.maxParallel = 2
        #expect(
            message { try options.check(for: .local) }
                == "--max-parallel: does not apply to local contexts; use --parallel K to run K points at once here")
        var request = RunRequest(script: "")
        #expect(
            message { _ = try options.resolve(into: &request, host: try Sandbox().host()) }
                == "no script to run: give it as 'mrun run SCRIPT', or as 'script:' in the --spec file")
    }

    static let fileCases: [(text: String, message: String)] = [
        (
            "grid:\n  lr: [0.1]\ngird: {}\n",
            "s.yaml:3:1: unknown key 'gird' (did you mean 'grid'?); known: script, args, name, tags, grid, zip, limit, shuffle, seed, max_parallel, parallel"
        ),
        (
            "max_paralel: 2\n",
            "s.yaml:1:1: unknown key 'max_paralel' (did you mean 'max_parallel'?); known: script, args, name, tags, grid, zip, limit, shuffle, seed, max_parallel, parallel"
        ),
        (
            "grid:\n  lr: [0.1, 0.2\n",
            "s.yaml:3:1: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence"
        ),
        ("grid: [lr, batch]\n", "s.yaml:1:7: grid: must map parameter names to lists of values, e.g. lr: [0.1, 0.01]"),
        ("grid:\n  lr: []\n", "s.yaml:2:7: grid: lr: has no values; list at least one"),
        ("grid:\n  lr: [0.1, ~]\n", "s.yaml:2:13: grid: lr: has an empty value; give each value or remove the item"),
        ("grid:\n  lr: [[1, 2]]\n", "s.yaml:2:8: grid: lr: values must be numbers or strings, not lists or mappings"),
        (
            "grid:\n  a b: [1]\n",
            "s.yaml:2:3: grid: 'a b' cannot name a parameter (it becomes the option --a b); use a letter, then letters, digits, '_', '-' or '.'"
        ),
        (
            "zip:\n  seed: [1, 2, 3]\n  task: [a, b]\n",
            "s.yaml:1:1: zip: zipped lists must have the same length, but seed has 3 values, task has 2 values; use --grid to cross lists instead"
        ),
        (
            "grid:\n  lr: [1]\nzip:\n  lr: [2]\n",
            "s.yaml:3:1: parameter 'lr' is swept in both zip and grid; sweep each parameter once"
        ),
        ("grid: {lr: [1]}\nlimit: 0\n", "s.yaml:2:8: limit: must be a whole number of 1 or more, got '0'"),
        ("grid: {lr: [1]}\nshuffle: maybe\n", "s.yaml:2:10: shuffle: must be true or false, got 'maybe'"),
        ("grid: {lr: [1]}\nseed: 3\n", "s.yaml:2:1: seed: only orders a shuffled sweep; add 'shuffle: true'"),
        (
            "grid: {lr: [1]}\nseed: -3\nshuffle: true\n",
            "s.yaml:2:7: seed: must be a whole number of 0 or more, got '-3'"
        ),
        ("", "s.yaml: the file is empty; it should hold a sweep spec"),
    ]

    @Test(arguments: 0..<fileCases.count)
    func badSpecFiles(_ index: Int) throws {
        let item = Self.fileCases[index]
        var options = SweepOptions()
        options.specFile = "s.yaml"
        #expect(message { _ = try resolve(options, files: ["s.yaml": item.text]) } == item.message)
    }

    @Test func specParameterAlsoOnTheCommandLine() throws {
        var options = SweepOptions()
        options.specFile = "s.yaml"
        options.zip = ["lr=1,2"]
        #expect(
            message { _ = try resolve(options, files: ["s.yaml": "grid: {lr: [1]}\n"]) }
                == "parameter 'lr' is swept in both s.yaml and --zip; sweep each parameter once")
    }
}

/// The spec file and how flags combine with it.
@Suite struct SweepFileTests {
    @Test func specFileGivesScriptArgsNameTagsAndSettingsAndFlagsWin() throws {
        let sandbox = try Sandbox()
        try sandbox.write(
            """
            script: train.py
            args: [--epochs, 3]
            name: lr sweep
            tags: [sweep]
            grid:
              lr: [0.1, 0.01]
              opt: ["1", adam]
            zip: {seed: [1, 2], task: [a, b]}
            limit: 10
            shuffle: true
            seed: 7
            max_parallel: 4
            parallel: 2
            """, to: "sweep.yaml")
        var options = SweepOptions()
        options.specFile = "sweep.yaml"
        options.grid = ["batch=32,64"]
        options.limit = 5
        var request = RunRequest(script: "", arguments: ["--verbose"])
        request.tags = ["mine"]
        let spec = try #require(try options.resolve(into: &request, host: sandbox.host()))
        #expect(request.script == "train.py")
        #expect(request.arguments == ["--epochs", "3", "--verbose"])
        #expect(request.name == "lr sweep")
        #expect(request.tags == ["sweep", "mine"])
        #expect(spec.parameterNames == ["seed", "task", "lr", "opt", "batch"])
        #expect(spec.grid[1].values == [SweepValue("1", quoted: true), SweepValue("adam")])
        #expect(spec.limit == 5)
        #expect(spec.shuffle && spec.seed == 7 && spec.maxParallel == 4 && spec.parallel == 2)
        #expect(try spec.expand().count == 5)

        var explicit = RunRequest(script: "other.py")
        _ = try options.resolve(into: &explicit, host: sandbox.host())
        #expect(explicit.script == "other.py", "the command line's script wins")
    }

    @Test func noSweepFlagsMeansNoSweep() throws {
        var request = RunRequest(script: "train.py")
        #expect(try SweepOptions().resolve(into: &request, host: try Sandbox().host()) == nil)
    }
}
