import Dispatch
import Foundation
import Synchronization

/// (Unchecked: its sources are only read after init, and cancelling one is thread-safe.)
/// While it lives, SIGINT and SIGTERM run `action` instead of ending mrun, so that what mrun made
/// on a cluster (a fetch's pods) can be removed before it exits; `stop()` restores what the
/// process did with them before.
final class InterruptWatch: @unchecked Sendable {
    private static let signals = [SIGINT, SIGTERM]
    private let sources: [any DispatchSourceSignal]
    private let previous: [sigaction]
    private let firedFlag = Atomic<Bool>(false)

    init(action: @escaping @Sendable () -> Void) {
        var previous: [sigaction] = []
        for number in Self.signals {
            var ignore = sigaction()
            ignore.__sigaction_handler.sa_handler = SIG_IGN
            var old = sigaction()
            sigaction(number, &ignore, &old)
            previous.append(old)
        }
        self.previous = previous
        sources = Self.signals.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        for source in sources {
            source.setEventHandler { [self] in
                firedFlag.store(true, ordering: .relaxed)
                action()
            }
            source.resume()
        }
    }

    var fired: Bool { firedFlag.load(ordering: .relaxed) }

    func stop() {
        for source in sources { source.cancel() }
        for (number, old) in zip(Self.signals, previous) {
            var restored = old
            sigaction(number, &restored, nil)
        }
    }
}
