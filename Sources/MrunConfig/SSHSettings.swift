import MrunSupport

/// An ssh context's settings: the hosts experiments run on, detached, and how mrun reaches them.
public struct SSHSettings: Codable, Sendable, Equatable {
    /// ssh destinations: aliases from the ssh config, or `user@host[:port]`.
    public var hosts: [String] = []
    public var workdir: String?
    public var identityFile: String?
    public var sshConfig: String?
    /// Shell lines run on the host before the experiment (and before GPU detection).
    public var setup: [String] = []
    /// Points at once on a host without GPUs.
    public var maxPerHost: Int?
    /// The GPUs points may use: nil detects them (`gpus: auto`), empty means none (`gpus: 0`),
    /// else the indexes listed.
    public var gpus: [String]?

    public static let defaultMaxPerHost = 1

    public init() {}

    /// How `gpus` was written: `auto` (or unset), `0`, or a list of indexes.
    public enum GPUChoice: Sendable, Equatable {
        case detect
        case none
        case indexes([Int])
    }

    public var gpuChoice: GPUChoice {
        guard let gpus else { return .detect }
        return gpus.isEmpty ? .none : .indexes(gpus.compactMap { Int($0) })
    }

    /// Reads the scalar form of `gpus`: `auto`, `0` (no GPUs), or one index given as a flag.
    mutating func applyGPUs(scalar text: String) {
        switch text.lowercased() {
        case "auto": gpus = nil
        case "0", "none": gpus = []
        default: gpus = [text]
        }
    }

    /// The value written for `gpus`: nil for `auto`, `0` for none, else the list.
    var gpusValue: ContextValue? {
        guard let gpus else { return nil }
        return gpus.isEmpty ? .string("0") : .list(gpus)
    }

    /// The first problem with these settings.
    func problem() -> Context.Problem? {
        if hosts.isEmpty {
            return Context.Problem(
                key: .hosts, message: "hosts: ssh contexts need at least one host (an ssh alias or user@host[:port])")
        }
        for (index, host) in hosts.enumerated() {
            do {
                _ = try SSHDestination(parsing: host)
            } catch {
                return Context.Problem(key: .hosts, place: .item(index), message: "hosts: \(error.description)")
            }
            if hosts[..<index].contains(host) {
                return Context.Problem(
                    key: .hosts, place: .item(index), message: "hosts: \(quoted: host) is listed twice; each host once")
            }
        }
        if let gpus {
            if let bad = gpus.firstIndex(where: { Int($0).map { $0 < 0 || $0 > 4095 } ?? true }) {
                return Context.Problem(
                    key: .gpus, place: .item(bad),
                    message: "gpus: \(quoted: gpus[bad]) is not a GPU index; write auto, 0 (no GPUs) or a list"
                        + " such as [0, 1]")
            }
            if let twice = gpus.first(where: { gpu in gpus.filter { Int($0) == Int(gpu) }.count > 1 }) {
                return Context.Problem(key: .gpus, message: "gpus: \(twice) is listed twice; each GPU once")
            }
        }
        if let maxPerHost, maxPerHost < 1 {
            return Context.Problem(key: .maxPerHost, message: "max_per_host must be 1 or more, got \(maxPerHost)")
        }
        return nil
    }
}
