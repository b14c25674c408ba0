import Foundation
import MrunKit
import Testing

@Suite("SystemProcessRunner")
struct ProcessRunnerTests {
    let runner = SystemProcessRunner()

    @Test func argumentsArriveIntact() async throws {
        let scratch = try ScratchDirectory()
        let script = try scratch.write("echo_args.py", echoArgumentsScript)
        let result = try await runner.run(
            ["python3", script] + awkwardArguments, environment: nil, workingDirectory: nil)
        #expect(result.status == .exited(0))
        #expect(try decodeJSONStrings(result.standardOutput) == awkwardArguments)
    }

    @Test func environmentIsExactlyTheOneGiven() async throws {
        let environment = ["ALPHA": "1", "BETA": "two words", "EMPTY": "", "UNI": "ü"]
        // No PATH in the environment: `env` must still be found through mrun's own PATH.
        let result = try await runner.run(["env"], environment: environment, workingDirectory: nil)
        #expect(result.status == .exited(0))
        let lines = Set(result.standardOutput.split(separator: "\n").map(String.init))
        #expect(lines == ["ALPHA=1", "BETA=two words", "EMPTY=", "UNI=ü"])
    }

    @Test func nilEnvironmentInheritsThisProcesssEnvironment() async throws {
        let path = try #require(ProcessInfo.processInfo.environment["PATH"])
        let result = try await runner.run(["env"], environment: nil, workingDirectory: nil)
        #expect(result.standardOutput.split(separator: "\n").contains("PATH=\(path)"[...]))
    }

    @Test func workingDirectoryIsHonoured() async throws {
        let scratch = try ScratchDirectory()
        let result = try await runner.run(
            ["python3", "-c", "import os; print(os.getcwd())"], environment: nil,
            workingDirectory: scratch.path)
        #expect(result.standardOutput == scratch.path + "\n")
    }

    @Test func relativeProgramPathIsTakenFromTheWorkingDirectory() async throws {
        let scratch = try ScratchDirectory()
        let tool = try scratch.write("tool.sh", "#!/bin/sh\necho tool ran\n")
        #expect(chmod(tool, 0o755) == 0)
        let result = try await runner.run(
            ["./tool.sh"], environment: nil, workingDirectory: scratch.path)
        #expect(result.standardOutput == "tool ran\n")
    }

    @Test(arguments: [0, 3, 42] as [Int32])
    func exitStatusPropagates(code: Int32) async throws {
        let result = try await runner.run(
            ["/bin/sh", "-c", "echo out; echo err >&2; exit \(code)"], environment: nil,
            workingDirectory: nil)
        #expect(result.status == .exited(code))
        #expect(result.status.shellCode == code)
        #expect(result.status.succeeded == (code == 0))
        #expect(result.standardOutput == "out\n")
        #expect(result.standardError == "err\n")
    }

    @Test func childKilledBySignalReportsIt() async throws {
        let result = try await runner.run(
            ["/bin/sh", "-c", "kill -9 $$"], environment: nil, workingDirectory: nil)
        #expect(result.status == .signalled(9))
        #expect(result.status.shellCode == 137)
        #expect(!result.status.succeeded)
    }

    @Test func largeOutputOnBothStreamsDoesNotDeadlock() async throws {
        // 4 MiB per stream, written alternately so the child blocks on whichever pipe is not drained.
        let script = """
            import sys
            out = ("o" * 1023 + "\\n") * 64
            err = ("e" * 1023 + "\\n") * 64
            for _ in range(64):
                sys.stdout.write(out); sys.stdout.flush()
                sys.stderr.write(err); sys.stderr.flush()
            """
        let result = try await runner.run(
            ["python3", "-c", script], environment: nil, workingDirectory: nil)
        #expect(result.status == .exited(0))
        let expectedOutput = String(
            repeating: String(repeating: "o", count: 1023) + "\n", count: 64 * 64)
        let expectedError = String(
            repeating: String(repeating: "e", count: 1023) + "\n", count: 64 * 64)
        #expect(result.standardOutput.utf8.count == 4 << 20)
        #expect(result.standardOutput == expectedOutput)
        #expect(result.standardError == expectedError)
    }

    @Test func missingProgramOnPathIsAClearError() async throws {
        let error = await #expect(throws: ProcessError.self) {
            try await runner.run(
                ["mrun-no-such-program", "--version"], environment: nil, workingDirectory: nil)
        }
        #expect(error == .programNotFound("mrun-no-such-program"))
        #expect(
            error?.description
                == "Cannot run 'mrun-no-such-program': program not found on PATH; install it or add its directory to PATH."
        )
    }

    @Test func missingProgramAtAPathIsAClearError() async throws {
        let scratch = try ScratchDirectory()
        let program = "\(scratch.path)/missing-tool"
        let error = await #expect(throws: ProcessError.self) {
            try await runner.run([program], environment: nil, workingDirectory: nil)
        }
        #expect(
            error?.description
                == "Cannot run '\(program)': no executable file at that path; check the path and its permissions."
        )
    }

    @Test func missingWorkingDirectoryIsAClearError() async throws {
        let scratch = try ScratchDirectory()
        let directory = "\(scratch.path)/does-not-exist"
        let error = await #expect(throws: ProcessError.self) {
            try await runner.run(
                ["/bin/sh", "-c", "true"], environment: nil, workingDirectory: directory)
        }
        #expect(error == .workingDirectoryUnavailable(program: "/bin/sh", directory: directory))
    }

    @Test func emptyCommandIsRejected() async throws {
        let error = await #expect(throws: ProcessError.self) {
            try await runner.run([], environment: nil, workingDirectory: nil)
        }
        #expect(error == .emptyCommand)
    }

    @Test func standardInputIsEmptyRatherThanTheTerminal() async throws {
        let result = try await runner.run(
            ["python3", "-c", "import sys; print(repr(sys.stdin.read()))"], environment: nil,
            workingDirectory: nil)
        #expect(result.standardOutput == "''\n")
    }
}
