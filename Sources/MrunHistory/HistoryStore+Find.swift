import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

extension HistoryStore {
    /// Most candidates an ambiguity error lists; it counts the rest.
    static let candidateLimit = 10

    /// The one launch `reference` names, tried in this order:
    ///
    /// 1. a whole id (any case);
    /// 2. an exact experiment name or job id (Kubernetes Job name, Slurm job id, local pid);
    /// 3. with `*`, `?` or `[`: a pattern (SQLite `GLOB`, case-sensitive) over experiment names
    ///    and job ids, e.g. `train-*`;
    /// 4. a unique id prefix.
    ///
    /// A step matching several launches is an error listing them, newest first, rather than a guess.
    public func find(_ reference: String) throws -> LaunchRecord {
        let reference = reference.trimmingCharacters(in: .whitespaces)
        let found = try read { db in try match(reference, db).map { try Self.withFiles([$0], db)[0] } }
        guard let found else { throw HistoryError.notFound(reference: reference) }
        return found
    }

    private func match(_ reference: String, _ db: Database) throws -> LaunchRecord? {
        let id = reference.lowercased()
        let idLike = LaunchID.isPossiblePrefix(reference)
        if idLike, let launch = try LaunchRecord.fetchOne(db, key: id) {
            return launch
        }
        let named = LaunchRecord.filter(
            LaunchRecord.Columns.experimentName == reference || LaunchRecord.Columns.jobId == reference)
        if let launch = try unique(named, reference, db) { return launch }
        if reference.contains(where: { "*?[".contains($0) }) {
            let pattern = LaunchRecord.filter(
                sql: "experimentName GLOB ? OR jobId GLOB ?", arguments: [reference, reference])
            return try unique(pattern, reference, db)
        }
        if idLike {
            // Ids hold only base32 letters and digits, so the prefix carries no GLOB syntax.
            let prefixed = LaunchRecord.filter(sql: "id GLOB ?", arguments: [id + "*"])
            return try unique(prefixed, reference, db)
        }
        return nil
    }

    /// The request's only launch, nil when there is none; several are an ``HistoryError/ambiguous`` error.
    private func unique(
        _ request: QueryInterfaceRequest<LaunchRecord>, _ reference: String, _ db: Database
    ) throws -> LaunchRecord? {
        let matches =
            try request
            .order(LaunchRecord.Columns.created.desc, LaunchRecord.Columns.id)
            .limit(Self.candidateLimit + 1)
            .fetchAll(db)
        if matches.count <= 1 { return matches.first }
        let total = try request.fetchCount(db)
        throw HistoryError.ambiguous(
            reference: reference,
            candidates: matches.prefix(Self.candidateLimit).map { "\($0.id) (\($0.experimentName))" },
            more: total - min(total, Self.candidateLimit))
    }
}

extension HistoryStore {
    /// The newest launch on context `context` whose job id is `jobId` (a Slurm job id, a local
    /// process id), if any.
    public func launch(jobId: String, context: String) throws -> LaunchRecord? {
        try read { db in
            try LaunchRecord
                .filter(LaunchRecord.Columns.jobId == jobId && LaunchRecord.Columns.contextName == context)
                .order(LaunchRecord.Columns.created.desc, LaunchRecord.Columns.id)
                .fetchOne(db)
                .map { try Self.withFiles([$0], db)[0] }
        }
    }
}
