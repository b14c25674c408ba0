import MrunSupport

/// Where a context runs experiments.
public enum ContextType: String, Codable, Sendable, CaseIterable {
    case local
    case kubernetes
    case slurm
}
