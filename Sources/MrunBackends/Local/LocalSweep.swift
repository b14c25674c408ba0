import Synchronization
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A sweep on this machine: every point is a local run of its own (run directory, `plan.json`,
/// `output.log`), one after another, or `--parallel K` at once with each output line prefixed by
/// the point's index (`[3] `). A failed point does not stop the others; an interrupted one (SIGINT,
/// SIGTERM, SIGHUP) stops the sweep from starting more.
extension LocalBackend {
    enum Outcome: Sendable {
        case finished(Int32)
        case failed(any Error)

        /// Whether the point was stopped by a signal mrun forwards: the user wants the sweep to stop.
        var isInterrupted: Bool {
            guard case .finished(let status) = self else { return true }
            return [SIGINT, SIGTERM, SIGHUP].contains { status == 128 + $0 }
        }
    }

    public func execute(_ sweep: SweepPlan) async throws -> Int32 {
        await sink.standardOutput(Array(SweepPrinter.announcement(sweep).utf8))
        let plans = sweep.plans
        var gpus: [String] = []
        if sweep.parallel == SweepSpec.perGPU {
            gpus = await Self.freeGPUs(context: sweep.base.context, environment: host.variables)
            await sink.standardError(
                Array(
                    (gpus.isEmpty
                        ? "mrun: --parallel auto: no free GPU here (the context lists none and nvidia-smi none free);"
                            + " the points run one after another\n"
                        : "mrun: --parallel auto: one point at a time on each of GPUs \(gpus.joined(separator: ", "))\n")
                        .utf8))
        }
        let width = min(max(gpus.isEmpty ? sweep.parallel : gpus.count, 1), max(plans.count, 1))
        let pool = GPUPool(gpus)
        let perGPU = !gpus.isEmpty
        var outcomes: [Int: Outcome] = [:]
        if width == 1 && gpus.isEmpty {
            for (index, plan) in plans.enumerated() {
                let outcome = await run(plan, sweep: sweep, position: index, labelled: false)
                outcomes[index] = outcome
                if outcome.isInterrupted { break }
            }
        } else {
            let results = await BoundedConcurrency.map(plans, limit: width, continuing: { !$0.isInterrupted }) {
                index, plan in
                guard perGPU else { return await self.run(plan, sweep: sweep, position: index, labelled: true) }
                let gpu = await pool.acquire()
                let outcome = await self.run(Self.on(gpu: gpu, plan), sweep: sweep, position: index, labelled: true)
                await pool.release(gpu)
                return outcome
            }
            for (index, outcome) in results.enumerated() {
                if let outcome { outcomes[index] = outcome }
            }
        }
        return try await finish(sweep, outcomes: outcomes)
    }

    /// Runs the point at `position`; `labelled`, its output lines start with `[INDEX] `.
    private func run(_ plan: ExperimentPlan, sweep: SweepPlan, position: Int, labelled: Bool) async -> Outcome {
        let point = sweep.points[position]
        guard labelled else {
            do {
                return .finished(try await execute(plan, sweepId: sweep.id, point: point))
            } catch {
                return .failed(error)
            }
        }
        let prefixed = PrefixedSink(base: sink, prefix: "[\(point.index)] ")
        let outcome: Outcome
        do {
            let backend = LocalBackend<PrefixedSink>(host: host, sink: prefixed, recorder: recorder)
            outcome = .finished(try await backend.execute(plan, sweepId: sweep.id, point: point))
        } catch {
            outcome = .failed(error)
        }
        await prefixed.flush()
        return outcome
    }

    /// Reports how the points ended; rethrows the first error mrun itself met, else returns the
    /// status of the first point that failed (0 when none did).
    private func finish(_ sweep: SweepPlan, outcomes: [Int: Outcome]) async throws -> Int32 {
        var failed: [String] = []
        var firstStatus: Int32 = 0
        var firstError: (any Error)?
        for position in outcomes.keys.sorted() {
            let index = sweep.points[position].index
            switch outcomes[position] {
            case .finished(0)?, nil: break
            case .finished(let status)?:
                failed.append("\(index) (exit status \(status))")
                if firstStatus == 0 { firstStatus = status }
            case .failed(let error)?:
                failed.append("\(index) (\(error))")
                if firstError == nil { firstError = error }
            }
        }
        let count = sweep.plans.count
        let succeeded = outcomes.count - failed.count
        var line = "mrun: sweep \(sweep.id): "
        line +=
            failed.isEmpty && outcomes.count == count
            ? "all \(count) points finished" : "\(succeeded) of \(count) points finished"
        if !failed.isEmpty { line += "; failed: \(failed.joined(separator: ", "))" }
        if outcomes.count < count { line += "; not started: \(count - outcomes.count) (interrupted)" }
        await sink.standardError(Array((line + "\n").utf8))
        if let firstError { throw firstError }
        return firstStatus
    }
}

/// Passes output on with `prefix` at the start of every line, so that points running at once (or
/// a gang's nodes) can be told apart. Holds back a partial line until it ends (or grows past
/// `maximumLine`). Without `prefixesErrors`, standard error (mrun's own notes) passes unchanged.
final class PrefixedSink: OutputSink {
    let base: any OutputSink
    let prefix: [UInt8]
    let prefixesErrors: Bool
    static var maximumLine: Int { 16 * 1024 }
    private let pending = Mutex<[[UInt8]]>([[], []])

    init(base: any OutputSink, prefix: String, prefixesErrors: Bool = true) {
        self.base = base
        self.prefix = Array(prefix.utf8)
        self.prefixesErrors = prefixesErrors
    }

    func standardOutput(_ bytes: [UInt8]) async {
        let lines = complete(bytes, stream: 0)
        if !lines.isEmpty { await base.standardOutput(lines) }
    }

    func standardError(_ bytes: [UInt8]) async {
        guard prefixesErrors else { return await base.standardError(bytes) }
        let lines = complete(bytes, stream: 1)
        if !lines.isEmpty { await base.standardError(lines) }
    }

    /// Passes on what is left of unfinished lines, ending them.
    func flush() async {
        let rest = pending.withLock { buffers in
            defer { buffers = [[], []] }
            return buffers.map { $0.isEmpty ? [] : prefix + $0 + [0x0A] }
        }
        if !rest[0].isEmpty { await base.standardOutput(rest[0]) }
        if !rest[1].isEmpty { await base.standardError(rest[1]) }
    }

    /// The complete lines in the stream's buffer plus `bytes`, prefixed; keeps the rest.
    private func complete(_ bytes: [UInt8], stream: Int) -> [UInt8] {
        pending.withLock { buffers in
            buffers[stream] += bytes
            let buffer = buffers[stream]
            let end: Int
            if let newline = buffer.lastIndex(of: 0x0A) {
                end = newline + 1
            } else if buffer.count > Self.maximumLine {
                end = buffer.count
            } else {
                return []
            }
            var output: [UInt8] = []
            for line in buffer[..<end].split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
                output += prefix + line + [0x0A]
            }
            if end == buffer.count && buffer.last != 0x0A { output += prefix + buffer + [0x0A] }
            buffers[stream] = Array(buffer[end...])
            return output
        }
    }
}
