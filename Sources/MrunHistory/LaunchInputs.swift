import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// What `mrun run` was asked, beyond what a launch record's own columns hold: enough to launch it
/// again (`mrun rerun`) or to finish its sweep (`mrun resume`).
///
/// Nothing secret: `--env` items are kept by name only (their values may be tokens, as the
/// context's `env` values may, which the history redacts too), so a rerun asks for them again.
public struct LaunchInputs: Codable, Sendable, Equatable {
    /// The directory mrun ran in, the code snapshot's root.
    public var directory: String
    /// As given, relative to ``directory``.
    public var script: String
    /// Everything after `--` (a sweep point's own `--NAME VALUE` come on top).
    public var arguments: [String]
    public var requirements: String?
    public var baseImage: String?
    public var name: String?
    public var project: String?
    /// `--tag`s (the Neptune config's come from the file again).
    public var tags: [String]
    /// Names of the `--env NAME=VALUE` items; values are not recorded.
    public var environmentNames: [String]
    /// Absolute paths, so a rerun works from any directory.
    public var neptuneConfig: String?
    public var resources: String?
    public var templatesDir: String?
    /// A sweep point's own parameters, in order, as the sweep gave them.
    public var point: [SweepPoint.Parameter]?
    /// The launch this one launched again (`mrun rerun`).
    public var rerunOf: String?

    public init(request: RunRequest, host: HostEnvironment) {
        directory = host.currentDirectory.standardizedFileURL.path
        script = request.script
        arguments = request.arguments
        requirements = request.requirements
        baseImage = request.baseImage
        name = request.name
        project = request.project
        tags = request.tags
        environmentNames = request.environment.map { item in
            item.firstIndex(of: "=").map { String(item[..<$0]) } ?? item
        }
        neptuneConfig = request.neptuneConfig.map { host.resolve($0).path }
        resources = request.resources
        templatesDir = request.templatesDir.map { host.resolve($0).path }
    }

    /// The request again, with `environment` (`NAME=VALUE` items) giving the `--env` values that
    /// were not recorded. Every recorded name needs a value: a missing one is an error naming it.
    public func request(environment: [String]) throws(RelaunchError) -> RunRequest {
        let given = Set(environment.compactMap { item in item.firstIndex(of: "=").map { String(item[..<$0]) } })
        let missing = environmentNames.filter { !given.contains($0) }
        if !missing.isEmpty { throw .environmentNeeded(names: missing) }
        var request = RunRequest(script: script, arguments: arguments)
        request.requirements = requirements
        request.baseImage = baseImage
        request.name = name
        request.project = project
        request.tags = tags
        request.environment = environment
        request.neptuneConfig = neptuneConfig
        request.resources = resources
        request.templatesDir = templatesDir
        return request
    }

    /// The host to plan in: this one, in the recorded directory.
    public func host(_ host: HostEnvironment) throws(RelaunchError) -> HostEnvironment {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw .directoryMissing(directory) }
        var planning = host
        planning.currentDirectory = URL(fileURLWithPath: directory, isDirectory: true)
        return planning
    }
}

/// Why `mrun rerun` or `mrun resume` cannot launch what the history recorded.
public enum RelaunchError: UserFacingError, Equatable {
    case environmentNeeded(names: [String])
    case directoryMissing(String)
    case noInputs(launch: String)
    case contextVariablesMissing(context: String, names: [String])
    case sweepNotFound(String)
    case sweepBusy(String)

    public var description: String {
        switch self {
        case .environmentNeeded(let names):
            return "the launch had --env \(names.joined(separator: ", ")), whose values the history does not keep;"
                + " give them again: " + names.map { "--env \($0)=VALUE" }.joined(separator: " ")
        case .directoryMissing(let directory):
            return "the launch ran in \(directory), which no longer exists; its code cannot be launched again"
        case .noInputs(let launch):
            return "launch \(launch) was recorded by an older mrun, without its inputs; it cannot be launched again"
        case .contextVariablesMissing(let context, let names):
            return "the launch's context \(quoted: context) had env \(names.joined(separator: ", ")), which the history"
                + " keeps redacted and the context no longer defines; add them back with 'mrun context edit \(context)'"
        case .sweepNotFound(let reference):
            return "no sweep \(quoted: reference) in the history; give the sweep id 'mrun run' printed ('Sweep ID: …')"
                + " or the sweep's name"
        case .sweepBusy(let sweep):
            return "sweep \(sweep) is being launched or resumed by another mrun right now; try again when it is done"
        }
    }
}
