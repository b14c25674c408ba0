import Foundation
import Synchronization

/// Where a launch's wall-clock time goes, for `MRUN_PROFILE=1`: each phase's end as one line on
/// standard error, `mrun: profile: 12.3 ms (+4.1) namespace`, since the first mark (the command's
/// start, after the dynamic loader) and since the previous mark. Off, a mark costs one lock.
public enum PhaseProfile {
    private struct State {
        var enabled: Bool?
        var first: UInt64 = 0
        var last: UInt64 = 0
    }

    private static let state = Mutex(State())

    /// Notes that `phase` has just ended.
    public static func mark(_ phase: @autoclosure () -> String) {
        let line: String? = state.withLock { state in
            let enabled = state.enabled ?? (ProcessInfo.processInfo.environment["MRUN_PROFILE"] == "1")
            state.enabled = enabled
            guard enabled else { return nil }
            let now = DispatchTime.now().uptimeNanoseconds
            if state.first == 0 {
                state.first = now
                state.last = now
            }
            defer { state.last = now }
            let total = Double(now - state.first) / 1e6
            let step = Double(now - state.last) / 1e6
            return "mrun: profile: \(String(format: "%.1f", total)) ms (+\(String(format: "%.1f", step))) \(phase())\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }
}
