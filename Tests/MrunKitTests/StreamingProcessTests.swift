import Foundation
import MrunKit
import Testing

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#endif

/// Serialized because every run installs process-wide signal handlers, and the forwarding tests
/// signal the test process itself: a concurrent run's child would receive those signals too.
@Suite("StreamingProcess", .serialized)
struct StreamingProcessTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    private var logFile: String { "\(scratch.path)/run.log" }

    private func command(_ argv: [String], environment: [String: String]? = nil) -> StreamingCommand {
        StreamingCommand(
            argv: argv,
            environment: environment ?? ProcessInfo.processInfo.environment,
            workingDirectory: scratch.path,
            logFile: logFile
        )
    }

    @Test func argumentsArriveIntact() async throws {
        let script = try scratch.write("echo_args.py", echoArgumentsScript)
        let sink = RecordingSink()
        let status = try await StreamingProcess.run(
            command(["python3", script] + awkwardArguments), sink: sink)
        #expect(status == .exited(0))
        #expect(try decodeJSONStrings(await sink.text(of: .output)) == awkwardArguments)
    }

    @Test func environmentIsCompleteNotMerged() async throws {
        let sink = RecordingSink()
        let status = try await StreamingProcess.run(
            command(["env"], environment: ["RUN_ID": "exp-7", "EMPTY": ""]), sink: sink)
        #expect(status == .exited(0))
        let lines = Set(await sink.text(of: .output).split(separator: "\n").map(String.init))
        #expect(lines == ["RUN_ID=exp-7", "EMPTY="])
    }

    @Test func workingDirectoryIsHonoured() async throws {
        let sink = RecordingSink()
        _ = try await StreamingProcess.run(
            command(["python3", "-c", "import os; print(os.getcwd())"]), sink: sink)
        #expect(await sink.text(of: .output) == scratch.path + "\n")
    }

    @Test(arguments: [0, 3, 42] as [Int32])
    func exitStatusPropagates(code: Int32) async throws {
        let status = try await StreamingProcess.run(
            command(["/bin/sh", "-c", "exit \(code)"]), sink: RecordingSink())
        #expect(status == .exited(code))
    }

    @Test func childKilledBySignalReportsIt() async throws {
        let status = try await StreamingProcess.run(
            command(["/bin/sh", "-c", "kill -9 $$"]), sink: RecordingSink())
        #expect(status == .signalled(9))
        #expect(status.shellCode == 137)
    }

    @Test func outputIsStreamedWhileTheChildRuns() async throws {
        let script = """
            import sys, time
            print("first", flush=True)
            print("first-err", file=sys.stderr, flush=True)
            time.sleep(3)
            print("second", flush=True)
            """
        let sink = RecordingSink()
        let status = try await StreamingProcess.run(command(["python3", "-c", script]), sink: sink)
        let finished = ContinuousClock.now
        #expect(status == .exited(0))
        let first = try #require(await sink.arrival(of: "first"))
        let second = try #require(await sink.arrival(of: "second"))
        // The child sleeps 3 s between the lines; a third of that leaves room for a loaded machine,
        // whose two threads other tests may hold for a while.
        #expect(second - first > .seconds(1))
        #expect(finished - first > .seconds(1))
        #expect(await sink.text(of: .error) == "first-err\n")
    }

    /// The child writes each line only once the log holds the one before (it reads the log
    /// itself), so the order is the arrival order however slowly the two pipes' readers run.
    @Test func logFileHoldsBothStreamsInArrivalOrder() async throws {
        let script = """
            import sys, time
            def logged(text):
                deadline = time.monotonic() + 60
                while text not in open(sys.argv[1]).read():
                    if time.monotonic() > deadline: sys.exit("the log never got " + repr(text))
                    time.sleep(0.01)
            print("to stdout", flush=True)
            logged("to stdout\\n")
            print("to stderr", file=sys.stderr, flush=True)
            logged("to stderr\\n")
            print("stdout again", flush=True)
            """
        try scratch.write(
            "run.log", "stale content from an earlier run\n" + String(repeating: "x", count: 5000))
        let status = try await StreamingProcess.run(
            command(["python3", "-c", script, logFile]), sink: RecordingSink())
        #expect(status == .exited(0))
        let log = try String(contentsOfFile: logFile, encoding: .utf8)
        #expect(log == "to stdout\nto stderr\nstdout again\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: logFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
    }

    @Test func largeOutputOnBothStreamsIsLoggedByteExact() async throws {
        let size = 3 << 19  // 1.5 MiB per stream
        let expectedOutput = payload(byteCount: size, high: false)
        let expectedError = payload(byteCount: size, high: true)
        let outputFile = try scratch.write("stdout.bin", bytes: expectedOutput)
        let errorFile = try scratch.write("stderr.bin", bytes: expectedError)
        let script = """
            import os, sys
            out = open(sys.argv[1], "rb").read()
            err = open(sys.argv[2], "rb").read()
            for start in range(0, len(out), 5000):
                os.write(1, out[start:start + 5000])
                os.write(2, err[start:start + 5000])
            """
        let sink = RecordingSink()
        let status = try await StreamingProcess.run(
            command(["python3", "-c", script, outputFile, errorFile]), sink: sink)
        #expect(status == .exited(0))
        #expect(await sink.bytes(of: .output) == expectedOutput)
        #expect(await sink.bytes(of: .error) == expectedError)
        let log = try scratch.readBytes(logFile)
        #expect(log.count == 2 * size)
        // The payloads use disjoint byte ranges, so each stream can be recovered from the interleaving.
        #expect(log.filter { $0 < 0x80 } == expectedOutput)
        #expect(log.filter { $0 >= 0x80 } == expectedError)
    }

    @Test func missingProgramIsAClearError() async throws {
        let error = await #expect(throws: ProcessError.self) {
            try await StreamingProcess.run(command(["mrun-no-such-trainer"]), sink: RecordingSink())
        }
        #expect(error == .programNotFound("mrun-no-such-trainer"))
        #expect(!SignalForwarder.isInstalled)
    }

    @Test func unwritableLogFileIsAClearError() async throws {
        var command = command(["/bin/sh", "-c", "true"])
        command.logFile = "\(scratch.path)/no-such-dir/run.log"
        let error = await #expect(throws: ProcessError.self) {
            try await StreamingProcess.run(command, sink: RecordingSink())
        }
        #expect(
            error?.description
                == "Cannot write the log file '\(command.logFile)': No such file or directory.")
    }

    // MARK: - Signal forwarding

    /// A child that reports its pid, then waits to be interrupted or terminated.
    private static let signalAwareScript = """
        import os, signal, sys, time
        def stop(signum, frame):
            print("got " + signal.Signals(signum).name, flush=True)
            sys.exit(128 + signum)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        print(f"ready {os.getpid()}", flush=True)
        time.sleep(30)
        print("never signalled", flush=True)
        """

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func signalSentToMrunReachesTheChildAndMrunSurvives(signal: Int32) async throws {
        let dispositionBefore = signalDisposition(signal)
        let sink = RecordingSink()
        let command = command(["python3", "-c", Self.signalAwareScript])
        async let status = StreamingProcess.run(command, sink: sink)
        try await sink.waitForOutput(containing: "ready")
        #expect(SignalForwarder.isInstalled)
        #expect(signalDisposition(signal) != dispositionBefore)

        kill(getpid(), signal)

        // SIGHUP is not handled by the script, so it dies of it; the others exit 128 + n.
        let expectedStatus: MrunKit.ExitStatus =
            signal == SIGHUP ? .signalled(SIGHUP) : .exited(128 + signal)
        #expect(try await status == expectedStatus)
        let output = await sink.text(of: .output)
        #expect(!output.contains("never signalled"))
        if signal != SIGHUP {
            #expect(output.components(separatedBy: "got ").count == 2)
        }
        #expect(!SignalForwarder.isInstalled)
        #expect(signalDisposition(signal) == dispositionBefore)
    }

    @Test func terminalInterruptIsNotSentTwice() async throws {
        let sink = RecordingSink()
        async let status = StreamingProcess.run(
            command(["python3", "-c", Self.signalAwareScript]), sink: sink)
        try await sink.waitForOutput(containing: "ready")
        // The pid may arrive in a later chunk than "ready": wait for the end of the line.
        try await sink.waitForOutput(containing: "\n")
        let readyLine = try #require(await sink.text(of: .output).split(separator: "\n").first)
        let pidText = try #require(readyLine.split(separator: " ").last)
        let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))

        // What the handler sees for Ctrl-C: the terminal already signalled the child itself.
        #expect(!SignalForwarder.forward(signal: SIGINT, senderCode: kernelSenderCode, to: pid))
        try await Task.sleep(for: .milliseconds(500))
        #expect(!(await sink.text(of: .output).contains("got")))

        // What it sees for `kill -INT <mrun>`.
        #expect(SignalForwarder.forward(signal: SIGINT, senderCode: userSenderCode, to: pid))
        #expect(try await status == .exited(130))
        #expect(await sink.text(of: .output).components(separatedBy: "got SIGINT").count == 2)
    }
}
