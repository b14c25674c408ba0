import Foundation
import MrunSupport

/// Exec plugin credentials, kept in memory for this process and on disk for later mrun processes,
/// so a plugin like `gke-gcloud-auth-plugin` (which takes a second or more) runs once per token
/// lifetime rather than once per command.
///
/// A credential is reused until `safetyMargin` before its `expirationTimestamp`; one without an
/// expiration is kept in memory only, since a later process cannot know whether it is still valid.
/// Files are `DIRECTORY/<cache key>.json`, mode 0600 in a 0700 directory, written atomically.
/// Concurrent requests for the same key share one plugin run.
public actor ExecCredentialCache {
    public nonisolated let directory: URL?
    public nonisolated let safetyMargin: TimeInterval
    private let now: @Sendable () -> Date
    private var memory: [String: ExecCredential] = [:]
    private var running: [String: Task<ExecCredential, any Error>] = [:]

    /// `$MRUN_HOME/cache/exec-credentials`.
    public static func defaultDirectory(mrunHome: URL) -> URL {
        mrunHome.appendingPathComponent("cache/exec-credentials")
    }

    /// - Parameters:
    ///   - directory: nil keeps credentials in memory only.
    ///   - now: the clock, replaceable in tests.
    public init(
        directory: URL?, safetyMargin: TimeInterval = 60, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.directory = directory
        self.safetyMargin = safetyMargin
        self.now = now
    }

    public func credential(
        forKey key: String, fetch: @escaping @Sendable () async throws -> ExecCredential
    ) async throws -> ExecCredential {
        if let cached = memory[key], isFresh(cached) { return cached }
        if let task = running[key] { return try await task.value }
        if let stored = readStored(key), stored.expiration != nil, isFresh(stored) {
            memory[key] = stored
            return stored
        }
        let task = Task { try await fetch() }
        running[key] = task
        defer { running[key] = nil }
        let credential = try await task.value
        memory[key] = credential
        if credential.expiration != nil { store(credential, key: key) }
        return credential
    }

    /// Drops the credential from memory and disk, e.g. after the server rejected it.
    public func invalidate(key: String) {
        memory[key] = nil
        if let file = file(for: key) { try? FileManager.default.removeItem(at: file) }
    }

    /// The cache file of `key`, nil when the cache is memory-only.
    public nonisolated func file(for key: String) -> URL? {
        directory?.appendingPathComponent("\(key).json")
    }

    private func isFresh(_ credential: ExecCredential) -> Bool {
        guard let expiration = credential.expiration else { return true }
        return now().addingTimeInterval(safetyMargin) < expiration
    }

    /// The on-disk form, in the field names of `ExecCredential.status`.
    private struct Stored: Codable {
        var token: String?
        var clientCertificateData: String?
        var clientKeyData: String?
        var expirationTimestamp: String
    }

    /// A missing, unreadable or corrupt file is a cache miss: the plugin simply runs again.
    private func readStored(_ key: String) -> ExecCredential? {
        guard let file = file(for: key), let data = try? Data(contentsOf: file),
            let stored = try? JSONDecoder().decode(Stored.self, from: data),
            let expiration = RFC3339.date(from: stored.expirationTimestamp)
        else { return nil }
        return ExecCredential(
            token: stored.token, clientCertificateData: stored.clientCertificateData,
            clientKeyData: stored.clientKeyData, expiration: expiration)
    }

    /// Best effort: a cache that cannot be written costs a plugin run next time, never a failed command.
    private func store(_ credential: ExecCredential, key: String) {
        guard let directory, let file = file(for: key), let expiration = credential.expiration else { return }
        let stored = Stored(
            token: credential.token, clientCertificateData: credential.clientCertificateData,
            clientKeyData: credential.clientKeyData, expirationTimestamp: RFC3339.string(from: expiration))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(stored) else { return }
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // An existing directory keeps its mode through createDirectory; tighten it too.
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
            try AtomicFile.write(String(decoding: data, as: UTF8.self), to: file, mode: 0o600)
        } catch {
            return
        }
    }
}
