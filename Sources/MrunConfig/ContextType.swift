import MrunSupport

/// Where a context runs experiments.
public enum ContextType: String, Codable, Sendable, CaseIterable {
    case local
    case kubernetes
    case slurm
    /// Hosts reached over ssh, without a scheduler: experiments run detached on them.
    case ssh
}
