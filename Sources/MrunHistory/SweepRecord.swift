import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// A sweep as launched: its id and name, its context and inputs, and every expanded point, in
/// launch order. Recorded before the first point is launched, so `mrun resume` can launch the
/// points an interruption left out under their own names (`<name>-<index>`).
public struct SweepRecord: Codable, Sendable, Equatable {
    /// The sweep id, in every point's name, and the `sweepId` of its launches.
    public var id: String
    /// `<base>-<id>`; point N is `<name>-N`.
    public var name: String
    public var created: Date
    public var user: String
    public var contextName: String
    /// The context, every `env` value redacted (see ``Context/redacted``).
    public var context: Context {
        get { storedContext.value }
        set { storedContext = StoredContext(newValue) }
    }
    var storedContext: StoredContext
    public var inputs: LaunchInputs
    /// Every point the sweep launches (after `--limit` and `--shuffle`), with its index.
    public var points: [SweepPoint]
    /// Points the grid and zip made before `--limit`.
    public var totalPoints: Int
    /// The shuffle's seed (text: SQLite integers are signed 64-bit).
    public var seed: String?
    public var maxParallel: Int?
    public var parallel: Int

    enum CodingKeys: String, CodingKey {
        case id, name, created, user, contextName
        case storedContext = "context"
        case inputs, points, totalPoints, seed, maxParallel, parallel
    }

    public init(sweep: SweepPlan, user: String, inputs: LaunchInputs) {
        id = sweep.id
        name = sweep.name
        created = HistoryDate.rounded(sweep.base.experiment.created)
        self.user = user
        contextName = sweep.base.context.name
        storedContext = StoredContext(sweep.base.context.redacted)
        self.inputs = inputs
        points = sweep.points
        totalPoints = sweep.totalPoints
        seed = sweep.seed.map(String.init)
        maxParallel = sweep.maxParallel
        parallel = sweep.parallel
    }
}

extension SweepRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sweep"

    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        .custom { HistoryDate.text($0) }
    }

    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        .custom { HistoryDate.date($0) }
    }
}

extension HistoryStore {
    /// Stores a sweep before its points are launched.
    public func record(_ sweep: SweepRecord) throws {
        try write { db in try HistoryWrites.insert(sweep, db) }
    }

    /// The sweep `reference` names: its id (any case) or its name.
    public func sweep(_ reference: String) throws -> SweepRecord? {
        let reference = reference.trimmingCharacters(in: .whitespaces)
        return try read { db in
            try SweepRecord.fetchOne(db, key: reference.lowercased())
                ?? SweepRecord.filter(Column(SweepRecord.CodingKeys.name) == reference).fetchOne(db)
        }
    }

    /// The launches of sweep `id`, by point index, then oldest first.
    public func launches(sweep id: String) throws -> [LaunchRecord] {
        try list(sweep: id).sorted {
            ($0.sweepIndex ?? -1, $0.created, $0.id) < ($1.sweepIndex ?? -1, $1.created, $1.id)
        }
    }
}
