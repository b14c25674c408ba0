import Synchronization

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Passes SIGINT, SIGTERM and SIGHUP that reach mrun on to the experiments it is running, so that
/// `kill <mrun pid>` stops the experiment cleanly and mrun stays alive to report its exit status.
///
/// SIGINT typed at a terminal already reaches the whole foreground process group, the child
/// included, so it is forwarded only when someone sent it with `kill()`; forwarding it as well would
/// interrupt the child twice (Python's second `KeyboardInterrupt` aborts the cleanup of the first).
///
/// The handler only reads atomics and calls `kill()`, which keeps it async-signal-safe.
public enum SignalForwarder {
    /// The signals mrun passes on while a child runs.
    public static let forwardedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Whether a signal that reached mrun should be sent on to the child.
    ///
    /// - Parameter senderCode: The `si_code` the kernel reported for the signal.
    public static func shouldForward(signal: Int32, senderCode: Int32) -> Bool {
        switch signal {
        case SIGINT: isSentByProcess(senderCode: senderCode)
        case SIGTERM, SIGHUP: true
        default: false
        }
    }

    /// What the installed handler does for one child: applies ``shouldForward(signal:senderCode:)``
    /// and, if it says yes, sends `signal` to `pid`.
    ///
    /// - Returns: Whether the signal was sent.
    @discardableResult
    public static func forward(signal: Int32, senderCode: Int32, to pid: pid_t) -> Bool {
        guard pid > 0, shouldForward(signal: signal, senderCode: senderCode) else { return false }
        return kill(pid, signal) == 0
    }

    /// Whether mrun's handlers are currently installed (some child is being forwarded to).
    public static var isInstalled: Bool {
        installation.withLock { $0.activeCount > 0 }
    }

    /// True when `kill()`, `sigqueue()` or `tgkill()` raised the signal, false when the kernel
    /// did on its own (as for a key typed at the terminal).
    static func isSentByProcess(senderCode: Int32) -> Bool {
        #if canImport(Darwin)
            senderCode == SI_USER || senderCode == SI_QUEUE
        #else
            // SI_USER is 0, SI_QUEUE and SI_TKILL are negative; SI_KERNEL (0x80) and the
            // fault codes are positive.
            senderCode <= 0
        #endif
    }

    /// Claims a forwarding slot for a child about to start, installing the handlers if no other
    /// child is being forwarded to.
    static func begin() throws -> ForwardingRegistration {
        try installation.withLock { state in
            guard let slot = reserveSlot() else {
                throw ProcessError.launchFailed(
                    program: "mrun",
                    reason: "more than \(slotCount) experiments are already running in this mrun process."
                )
            }
            if state.activeCount == 0 {
                pendingSignal.store(0, ordering: .sequentiallyConsistent)
                state.previousActions = installHandlers()
            }
            state.activeCount += 1
            return ForwardingRegistration(slot: slot)
        }
    }

    fileprivate static func end(slot: Int) {
        installation.withLock { state in
            childSlots[slot].store(freeSlot, ordering: .sequentiallyConsistent)
            state.activeCount -= 1
            if state.activeCount == 0 {
                restoreHandlers(state.previousActions)
                state.previousActions = [:]
            }
        }
    }

    private static func reserveSlot() -> Int? {
        for slot in 0..<slotCount {
            let (claimed, _) = childSlots[slot].compareExchange(
                expected: freeSlot,
                desired: reservedSlot,
                ordering: .sequentiallyConsistent
            )
            if claimed { return slot }
        }
        return nil
    }

    private static func installHandlers() -> [Int32: sigaction] {
        var previousActions: [Int32: sigaction] = [:]
        for signal in forwardedSignals {
            var action = sigaction()
            #if canImport(Darwin)
                action.__sigaction_u.__sa_sigaction = handleSignal
            #else
                action.__sigaction_handler.sa_sigaction = handleSignal
            #endif
            // SA_RESTART so that mrun's own blocking calls carry on instead of failing with EINTR.
            action.sa_flags = SA_SIGINFO | SA_RESTART
            sigemptyset(&action.sa_mask)
            var previous = sigaction()
            if sigaction(signal, &action, &previous) == 0 {
                previousActions[signal] = previous
            }
        }
        return previousActions
    }

    private static func restoreHandlers(_ previousActions: [Int32: sigaction]) {
        for (signal, action) in previousActions {
            var action = action
            sigaction(signal, &action, nil)
        }
    }
}

/// One child's claim on the signal forwarder; ``end()`` it once the child has been reaped.
struct ForwardingRegistration: Sendable {
    fileprivate let slot: Int

    /// Starts forwarding to `pid`, including any signal that arrived while it was being spawned.
    func track(_ pid: pid_t) {
        childSlots[slot].store(pid, ordering: .sequentiallyConsistent)
        let pending = pendingSignal.exchange(0, ordering: .sequentiallyConsistent)
        if pending != 0 {
            kill(pid, pending)
        }
    }

    func end() {
        SignalForwarder.end(slot: slot)
    }
}

// MARK: - State shared with the signal handler

private struct InstallationState {
    var activeCount = 0
    var previousActions: [Int32: sigaction] = [:]
}

private let installation = Mutex(InstallationState())

private let slotCount = 64
private let freeSlot: pid_t = 0
/// A slot whose child is being spawned and has no pid yet.
private let reservedSlot: pid_t = -1

/// Child pids the handler forwards to. A fixed table of atomics because the handler may not
/// allocate or lock; it is allocated once and never freed.
nonisolated(unsafe) private let childSlots: UnsafeMutablePointer<Atomic<pid_t>> = {
    let slots = UnsafeMutablePointer<Atomic<pid_t>>.allocate(capacity: slotCount)
    for slot in 0..<slotCount {
        (slots + slot).initialize(to: Atomic(freeSlot))
    }
    return slots
}()

/// A signal that arrived while a child was still being spawned, delivered once its pid is known.
private let pendingSignal = Atomic<Int32>(0)

private func handleSignal(
    _ signal: Int32,
    _ info: UnsafeMutablePointer<siginfo_t>?,
    _ context: UnsafeMutableRawPointer?
) {
    let savedErrno = errno
    defer { errno = savedErrno }
    let senderCode = info?.pointee.si_code ?? 0
    var childIsStarting = false
    for slot in 0..<slotCount {
        let pid = childSlots[slot].load(ordering: .sequentiallyConsistent)
        if pid == reservedSlot {
            childIsStarting = true
        } else {
            SignalForwarder.forward(signal: signal, senderCode: senderCode, to: pid)
        }
    }
    if childIsStarting && SignalForwarder.shouldForward(signal: signal, senderCode: senderCode) {
        pendingSignal.store(signal, ordering: .sequentiallyConsistent)
    }
}
