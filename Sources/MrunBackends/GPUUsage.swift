/// One GPU as nvidia-smi reports it (`--query-gpu=index,memory.used,memory.total`), and the rule
/// that local `--parallel auto` and ssh hosts share for a GPU that something else uses.
struct GPUUsage: Sendable, Equatable {
    var index: Int
    var memoryUsed: Int
    var memoryTotal: Int

    /// A GPU whose memory is this much used (or more) runs something else: not free.
    static let busyMemoryPercent = 10

    /// nvidia-smi's arguments for the lines ``init(csvLine:)`` reads.
    static let query = ["--query-gpu=index,memory.used,memory.total", "--format=csv,noheader,nounits"]

    init(index: Int, memoryUsed: Int, memoryTotal: Int) {
        self.index = index
        self.memoryUsed = memoryUsed
        self.memoryTotal = memoryTotal
    }

    /// A line `INDEX, USED, TOTAL`; nil for anything else.
    init?<Line: StringProtocol>(csvLine line: Line) {
        let fields = line.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard fields.count >= 3, let index = fields[0], let used = fields[1], let total = fields[2] else { return nil }
        self.init(index: index, memoryUsed: used, memoryTotal: total)
    }

    var isBusy: Bool { memoryUsed * 100 >= Self.busyMemoryPercent * max(memoryTotal, 1) }
}
