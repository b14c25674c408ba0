import MrunSupport
import MrunConfig

/// How many processes an experiment is and how they start: one process (every launch before
/// gangs), or a gang of `nodes` x `procsPerNode` that the backend starts together, each process
/// with torchrun's variables. The backends interpret it; the plan only carries it.
public struct JobShape: Encodable, Sendable, Equatable {
    public var nodes: Int
    public var procsPerNode: Int
    public var launcher: GangSettings.Launcher
    public var masterPort: Int

    public static let single = JobShape(nodes: 1, procsPerNode: 1, launcher: .mrun, masterPort: 29500)

    public init(nodes: Int, procsPerNode: Int, launcher: GangSettings.Launcher, masterPort: Int) {
        self.nodes = nodes
        self.procsPerNode = procsPerNode
        self.launcher = launcher
        self.masterPort = masterPort
    }

    /// The context's gang, its unset keys at their defaults: one node; as many processes per node
    /// as it has GPUs (`resources.gpu`), else one; mrun's starter; port 29500.
    public init(_ context: Context) {
        let gpus = context.resources.gpu ?? 0
        self.init(
            nodes: context.gang.nodes ?? 1, procsPerNode: context.gang.procsPerNode ?? max(gpus, 1),
            launcher: context.gang.launcher.flatMap(GangSettings.Launcher.init(rawValue:)) ?? .mrun,
            masterPort: context.gang.masterPort ?? GangSettings.defaultMasterPort)
    }

    /// Whether the backend starts a gang (through the starter) rather than the one process.
    public var isGang: Bool {
        switch launcher {
        case .mrun: return nodes * procsPerNode > 1
        case .torchrun: return true
        case .none: return nodes > 1
        }
    }

    /// Processes per node the backend starts itself: one per node when torchrun or the
    /// experiment starts them (`launcher: torchrun`, `none`).
    public var tasksPerNode: Int { launcher == .mrun ? procsPerNode : 1 }

    /// All the gang's ranks (WORLD_SIZE); with `launcher: none`, one per node.
    public var worldSize: Int { launcher == .none ? nodes : nodes * procsPerNode }

    /// What `--dry-run` says of it.
    public var summary: String {
        let processes = worldSize == 1 ? "1 process" : "\(worldSize) processes"
        let layout = launcher == .none ? "\(nodes) node\(nodes == 1 ? "" : "s")" : "\(nodes) x \(procsPerNode)"
        return "\(processes) (\(layout), launcher \(launcher.rawValue), MASTER_PORT \(masterPort))"
    }
}

extension RunRequest {
    /// The context with this request's gang flags over its keys, checked as a context file's would
    /// be; an error names the flag.
    public func applyingGang(to context: Context) throws(ConfigError) -> Context {
        var context = context
        let flags: [(ContextKey, String, Bool)] = [
            (.nodes, "--nodes", gang.nodes != nil), (.procsPerNode, "--procs_per_node", gang.procsPerNode != nil),
            (.launcher, "--launcher", gang.launcher != nil), (.masterPort, "--master_port", gang.masterPort != nil),
        ]
        context.gang.nodes = gang.nodes ?? context.gang.nodes
        context.gang.procsPerNode = gang.procsPerNode ?? context.gang.procsPerNode
        context.gang.launcher = gang.launcher ?? context.gang.launcher
        context.gang.masterPort = gang.masterPort ?? context.gang.masterPort
        if let problem = context.gangKeysProblem(), let key = problem.key,
            let flag = flags.first(where: { $0.0 == key && $0.2 })
        {
            throw .invalidFlag(flag: flag.1, message: problem.message)
        }
        return context
    }
}
