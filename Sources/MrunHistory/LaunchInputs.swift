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
    /// The request as recorded: the script relative to ``directory``, the Neptune config and
    /// templates paths absolute (so a rerun works from any directory), `--env` items by name only.
    public var request: RunRequest
    /// A sweep point's own parameters, in order, as the sweep gave them.
    public var point: [SweepPoint.Parameter]?
    /// The launch this one launched again (`mrun rerun`).
    public var rerunOf: String?

    public init(request: RunRequest, host: HostEnvironment) {
        directory = host.currentDirectory.standardizedFileURL.path
        var recorded = request
        recorded.environment = request.environment.map { item in
            item.firstIndex(of: "=").map { String(item[..<$0]) } ?? item
        }
        recorded.neptuneConfig = request.neptuneConfig.map { host.resolve($0).path }
        recorded.templatesDir = request.templatesDir.map { host.resolve($0).path }
        self.request = recorded
    }

    /// Names of the `--env NAME=VALUE` items; values are not recorded.
    public var environmentNames: [String] { request.environment }

    /// The request again, with `environment` (`NAME=VALUE` items) giving the `--env` values that
    /// were not recorded. Every recorded name needs a value: a missing one is an error naming it.
    public func request(environment: [String]) throws(RelaunchError) -> RunRequest {
        let given = Set(environment.compactMap { item in item.firstIndex(of: "=").map { String(item[..<$0]) } })
        let missing = environmentNames.filter { !given.contains($0) }
        if !missing.isEmpty { throw .environmentNeeded(names: missing) }
        var request = self.request
        request.environment = environment
        return request
    }

    // The history stores the inputs as one flat JSON object, as earlier versions wrote it.
    enum CodingKeys: String, CodingKey {
        case directory, script, arguments, requirements, baseImage, name, project, tags, environmentNames
        case neptuneConfig, resources, templatesDir, gang, point, rerunOf, mrunner
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        directory = try values.decode(String.self, forKey: .directory)
        request = RunRequest(
            script: try values.decode(String.self, forKey: .script),
            arguments: try values.decode([String].self, forKey: .arguments),
            requirements: try values.decodeIfPresent(String.self, forKey: .requirements),
            baseImage: try values.decodeIfPresent(String.self, forKey: .baseImage),
            name: try values.decodeIfPresent(String.self, forKey: .name),
            project: try values.decodeIfPresent(String.self, forKey: .project),
            tags: try values.decode([String].self, forKey: .tags),
            environment: try values.decode([String].self, forKey: .environmentNames),
            neptuneConfig: try values.decodeIfPresent(String.self, forKey: .neptuneConfig),
            templatesDir: try values.decodeIfPresent(String.self, forKey: .templatesDir),
            resources: try values.decodeIfPresent(String.self, forKey: .resources),
            gang: try values.decodeIfPresent(GangSettings.self, forKey: .gang) ?? GangSettings())
        request.mrunner = try values.decodeIfPresent(MrunnerSpecSettings.self, forKey: .mrunner)
        point = try values.decodeIfPresent([SweepPoint.Parameter].self, forKey: .point)
        rerunOf = try values.decodeIfPresent(String.self, forKey: .rerunOf)
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(directory, forKey: .directory)
        try values.encode(request.script, forKey: .script)
        try values.encode(request.arguments, forKey: .arguments)
        try values.encodeIfPresent(request.requirements, forKey: .requirements)
        try values.encodeIfPresent(request.baseImage, forKey: .baseImage)
        try values.encodeIfPresent(request.name, forKey: .name)
        try values.encodeIfPresent(request.project, forKey: .project)
        try values.encode(request.tags, forKey: .tags)
        try values.encode(request.environment, forKey: .environmentNames)
        try values.encodeIfPresent(request.neptuneConfig, forKey: .neptuneConfig)
        try values.encodeIfPresent(request.resources, forKey: .resources)
        try values.encodeIfPresent(request.templatesDir, forKey: .templatesDir)
        if request.gang != GangSettings() { try values.encode(request.gang, forKey: .gang) }
        // A launch from a Python spec: a rerun ships mrun's mrunner module again.
        try values.encodeIfPresent(request.mrunner, forKey: .mrunner)
        try values.encodeIfPresent(point, forKey: .point)
        try values.encodeIfPresent(rerunOf, forKey: .rerunOf)
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
