import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI
import MrunBackends

/// How `mrun list`, `show` and `status` print launches.
public enum LaunchPrinter {
    /// `mrun list`: a header and one line per launch.
    /// With `attempts` (a sweep's points, each its latest launch), a column of how many launches
    /// each point has had.
    public static func table(_ launches: [LaunchRecord], attempts: [String: Int]? = nil) -> String {
        let rows =
            [["ID", "NAME", "CONTEXT", "STATE", "JOB", "CREATED"] + (attempts == nil ? [] : ["ATTEMPTS"])]
            + launches.map { launch in
                [
                    launch.id, launch.experimentName, launch.contextName, stateText(launch), launch.jobId ?? "-",
                    String(HistoryDate.text(launch.created).prefix(19)),
                ] + (attempts.map { [String($0[launch.id] ?? 1)] } ?? [])
            }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }

    /// `COMPLETED, exit code 0`, `FAILED, exit code 3`, `RUNNING`: how `mrun wait` reports an end.
    public static func summary(_ launch: LaunchRecord) -> String {
        JobStatus(recorded: launch).summary
    }

    /// The status `mrun wait` ends with for a launch: 0 when it completed, else its exit code, or
    /// 1 without one.
    public static func waitStatus(_ launch: LaunchRecord) -> Int32 {
        JobStatus(state: launch.state, exitCode: launch.exitCode, summary: "", details: "").waitStatus
    }

    /// `completed`, `failed (3)`, `cancelled (143)`.
    static func stateText(_ launch: LaunchRecord) -> String {
        guard launch.state.isFinal, launch.state != .completed, let code = launch.exitCode else {
            return launch.state.rawValue
        }
        return "\(launch.state.rawValue) (\(code))"
    }

    /// Launches as a JSON array (without their file lists; `mrun show --output json` has them).
    public static func json(_ launches: [LaunchRecord]) throws -> String {
        String(decoding: try encoder.encode(launches), as: UTF8.self) + "\n"
    }

    /// One launch with everything recorded, files included, as JSON.
    public static func json(_ launch: LaunchRecord) throws -> String {
        String(decoding: try encoder.encode(launch.document), as: UTF8.self) + "\n"
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// `mrun show`: every recorded field, the context's keys and the code's files.
    public static func text(_ launch: LaunchRecord) -> String {
        var rows: [(String, String)] = [
            ("Launch", launch.id), ("Name", launch.experimentName), ("Project", launch.project),
            ("Context", "\(launch.contextName) (\(launch.backend.rawValue))"), ("User", launch.user),
            ("Created", HistoryDate.text(launch.created) + " UTC"),
            ("Updated", HistoryDate.text(launch.updated) + " UTC"),
            ("State", stateText(launch)),
        ]
        if let exitCode = launch.exitCode { rows.append(("Exit code", String(exitCode))) }
        rows.append(("Job", launch.jobId ?? "-"))
        if let directory = launch.runDirectory { rows.append(("Directory", directory)) }
        if let tag = launch.imageTag { rows.append(("Image", tag)) }
        if let digest = launch.imageDigest { rows.append(("Digest", digest)) }
        rows.append(("Script", launch.script))
        rows.append(("Args", LaunchDiff.shellLine(launch.args)))
        if let sweep = launch.sweepId {
            rows.append(("Sweep", sweep + (launch.sweepIndex.map { ", point \($0)" } ?? "")))
        }
        if !launch.parameters.isEmpty {
            rows.append(
                (
                    "Parameters",
                    launch.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                ))
        }
        if !launch.tags.isEmpty { rows.append(("Tags", launch.tags.joined(separator: ", "))) }
        rows.append(("Content", launch.contentHash))
        rows.append(("Code", "\(launch.codeHash) (\(launch.files.count) file\(launch.files.count == 1 ? "" : "s"))"))
        rows.append(("Git", LaunchDiff.gitText(launch) ?? "-"))
        if let inputs = launch.inputs {
            rows.append(("Launched in", inputs.directory))
            if !inputs.environmentNames.isEmpty {
                rows.append(("--env", inputs.environmentNames.joined(separator: ", ") + " (values not recorded)"))
            }
            for (label, value) in [
                ("--requirements", inputs.request.requirements), ("--config", inputs.request.neptuneConfig),
                ("--resources", inputs.request.resources), ("--templates", inputs.request.templatesDir),
                ("--base_image", inputs.request.baseImage), ("Rerun of", inputs.rerunOf),
            ] {
                if let value { rows.append((label, value)) }
            }
        }
        var lines = rows.map { $0.0.padding(toLength: 14, withPad: " ", startingAt: 0) + $0.1 }
        lines.append("Context keys:")
        lines += LaunchDiff.flatten(launch.context).sorted {
            (LaunchDiff.contextRank($0.key), $0.key) < (LaunchDiff.contextRank($1.key), $1.key)
        }.map { "  \($0.key): \($0.value)" }
        lines.append("Files:")
        lines += launch.files.sorted { $0.key < $1.key }.map { "  \($0.value.prefix(12))  \($0.key)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `mrun status`: the launch, then what its backend says.
    public static func status(_ launch: LaunchRecord, _ status: JobStatus) -> String {
        let head = [
            ("Launch", "\(launch.id) (\(launch.experimentName))"),
            ("Context", "\(launch.contextName) (\(launch.backend.rawValue))"),
        ]
        return head.map { $0.0.padding(toLength: 11, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
            + status.details
    }
}
