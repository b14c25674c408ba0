import MrunSupport
import MrunConfig

/// Why launching on or following an ssh host failed, as one line naming the host. ssh's own
/// failures (unreachable, refused key, host key) and failed copies are ``SlurmError``'s, which
/// ``SSHSession`` and ``CodeShipper`` throw for both backends.
public enum SSHError: UserFacingError, Equatable {
    case pythonMissing(host: String, python: String)
    case programMissing(host: String, program: String)
    case directoryUnwritable(host: String, path: String)
    case noFreeSlot(hosts: [String])
    case unexpectedOutput(host: String, step: String, output: String)
    case startFailed(host: String, detail: String)
    case unplaced(launch: String)
    case noHostReachable(hosts: [String])
    case diskFull(host: String, path: String, needed: Int, free: Int)

    public var description: String {
        switch self {
        case .pythonMissing(let host, let python):
            return "\(python) not found on \(host) after the context's setup lines; set 'python' to the"
                + " interpreter there, or activate an environment in 'setup'"
        case .programMissing(let host, let program):
            return "\(program) not found on \(host) (not on the PATH of a non-interactive ssh session);"
                + " mrun needs it to start experiments detached"
        case .directoryUnwritable(let host, let path):
            return "cannot create \(path) on \(host); set the context's 'workdir' to a writable directory"
        case .noFreeSlot(let hosts):
            return "no usable GPU on \(hosts.joined(separator: ", ")) (the memory of each is used by something"
                + " other than mrun); wait for it to end, or list the GPUs to use with 'gpus'"
        case .unexpectedOutput(let host, let step, let output):
            return "\(step) on \(host) printed something unexpected: \(quoted: output)"
        case .startFailed(let host, let detail):
            return "starting the experiment on \(host) failed: \(detail)"
        case .noHostReachable(let hosts):
            return "none of the hosts \(hosts.joined(separator: ", ")) could be reached over ssh; nothing started"
        case .diskFull(let host, let path, let needed, let free):
            return "not enough space for the code on \(host) (\(path)): \(needed) bytes needed, \(free) free;"
                + " free some space or set 'workdir' to another disk"
        case .unplaced(let launch):
            return "launch \(launch) was never placed on a host (mrun stopped before it started)"
        }
    }
}
