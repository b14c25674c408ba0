import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// One launch in the history: what ran, where, from which code, and how it went.
///
/// A row of the `launch` table, except ``files``: the file manifest lives in the `manifest` table,
/// keyed by ``codeHash``, because the launches of a sweep or a re-run ship the same code and would
/// otherwise each store the same (possibly thousands of entries long) list.
public struct LaunchRecord: Codable, Sendable, Equatable, Identifiable {
    /// Short random id, see ``LaunchID``.
    public var id: String
    /// Unique experiment name, e.g. `train-k3x9q`.
    public var experimentName: String
    public var project: String
    /// When the launch was planned; stored to the millisecond.
    public var created: Date
    public var user: String
    public var contextName: String
    /// The resolved context, with every `env` value redacted (context env may hold tokens).
    public var context: Context {
        get { storedContext.value }
        set { storedContext = StoredContext(newValue) }
    }
    /// Stored through a wrapper that still reads rows written before `Context` gained a field.
    var storedContext: StoredContext
    public var backend: ContextType
    /// The backend's handle: the Kubernetes Job name, the Slurm job id, the local process id.
    public var jobId: String?
    /// The local run directory, or the Slurm job directory.
    public var runDirectory: String?
    public var imageTag: String?
    /// The pushed image's digest (`sha256:…`), known once the registry accepted it.
    public var imageDigest: String?
    /// The experiment's content hash: code, requirements, base image and Dockerfile (the image tag).
    public var contentHash: String
    /// The code snapshot's hash, over the files alone; keys the manifest.
    public var codeHash: String
    /// Path → lowercase hex SHA-256 of every shipped file. Not a column: see the type's documentation.
    public var files: [String: String] = [:]
    /// `git rev-parse HEAD` of the project, nil when it is not a git work tree.
    public var gitCommit: String?
    /// Whether `git status --porcelain` listed anything (uncommitted or untracked changes).
    public var gitDirty: Bool?
    public var script: String
    public var args: [String]
    public var sweepId: String?
    /// The point's index in its sweep (its name ends in `-INDEX`).
    public var sweepIndex: Int?
    /// What `mrun run` was asked, for `mrun rerun` and `mrun resume`; nil in launches recorded
    /// before mrun kept it.
    public var inputs: LaunchInputs?
    /// The sweep point's parameters, else the Neptune `--config` parameters; values as text.
    public var parameters: [String: String]
    public var tags: [String]
    public var state: JobState
    public var exitCode: Int32?
    public var updated: Date

    // `files` is left out on purpose: GRDB encodes a record through these keys, and the manifest
    // is written to its own table. JSON output that needs the files encodes them separately.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, experimentName, project, created, user, contextName
        case storedContext = "context"
        case backend, jobId, runDirectory
        case imageTag, imageDigest, contentHash, codeHash, gitCommit, gitDirty, script, args, sweepId
        case parameters, tags, state, exitCode, updated, sweepIndex, inputs
    }

    public init(
        id: String = LaunchID.generate(), experimentName: String, project: String, created: Date, user: String,
        context: Context, jobId: String? = nil, runDirectory: String? = nil, imageTag: String? = nil,
        imageDigest: String? = nil, contentHash: String, codeHash: String, files: [String: String] = [:],
        git: GitState? = nil, script: String, args: [String] = [], sweepId: String? = nil, sweepIndex: Int? = nil,
        inputs: LaunchInputs? = nil, parameters: [String: String] = [:], tags: [String] = [],
        state: JobState = .submitted, exitCode: Int32? = nil, updated: Date? = nil
    ) {
        self.id = id
        self.experimentName = experimentName
        self.project = project
        self.created = HistoryDate.rounded(created)
        self.user = user
        self.contextName = context.name
        self.storedContext = StoredContext(context.redacted)
        self.backend = context.type
        self.jobId = jobId
        self.runDirectory = runDirectory
        self.imageTag = imageTag
        self.imageDigest = imageDigest
        self.contentHash = contentHash
        self.codeHash = codeHash
        self.files = files
        self.gitCommit = git?.commit
        self.gitDirty = git?.dirty
        self.script = script
        self.args = args
        self.sweepId = sweepId
        self.sweepIndex = sweepIndex
        self.inputs = inputs
        self.parameters = parameters
        self.tags = tags
        self.state = state
        self.exitCode = exitCode
        self.updated = HistoryDate.rounded(updated ?? created)
    }

    /// The record of launching `plan`.
    ///
    /// - Parameters:
    ///   - jobId: The backend's handle once known (a Job name, a Slurm job id, a process id).
    ///   - git: From ``GitState/detect(in:runner:)`` on `plan.snapshot.root`.
    ///   - sweepId, parameters: The sweep and its point; without parameters, the plan's Neptune
    ///     parameters are recorded.
    public init(
        plan: ExperimentPlan, id: String = LaunchID.generate(), user: String, jobId: String? = nil,
        imageDigest: String? = nil, git: GitState?, sweepId: String? = nil, sweepIndex: Int? = nil,
        inputs: LaunchInputs? = nil, parameters: [String: String]? = nil, state: JobState = .submitted
    ) {
        let experiment = plan.experiment
        self.init(
            id: id, experimentName: experiment.name, project: experiment.project, created: experiment.created,
            user: user, context: plan.context,
            jobId: jobId,
            runDirectory: plan.target.directory, imageTag: plan.target.imageTag,
            imageDigest: imageDigest, contentHash: experiment.contentHash, codeHash: plan.snapshot.contentHash,
            files: Dictionary(plan.snapshot.files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { $1 }),
            git: git, script: experiment.script, args: experiment.args, sweepId: sweepId, sweepIndex: sweepIndex,
            inputs: inputs, parameters: parameters ?? Self.parameters(fromJSON: experiment.parameters),
            tags: experiment.tags,
            state: state)
    }

    /// The record of launching `plan` from this machine: the user from `host`, the git state of the
    /// directory the code was snapshotted from.
    public static func detecting(
        plan: ExperimentPlan, host: HostEnvironment, runner: any ProcessRunning, jobId: String? = nil,
        imageDigest: String? = nil, sweepId: String? = nil, parameters: [String: String]? = nil,
        state: JobState = .submitted
    ) async -> LaunchRecord {
        let git = await GitState.detect(in: plan.snapshot.root, runner: runner)
        return LaunchRecord(
            plan: plan, user: currentUser(host: host), jobId: jobId, imageDigest: imageDigest, git: git,
            sweepId: sweepId, parameters: parameters, state: state)
    }

    /// The launch with its ``files`` for JSON output (`--output json`): its `Codable` form leaves
    /// them out, see ``CodingKeys``.
    public var document: Document { Document(launch: self) }

    public struct Document: Encodable, Sendable {
        public var launch: LaunchRecord

        private enum Keys: String, CodingKey { case files }

        public func encode(to encoder: any Encoder) throws {
            try launch.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(launch.files, forKey: .files)
        }
    }

    /// The user launching: `$USER`, else the name of the process's user id.
    public static func currentUser(host: HostEnvironment) -> String {
        if let user = host.variables["USER"], !user.isEmpty { return user }
        let uid = getuid()
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return "uid \(uid)"
    }

    /// Neptune parameters as the plan holds them, a JSON object; any value that is not text keeps
    /// its JSON spelling.
    package static func parameters(fromJSON json: String?) -> [String: String] {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        else { return [:] }
        var parameters: [String: String] = [:]
        for (name, value) in object {
            if let text = value as? String {
                parameters[name] = text
            } else if let data = try? JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed) {
                parameters[name] = String(decoding: data, as: UTF8.self)
            }
        }
        return parameters
    }
}

extension LaunchRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "launch"

    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        .custom { HistoryDate.text($0) }
    }

    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        .custom { HistoryDate.date($0) }
    }

    /// Typed columns for queries, named after the coding keys so a rename cannot split them.
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let experimentName = Column(CodingKeys.experimentName)
        public static let created = Column(CodingKeys.created)
        public static let contextName = Column(CodingKeys.contextName)
        public static let jobId = Column(CodingKeys.jobId)
        public static let imageDigest = Column(CodingKeys.imageDigest)
        public static let codeHash = Column(CodingKeys.codeHash)
        public static let sweepId = Column(CodingKeys.sweepId)
        public static let sweepIndex = Column(CodingKeys.sweepIndex)
        public static let state = Column(CodingKeys.state)
        public static let exitCode = Column(CodingKeys.exitCode)
        public static let updated = Column(CodingKeys.updated)
    }
}

/// The files of one code snapshot, shared by every launch of that code.
public struct CodeManifest: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "manifest"

    public var codeHash: String
    /// Path → SHA-256, stored as one JSON object: compact, and always read whole.
    public var files: [String: String]

    public init(codeHash: String, files: [String: String]) {
        self.codeHash = codeHash
        self.files = files
    }
}

extension Context {
    /// The context with every `env` value replaced by ``EnvironmentVariable/redacted``. Names stay,
    /// so a diff still shows a variable added or removed; values may be tokens and are never stored.
    /// Webhook URLs keep their scheme and host only.
    public var redacted: Context {
        var context = self
        context.env = env.mapValues { _ in EnvironmentVariable.redacted }
        context.notify = notify.map(NotifyTargets.redacted)
        return context
    }
}
