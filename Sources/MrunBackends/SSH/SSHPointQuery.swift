import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunHistory

/// What a host tells of its points in one round trip: each point's state from the files in its
/// directory (`pid`, `exit-code`, `gpus`, `boot-id`, `cancelled`) and whether its process runs.
struct SSHPointState: Sendable, Equatable {
    enum Phase: String, Sendable {
        case queued, running, ended, lost, missing
    }

    var phase: Phase
    var exitCode: Int32?
    var cancelled: Bool
    var pid: Int?
    var gpus: String

    var state: JobState {
        switch phase {
        case .queued: return .submitted
        case .running: return .running
        case .ended where exitCode == 0: return .completed
        case .ended: return cancelled ? .cancelled : .failed
        case .lost, .missing: return cancelled ? .cancelled : .unknown
        }
    }

    /// One line: `COMPLETED, exit code 0`, `RUNNING`, `QUEUED`, `LOST (…)`.
    var summary: String {
        switch phase {
        case .queued: return "QUEUED (waits in the host's runner for a free slot)"
        case .running: return "RUNNING"
        case .ended:
            let code = exitCode ?? 0
            if state == .cancelled && code > 128 { return "CANCELLED, signal \(code - 128)" }
            return "\(state.rawValue.uppercased()), exit code \(code)"
        case .lost where cancelled, .missing where cancelled: return "CANCELLED"
        case .lost:
            return "LOST (its process is gone without an exit code: the host rebooted or it was killed;"
                + " 'mrun resume' starts it again)"
        case .missing: return "LOST (its directory on the host is gone)"
        }
    }

    init(phase: Phase, exitCode: Int32?, cancelled: Bool, pid: Int?, gpus: String) {
        self.phase = phase
        self.exitCode = exitCode
        self.cancelled = cancelled
        self.pid = pid
        self.gpus = gpus
    }

    /// A line `mrun-point|PHASE|CODE|CANCELLED|PID|GPUS` of ``SSHPointQuery/command(_:)``.
    init?(line: Substring) {
        let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 6, fields[0] == "mrun-point", let phase = Phase(rawValue: fields[1]) else { return nil }
        self.init(
            phase: phase, exitCode: Int32(fields[2]), cancelled: fields[3] == "1", pid: Int(fields[4]),
            gpus: fields[5])
    }
}

enum SSHPointQuery {
    /// Shell functions the queries share: whether a process runs (a zombie does not), and this
    /// boot's id, so that a pid from before a reboot is not taken for a live point.
    static let functions = """
        mrun_boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
        mrun_alive() {
          [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
          if [ -r "/proc/$1/stat" ]; then
            case $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) in Z | X) return 1 ;; esac
          fi
          return 0
        }
        """

    /// The command printing one `mrun-point|…` line per directory, in order. A point without a
    /// pid is queued while the host's runner runs and has it in its queue (a later launch's
    /// runner in the same directory does not run an earlier one's points).
    static func command(_ directories: [String]) -> String {
        let quoted = directories.map(TemplateFilters.shellQuote).joined(separator: " ")
        return functions + "\n" + """
            for mrun_dir in \(quoted); do
              mrun_pid=$(cat "$mrun_dir/pid" 2>/dev/null)
              mrun_gpus=$(cat "$mrun_dir/gpus" 2>/dev/null)
              mrun_code=
              if [ -f "$mrun_dir/exit-code" ]; then
                mrun_phase=ended
                mrun_code=$(cat "$mrun_dir/exit-code")
              elif [ ! -d "$mrun_dir" ]; then
                mrun_phase=missing
              elif [ -n "$mrun_pid" ]; then
                if [ "$(cat "$mrun_dir/boot-id" 2>/dev/null)" = "$mrun_boot" ] && mrun_alive "$mrun_pid"; then
                  mrun_phase=running
                else
                  mrun_phase=lost
                fi
              elif mrun_alive "$(cat "$mrun_dir/../../runner.pid" 2>/dev/null)" \\
                && grep -qxF -- "${mrun_dir##*/}" "$mrun_dir/../../queue" 2>/dev/null; then
                mrun_phase=queued
              else
                mrun_phase=lost
              fi
              mrun_cancelled=0
              [ -e "$mrun_dir/cancelled" ] && mrun_cancelled=1
              printf 'mrun-point|%s|%s|%s|%s|%s\\n' "$mrun_phase" "$mrun_code" "$mrun_cancelled" "$mrun_pid" "$mrun_gpus"
            done
            """
    }

    /// Stops the point in `directory`: marks it cancelled (so its runner never starts it), then
    /// signals its whole process group, TERM and, after `patience` seconds, KILL.
    static func cancel(_ directory: String, patience: Int) -> String {
        let quoted = TemplateFilters.shellQuote(directory)
        return functions + "\n" + """
            mrun_dir=\(quoted)
            : > "$mrun_dir/cancelled" || exit 1
            [ -f "$mrun_dir/exit-code" ] && exit 0
            mrun_pid=$(cat "$mrun_dir/pid" 2>/dev/null)
            mrun_alive "$mrun_pid" || exit 0
            kill -TERM -- "-$mrun_pid" 2>/dev/null
            mrun_wait=0
            while mrun_alive "$mrun_pid" && [ "$mrun_wait" -lt \(patience * 10) ]; do
              sleep 0.1
              mrun_wait=$((mrun_wait + 1))
            done
            mrun_alive "$mrun_pid" && kill -KILL -- "-$mrun_pid" 2>/dev/null
            sleep 0.2
            mrun_alive "$mrun_pid" && exit 3
            exit 0
            """
    }
}
