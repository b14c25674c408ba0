import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the image step reports progress.
public enum ImageProgressStyle: Sendable, Equatable {
    /// One live line per build step, redrawn in place; for a terminal `width` columns wide.
    case terminal(width: Int)
    /// docker's own lines as they come, for logs and CI.
    case plain

    /// `terminal` when mrun's standard error is a terminal, else `plain`.
    public static var automatic: ImageProgressStyle {
        guard isatty(STDERR_FILENO) != 0 else { return .plain }
        var size = winsize()
        let columns = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 ? Int(size.ws_col) : 0
        return .terminal(width: columns > 20 ? columns : 80)
    }
}

/// One `Step N/M : INSTRUCTION` of a classic-builder build.
public struct BuildStep: Sendable, Equatable {
    public var number: Int
    public var total: Int
    public var instruction: String
    /// docker reused the layer from its build cache (`---> Using cache`).
    public var cached: Bool

    /// docker's own line for the step.
    public var line: String { "Step \(number)/\(total) : \(instruction)" }
}

/// Shows docker's build and push output to the user and keeps what a failure report needs: the
/// steps, the last lines of the current step, and docker's error lines.
actor ImageProgress<Sink: OutputSink> {
    static var tailLength: Int { 15 }

    private let sink: Sink
    private let style: ImageProgressStyle
    private(set) var steps: [BuildStep] = []
    /// The last lines since the current step (or command) began.
    private(set) var tail: [String] = []
    /// Standard error of the current command, for recognising daemon failures.
    private(set) var errors: [String] = []
    private(set) var pushedDigest: String?
    /// The live line's fixed part on a terminal; nil when no line is open.
    private var liveHeader: String?
    private var skippingNotice = false
    private var layers: [String: Bool] = [:]

    init(sink: Sink, style: ImageProgressStyle) {
        self.sink = sink
        self.style = style
    }

    /// mrun's own line, e.g. "mrun: building image …".
    func note(_ text: String) async {
        await closeLiveLine()
        await write(text + "\n")
    }

    /// Forgets the previous command's lines before the next one starts.
    func begin() async {
        await closeLiveLine()
        tail = []
        errors = []
    }

    func build(_ line: String, from stream: OutputStream) async {
        guard !isLegacyBuilderNotice(line) else { return }
        if let step = Self.step(in: line) {
            // Closed first: closing marks the previous step cached or not.
            await closeLiveLine()
            steps.append(step)
            tail = []
            if case .terminal = style {
                liveHeader = line
                await redraw(line)
            }
        }
        record(line, from: stream)
        if line.hasPrefix(" ---> Using cache"), !steps.isEmpty {
            steps[steps.count - 1].cached = true
        }
        switch style {
        case .plain:
            await write(line + "\n")
        case .terminal:
            if let header = liveHeader, Self.isBuildDetail(line) {
                await redraw(header + " │ " + line.trimmingCharacters(in: .whitespaces))
            }
        }
    }

    func push(_ line: String, from stream: OutputStream) async {
        record(line, from: stream)
        if let range = line.range(of: ": digest: sha256:") {
            pushedDigest = "sha256:" + line[range.upperBound...].prefix { !$0.isWhitespace }
        }
        let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2, parts[0].count == 12, parts[0].allSatisfy(\.isHexDigit) {
            let done = ["Pushed", "Layer already exists"].contains(parts[1]) || parts[1].hasPrefix("Mounted from")
            layers[parts[0], default: false] = layers[parts[0], default: false] || done
        }
        switch style {
        case .plain:
            await write(line + "\n")
        case .terminal:
            let done = layers.values.filter { $0 }.count
            liveHeader = "Pushing"
            let layer = parts.count == 2 && layers[parts[0]] != nil ? "layer \(parts[0]) \(parts[1]), " : ""
            await redraw("Pushing \(layer)\(done)/\(layers.count) layers done")
        }
    }

    /// Ends the live line on a terminal, marking a cached build step.
    func closeLiveLine() async {
        guard let header = liveHeader else { return }
        liveHeader = nil
        let suffix = header == steps.last?.line && steps.last?.cached == true ? " (cached)" : ""
        let text =
            header == "Pushing" ? "Pushed \(layers.count) layers" : truncated(header, reserving: suffix.count) + suffix
        await write("\r\u{1B}[K" + text + "\n")
    }

    private func record(_ line: String, from stream: OutputStream) {
        // Blank lines and docker's bookkeeping would crowd the reason out of a short failure report.
        if !line.trimmingCharacters(in: .whitespaces).isEmpty, !line.hasPrefix(" ---> "),
            !line.hasPrefix("Removing intermediate container")
        {
            tail.append(line)
            if tail.count > Self.tailLength { tail.removeFirst(tail.count - Self.tailLength) }
        }
        if stream == .standardError {
            errors.append(line)
            if errors.count > 100 { errors.removeFirst(errors.count - 100) }
        }
    }

    /// mrun uses the classic builder on purpose, so docker's notice that it is deprecated is noise:
    /// a `DEPRECATED:` line and its indented continuation, up to a blank line.
    private func isLegacyBuilderNotice(_ line: String) -> Bool {
        if line.hasPrefix("DEPRECATED: The legacy builder") {
            skippingNotice = true
            return true
        }
        guard skippingNotice else { return false }
        if line.isEmpty { skippingNotice = false }
        if line.first?.isWhitespace == true || line.isEmpty { return true }
        skippingNotice = false
        return false
    }

    private func redraw(_ text: String) async {
        await write("\r\u{1B}[K" + truncated(text))
    }

    /// Shorter than the terminal is wide, so that a redraw never wraps onto a second line.
    private func truncated(_ text: String, reserving reserved: Int = 0) -> String {
        guard case .terminal(let width) = style, text.count + reserved >= width else { return text }
        return String(text.prefix(max(width - 2 - reserved, 1))) + "…"
    }

    private func write(_ text: String) async {
        await sink.standardError(Array(text.utf8))
    }

    /// docker's bookkeeping lines carry nothing a user watching the build needs.
    private static func isBuildDetail(_ line: String) -> Bool {
        let noise = [" ---> ", "Removing intermediate container", "Sending build context", "Successfully "]
        return !line.trimmingCharacters(in: .whitespaces).isEmpty && !noise.contains { line.hasPrefix($0) }
            && step(in: line) == nil
    }

    static func step(in line: String) -> BuildStep? {
        guard line.hasPrefix("Step "), let separator = line.range(of: " : ") else { return nil }
        let counts = line[line.index(line.startIndex, offsetBy: 5)..<separator.lowerBound].split(separator: "/")
        guard counts.count == 2, let number = Int(counts[0]), let total = Int(counts[1]) else { return nil }
        return BuildStep(
            number: number, total: total, instruction: String(line[separator.upperBound...]), cached: false)
    }
}
