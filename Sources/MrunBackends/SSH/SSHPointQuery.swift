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
        case .queued: return cancelled ? .cancelled : .submitted
        case .running: return .running
        case .ended where exitCode == 0: return .completed
        case .ended: return cancelled ? .cancelled : .failed
        case .lost, .missing: return cancelled ? .cancelled : .unknown
        }
    }

    /// One line: `COMPLETED, exit code 0`, `RUNNING`, `QUEUED`, `LOST (…)`.
    var summary: String {
        switch phase {
        case .queued where cancelled: return "CANCELLED (before it started)"
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

/// The scripts the job commands run on a host, rendered from `templates` (the context's templates
/// directory, mrun's, then the built-in ones): the state of its launches, and cancel.
enum SSHPointQuery {
    static func render(_ name: TemplateSet.Name, _ variables: [String: any Sendable], templates: TemplateSet) throws
        -> String
    {
        try TemplateRenderer().render(templates.source(name), with: variables)
    }

    /// The script printing one `mrun-point|…` line per directory, in order (`ssh-status.sh`).
    static func command(_ directories: [String], templates: TemplateSet = TemplateSet(searchPath: [])) throws -> String
    {
        try render(.sshStatus, ["directories": directories], templates: templates)
    }

    /// Stops the point in `directory` (`ssh-cancel.sh`): TERM to its group, KILL after `patience` s.
    static func cancel(_ directory: String, patience: Int, templates: TemplateSet = TemplateSet(searchPath: []))
        throws -> String
    {
        try render(
            .sshCancel, ["directory": directory, "patience": patience, "patience_tenths": patience * 10],
            templates: templates)
    }
}
