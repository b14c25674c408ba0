import Foundation
import MrunSupport
import MrunConfig
import MrunPlan

/// What a host said when it was checked (``SSHBackend/probe``): its home, its copy tool, whether
/// the Python is there and its GPUs.
struct SSHHostReport: Sendable, Equatable {
    var home: String
    var tool: CodeShipper.Tool
    var hasPython: Bool
    /// nvidia-smi's GPUs; nil when nvidia-smi is not on the PATH or not asked.
    var gpus: [GPUUsage]?
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
        var gpus: [GPUUsage]?
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
                guard let gpu = GPUUsage(csvLine: value) else { continue }
                gpus = (gpus ?? []) + [gpu]
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

/// A place for one point on a host: the GPUs it gets (none on a host without) and the names it
/// claims there, which every runner of the host claims under one lock (`ssh-runner.sh`), so that
/// points of different launches never share a GPU and `max_per_host` counts them all.
struct SSHSlot: Sendable, Equatable {
    var gpus: [Int]
    var claims: [String]

    /// The slot's line in a runner's `slots` file: `GPUS CLAIMS` (`-` for no GPUs).
    var line: String {
        (gpus.isEmpty ? "-" : gpus.map(String.init).joined(separator: ",")) + " " + claims.joined(separator: ",")
    }
}

/// Where points run: each host's slots (a set of GPUs, or a place of `max_per_host` on a host
/// without), and the points given to each host in proportion to its slots.
enum SSHPlacement {
    /// A host's slots: its GPUs in groups of the point's size, those that mrun points hold
    /// included (the runner waits for them), those that something else uses left out; without
    /// GPUs, `max_per_host` slots.
    static func slots(for target: SSHTarget, report: SSHHostReport) -> [SSHSlot] {
        let usable: [Int]
        if target.detectGpus {
            guard let gpus = report.gpus, !gpus.isEmpty else { return cpuSlots(target) }
            usable = gpus.filter { report.held.contains($0.index) || !$0.isBusy }.map(\.index)
        } else if target.gpus.isEmpty {
            return cpuSlots(target)
        } else {
            usable = target.gpus
        }
        let size = max(target.gpusPerPoint, 1)
        return stride(from: 0, to: usable.count - size + 1, by: size).map { start in
            let gpus = Array(usable[start..<(start + size)])
            return SSHSlot(gpus: gpus, claims: gpus.map { "gpu-\($0)" })
        }
    }

    private static func cpuSlots(_ target: SSHTarget) -> [SSHSlot] {
        (0..<max(target.maxPerHost, 1)).map { SSHSlot(gpus: [], claims: ["cpu-\($0)"]) }
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
