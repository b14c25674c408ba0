import MrunKit
import Testing

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#endif

#if canImport(Darwin)
    /// `si_code` of a signal the kernel raised itself, as for a key typed at the terminal.
    let kernelSenderCode: Int32 = 0
    let userSenderCode = SI_USER
    let queuedSenderCode = SI_QUEUE
    let threadKillSenderCode = SI_USER
#else
    let kernelSenderCode: Int32 = 0x80  // SI_KERNEL
    let userSenderCode: Int32 = 0  // SI_USER
    let queuedSenderCode: Int32 = -1  // SI_QUEUE
    let threadKillSenderCode: Int32 = -6  // SI_TKILL
#endif

@Suite("SignalForwarder decisions")
struct SignalForwarderTests {
    @Test(arguments: [userSenderCode, queuedSenderCode, threadKillSenderCode])
    func interruptSentByAProcessIsForwarded(senderCode: Int32) {
        #expect(SignalForwarder.shouldForward(signal: SIGINT, senderCode: senderCode))
    }

    @Test func interruptFromTheTerminalIsNotForwarded() {
        #expect(!SignalForwarder.shouldForward(signal: SIGINT, senderCode: kernelSenderCode))
    }

    @Test(arguments: [SIGTERM, SIGHUP])
    func terminationAndHangupAreAlwaysForwarded(signal: Int32) {
        #expect(SignalForwarder.shouldForward(signal: signal, senderCode: userSenderCode))
        #expect(SignalForwarder.shouldForward(signal: signal, senderCode: kernelSenderCode))
    }

    @Test(arguments: [SIGQUIT, SIGUSR1, SIGCHLD])
    func otherSignalsAreNotForwarded(signal: Int32) {
        #expect(!SignalForwarder.shouldForward(signal: signal, senderCode: userSenderCode))
    }

    @Test func forwardedSignalsAreInterruptTerminateAndHangup() {
        #expect(SignalForwarder.forwardedSignals == [SIGINT, SIGTERM, SIGHUP])
    }

    @Test func noProcessIsSignalledWithoutAChildPid() {
        // pid 0 would signal the whole process group, -1 every process we may signal.
        #expect(!SignalForwarder.forward(signal: SIGTERM, senderCode: userSenderCode, to: 0))
        #expect(!SignalForwarder.forward(signal: SIGTERM, senderCode: userSenderCode, to: -1))
    }
}
