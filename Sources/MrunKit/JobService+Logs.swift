import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

/// Logs that outlive their jobs: when mrun learns that a launch ended (`list`, `wait`, `status`,
/// `logs`, `cancel`), it saves the launch's whole output (``SavedLogs``), which `mrun logs` shows
/// once the backend has none any more.
extension JobService {
    public var savedLogs: SavedLogs { SavedLogs(home: store.home, runner: environment.runner) }

    /// Saves the output of those of `launches` that have ended and have none saved yet, read from
    /// their backends, at most ``concurrency`` at once. A log the backend cannot give any more stays
    /// unsaved, quietly: there is nothing left to keep.
    public func saveLogs(of launches: [LaunchRecord]) async {
        let logs = savedLogs
        let ended = launches.filter { $0.state.isFinal && $0.jobId != nil && logs.file(of: $0.id) == nil }
        guard !ended.isEmpty else { return }
        let controls = self.controls(for: ended)
        _ = await BoundedConcurrency.map(ended, limit: concurrency) { _, launch in
            guard let control = controls[launch.contextName] else { return }
            let capture = CollectingSink()
            guard (try? await control.logs(launch, follow: false, sink: capture)) != nil else { return }
            await self.saveLog(await capture.output, of: launch)
        }
    }

    /// One control per context of `launches` (a context that cannot give one is left out): a
    /// control per launch would read its context file again for each.
    func controls(for launches: [LaunchRecord]) -> [String: any JobControl] {
        var controls: [String: any JobControl] = [:]
        for launch in launches where controls[launch.contextName] == nil {
            controls[launch.contextName] = try? control(for: launch)
        }
        return controls
    }

    /// Saves `bytes` as `launch`'s output; a failure is a warning, never the command's error.
    public func saveLog(_ bytes: [UInt8], of launch: LaunchRecord) async {
        do {
            try await savedLogs.save(bytes, of: launch.id)
        } catch {
            environment.warn("\(error)")
        }
    }

    /// The launch's saved output, nil when none was saved (or it cannot be read).
    public func savedLog(of launch: LaunchRecord) async -> [UInt8]? {
        try? await savedLogs.read(launch.id)
    }

    /// The last `count` lines of `bytes`.
    public static func tail(_ bytes: [UInt8], lines count: Int) -> [UInt8] {
        var newlines = 0
        var index = bytes.endIndex
        if bytes.last == UInt8(ascii: "\n") { index -= 1 }
        while index > bytes.startIndex {
            if bytes[index - 1] == UInt8(ascii: "\n") {
                newlines += 1
                if newlines == count { break }
            }
            index -= 1
        }
        return Array(bytes[index...])
    }
}

/// Collects what is written to standard output; notes (standard error) are dropped.
public actor CollectingSink: OutputSink {
    public private(set) var output: [UInt8] = []

    public init() {}

    public func standardOutput(_ bytes: [UInt8]) async { output += bytes }
    public func standardError(_ bytes: [UInt8]) async {}
}

/// Passes everything on to `sink` and keeps a copy of standard output.
public actor TeeSink: OutputSink {
    public let sink: any OutputSink
    public private(set) var output: [UInt8] = []

    public init(_ sink: any OutputSink) { self.sink = sink }

    public func standardOutput(_ bytes: [UInt8]) async {
        output += bytes
        await sink.standardOutput(bytes)
    }

    public func standardError(_ bytes: [UInt8]) async { await sink.standardError(bytes) }
}
