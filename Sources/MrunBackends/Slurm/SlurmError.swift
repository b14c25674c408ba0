import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Why talking to a Slurm cluster failed, as one line naming the host and what to do.
public enum SlurmError: UserFacingError, Equatable {
    public enum SSHProblem: Sendable, Equatable {
        case unreachable, authenticationRefused, hostKey, other
    }

    case notSlurmContext(name: String, type: ContextType)
    case ssh(host: String, problem: SSHProblem, detail: String)
    case programMissing(host: String, program: String)
    case jobDirectoryUnwritable(host: String, path: String, detail: String)
    case transferFailed(host: String, tool: String, detail: String)
    case submissionRejected(host: String, detail: String)
    case remoteCommandFailed(host: String, command: String, detail: String)
    case invalidJobID(String)
    case unknownJob(host: String, id: String)
    case cancelNotConfirmed(host: String, id: String, state: String)

    public var description: String {
        switch self {
        case .notSlurmContext(let name, let type):
            return "context \(quoted: name) is of type \(type.rawValue); this command works on slurm contexts"
                + " (choose one with --context)"
        case .ssh(let host, let problem, let detail):
            let reason = detail.isEmpty ? "ssh failed" : detail
            switch problem {
            case .unreachable:
                return "cannot reach \(host) over ssh: \(reason); check the host name, port and network"
            case .authenticationRefused:
                return "\(host) refused the ssh login: \(reason); check identity_file, your ssh agent"
                    + " and the user name"
            case .hostKey:
                return "ssh could not verify the host key of \(host): \(reason); connect once with"
                    + " 'ssh \(host)' to check and accept it"
            case .other:
                return "ssh to \(host) failed: \(reason)"
            }
        case .programMissing(let host, let program) where host == LocalShell.displayName:
            return "\(program) not found on the PATH of \(host); is this the cluster's login node?"
                + " (login_node: true runs Slurm commands here, without ssh)"
        case .programMissing(let host, let program):
            return "\(program) not found on \(host) (not on the PATH of a non-interactive ssh session);"
                + " is Slurm installed there?"
        case .jobDirectoryUnwritable(let host, let path, let detail):
            return "cannot create the job directory \(path) on \(host): \(detail); set the context's"
                + " 'workdir' to a writable directory"
        case .transferFailed(let host, let tool, let detail) where detail.contains("No space left on device"):
            return "the disk on \(host) is full: copying the code with \(tool) failed: \(detail); free space there,"
                + " or set the context's 'workdir' to a disk with room"
        case .transferFailed(let host, let tool, let detail):
            return "copying the code to \(host) with \(tool) failed: \(detail)"
        case .submissionRejected(let host, let detail):
            return "sbatch on \(host) rejected the job: \(detail)"
        case .remoteCommandFailed(let host, let command, let detail):
            return "\(command) on \(host) failed: \(detail)"
        case .invalidJobID(let id):
            return "\(quoted: id) is not a Slurm job id; give the number 'mrun run' printed, or ID_INDEX for a"
                + " sweep's point (see 'mrun list')"
        case .unknownJob(let host, let id):
            return "no job \(id) on \(host) (Slurm may have forgotten it already; see 'mrun list')"
        case .cancelNotConfirmed(let host, let id, let state):
            return "job \(id) on \(host) is still \(state) after scancel; try again or ask the admins"
        }
    }
}
