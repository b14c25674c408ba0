import Foundation
import MrunSupport
import MrunConfig
import MrunPlan

/// What a host said when it was checked (``SSHBackend/probe``): its home, its copy tool, whether
/// the Python is there and its GPUs.
struct SSHHostReport: Sendable, Equatable {
    struct GPU: Sendable, Equatable {
        var index: Int
        var memoryUsed: Int
        var memoryTotal: Int
    }

    var home: String
    var tool: CodeShipper.Tool
    var hasPython: Bool
    /// nvidia-smi's GPUs; nil when nvidia-smi is not on the PATH or not asked.
    var gpus: [GPU]?
    /// Asked (`gpus: auto`) and not found.
    var nvidiaSMIMissing: Bool
    /// GPUs that running mrun points hold.
    var held: Set<Int>
    /// Free space where the code goes, when df told it.
    var freeKilobytes: Int?

    /// Reads the probe's marked lines; nil when the home line is missing (not the probe's output).
    init?(output: String) {
        var home: String?
        var tool = CodeShipper.Tool.tar
        var hasPython = false
        var gpus: [GPU]?
        var missing = false
        var held: Set<Int> = []
        var free: Int?
        for line in output.split(whereSeparator: \.isNewline).map(String.init) {
            guard let equals = line.firstIndex(of: "="), line.hasPrefix("mrun-") else { continue }
            let key = line[..<equals]
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "mrun-home": home = value
            case "mrun-tool": tool = value == "rsync" ? .rsync : .tar
            case "mrun-python": hasPython = value == "yes"
            case "mrun-free-kb": free = Int(value)
            case "mrun-held": held.formUnion(value.split(separator: ",").compactMap { Int($0) })
            case "mrun-gpu" where value == "missing": missing = true
            case "mrun-gpu":
                let fields = value.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard fields.count >= 3, let index = fields[0], let used = fields[1], let total = fields[2] else {
                    continue
                }
                gpus = (gpus ?? []) + [GPU(index: index, memoryUsed: used, memoryTotal: total)]
            default: break
            }
        }
        guard let home, home.hasPrefix("/") else { return nil }
        self.home = home
        self.tool = tool
        self.hasPython = hasPython
        self.gpus = gpus
        nvidiaSMIMissing = missing
        self.held = held
        freeKilobytes = free
    }
}

/// Where points run: each host's slots (a set of GPUs, or a place of `max_per_host` on a host
/// without), and the points given to each host in proportion to its slots.
enum SSHPlacement {
    /// A GPU whose memory is this much used (or more) runs something else: not free.
    static let busyMemoryPercent = 10

    /// A host's slots: each is the GPUs one point holds; `[]` is a slot without GPUs.
    static func slots(for target: SSHTarget, report: SSHHostReport) -> [[Int]] {
        let free: [Int]
        if target.detectGpus {
            guard let gpus = report.gpus, !gpus.isEmpty else { return cpuSlots(target) }
            free = gpus.filter { gpu in
                !report.held.contains(gpu.index) && gpu.memoryUsed * 100 < busyMemoryPercent * max(gpu.memoryTotal, 1)
            }.map(\.index)
        } else if target.gpus.isEmpty {
            return cpuSlots(target)
        } else {
            free = target.gpus.filter { !report.held.contains($0) }
        }
        let size = max(target.gpusPerPoint, 1)
        return stride(from: 0, to: free.count - size + 1, by: size).map { Array(free[$0..<($0 + size)]) }
    }

    private static func cpuSlots(_ target: SSHTarget) -> [[Int]] {
        Array(repeating: [], count: max(target.maxPerHost, 1))
    }

    /// The host (an index into `slotCounts`) of each of `points` points: in proportion to the
    /// slots, each point to the host that is least loaded for its size; ties to the earlier host.
    static func assign(points: Int, slotCounts: [Int]) -> [Int] {
        var given = Array(repeating: 0, count: slotCounts.count)
        var hosts: [Int] = []
        for _ in 0..<points {
            let usable = slotCounts.indices.filter { slotCounts[$0] > 0 }
            guard
                let best = usable.min(by: {
                    given[$0] * slotCounts[$1] < given[$1] * slotCounts[$0]
                        || (given[$0] * slotCounts[$1] == given[$1] * slotCounts[$0] && $0 < $1)
                })
            else { break }
            given[best] += 1
            hosts.append(best)
        }
        return hosts
    }
}
