import Foundation
import GRDB

/// Where a launch on an ssh context runs: its host, the GPUs it holds and its process (group) id,
/// a row of the `sshLaunch` table keyed by the launch id. Written when the launch was placed; the
/// pid and GPUs of a point that waited in its host's queue once it started.
public struct SSHLaunchRecord: Codable, Sendable, Equatable {
    public var launchId: String
    /// The host as the context lists it.
    public var host: String
    /// The GPU indexes, `0,1`; empty for none (or not known yet, while queued).
    public var gpus: String
    /// The point's process id, which is also its process group's and session's; nil while queued.
    public var pid: Int?
    /// The point's directory on the host, absolute.
    public var runDirectory: String

    public init(launchId: String, host: String, gpus: String, pid: Int?, runDirectory: String) {
        self.launchId = launchId
        self.host = host
        self.gpus = gpus
        self.pid = pid
        self.runDirectory = runDirectory
    }
}

extension SSHLaunchRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sshLaunch"
}

extension HistoryStore {
    /// Remembers where launches on ssh hosts run, replacing what was known of them.
    public func recordPlaced(_ launches: [SSHLaunchRecord]) async throws {
        try await write { db in
            for launch in launches { try launch.insert(db, onConflict: .replace) }
        }
    }

    /// The same, from a job command (not on the cooperative pool's hot path).
    public func record(placed launches: [SSHLaunchRecord]) throws {
        try write { db in
            for launch in launches { try launch.insert(db, onConflict: .replace) }
        }
    }

    /// Where ssh launch `id` runs, if it was placed.
    public func sshLaunch(id: String) throws -> SSHLaunchRecord? {
        try read { db in try SSHLaunchRecord.fetchOne(db, key: id) }
    }
}
