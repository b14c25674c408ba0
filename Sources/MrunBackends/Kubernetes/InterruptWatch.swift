import Dispatch
import Foundation
import Synchronization

/// (Unchecked: its sources are only read after init, and cancelling one is thread-safe.)
/// While it lives, SIGINT and SIGTERM run `action` instead of ending mrun, so that what mrun made
/// on a cluster (a fetch's pods) can be removed before it exits; `stop()` restores the defaults.
final class InterruptWatch: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let firedFlag = Atomic<Bool>(false)

    init(action: @escaping @Sendable () -> Void) {
        let signals = [SIGINT, SIGTERM]
        for number in signals { signal(number, SIG_IGN) }
        var made: [any DispatchSourceSignal] = []
        for number in signals {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            made.append(source)
        }
        sources = made
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
        for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) }
    }
}
