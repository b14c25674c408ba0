import ArgumentParser
import MrunKit

/// `mrun run`'s gang flags: the context's `nodes`, `procs_per_node`, `launcher` and `master_port`
/// for one launch (the flag wins).
struct GangOptions: ParsableArguments {
    @Option(help: "Nodes of a gang (the context's nodes; default 1).")
    var nodes: Int?

    @Option(
        name: [.customLong("procs_per_node"), .customLong("procs-per-node")],
        help: "Processes per node (default: the GPUs per node, else 1).")
    var procsPerNode: Int?

    @Option(help: "How a gang's processes start: mrun, torchrun or none.")
    var launcher: String?

    @Option(
        name: [.customLong("master_port"), .customLong("master-port")],
        help: "MASTER_PORT of the gang's rank 0 (default 29500).")
    var masterPort: Int?

    var settings: GangSettings {
        var gang = GangSettings()
        gang.nodes = nodes
        gang.procsPerNode = procsPerNode
        gang.launcher = launcher
        gang.masterPort = masterPort
        return gang
    }
}
