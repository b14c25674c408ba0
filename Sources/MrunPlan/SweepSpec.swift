import MrunSupport
import MrunConfig
import MrunTemplates

/// One value of a swept parameter, as the experiment receives it: `text` on its command line, and
/// in `MRUN_PARAMS` a JSON number or boolean when the text is one (unless it was quoted in the
/// spec file), else a JSON string.
public struct SweepValue: Codable, Sendable, Equatable {
    public var text: String
    /// Written quoted in a YAML spec: always a JSON string.
    public var quoted: Bool
    /// The JSON of a value that is not a string, number or boolean (a Python spec's `None`, list
    /// or dict), which `text` shows as the same JSON.
    public var literal: String?

    public init(_ text: String, quoted: Bool = false) {
        self.text = text
        self.quoted = quoted
    }

    /// A value that is `json` in `MRUN_PARAMS` and on the command line.
    public init(literal json: String) {
        self.init(json)
        literal = json
    }

    /// The value in `MRUN_PARAMS`.
    public var json: String {
        if let literal { return literal }
        if !quoted && (text == "true" || text == "false" || Self.isJSONNumber(text)) { return text }
        return TemplateFilters.jsonString(text)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, JSON's number grammar.
    static func isJSONNumber(_ text: String) -> Bool {
        var characters = Substring(text)
        func digits() -> Int {
            let run = characters.prefix { $0.isASCII && $0.isNumber }
            characters = characters.dropFirst(run.count)
            return run.count
        }
        if characters.first == "-" { characters = characters.dropFirst() }
        if characters.first == "0" {
            characters = characters.dropFirst()
        } else if digits() == 0 {
            return false
        }
        if characters.first == "." {
            characters = characters.dropFirst()
            if digits() == 0 { return false }
        }
        if characters.first == "e" || characters.first == "E" {
            characters = characters.dropFirst()
            if characters.first == "+" || characters.first == "-" { characters = characters.dropFirst() }
            if digits() == 0 { return false }
        }
        return characters.isEmpty
    }
}

/// A parameter and the values a sweep gives it.
public struct SweepAxis: Codable, Sendable, Equatable {
    public var name: String
    public var values: [SweepValue]

    public init(name: String, values: [SweepValue]) {
        self.name = name
        self.values = values
    }

    /// Parses `NAME=V1,V2,...` from `--grid` or `--zip` (`flag`); `\,` is a comma inside a value
    /// and `\\` a backslash.
    public static func parse(_ item: String, flag: String) throws(SweepError) -> SweepAxis {
        guard let equals = item.firstIndex(of: "=") else { throw .malformedItem(source: flag, item: item) }
        let name = String(item[..<equals])
        let list = item[item.index(after: equals)...]
        if name.isEmpty { throw .missingName(source: flag, item: item) }
        try validateName(name, source: flag)
        if list.isEmpty { throw .noValues(source: flag, name: name) }
        var values: [String] = [""]
        var escaped = false
        for character in list {
            if escaped {
                if character != "," && character != "\\" { values[values.count - 1].append("\\") }
                values[values.count - 1].append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                values.append("")
            } else {
                values[values.count - 1].append(character)
            }
        }
        if escaped { values[values.count - 1].append("\\") }
        if values.contains(where: \.isEmpty) { throw .emptyValue(source: flag, item: item) }
        return SweepAxis(name: name, values: values.map { SweepValue($0) })
    }

    /// A parameter becomes the option `--NAME`: a letter, then letters, digits, `_`, `-` or `.`.
    static func validateName(_ name: String, source: String) throws(SweepError) {
        let scalars = name.unicodeScalars
        let valid =
            scalars.first.map { $0.isASCII && $0.properties.isAlphabetic } == true
            && scalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0))
            }
        if !valid { throw .invalidName(source: source, name: name) }
    }
}

/// One point of a sweep: its place in launch order and the value of each swept parameter.
public struct SweepPoint: Codable, Sendable, Equatable {
    public struct Parameter: Codable, Sendable, Equatable {
        public var name: String
        public var value: SweepValue

        public init(name: String, value: SweepValue) {
            self.name = name
            self.value = value
        }
    }

    /// 0-based position in launch order: the Slurm array index, the suffix of the point's name.
    public var index: Int
    /// Zipped parameters first, then the grid's, each in the order given.
    public var parameters: [Parameter]

    /// `--NAME VALUE` for each parameter, appended after the experiment's own arguments.
    public var arguments: [String] {
        parameters.flatMap { ["--\($0.name)", $0.value.text] }
    }

    /// The parameters as one JSON object, in order: the point's `MRUN_PARAMS`.
    public var json: String {
        SweepPoint.json(parameters.map { ($0.name, $0.value.json) })
    }

    /// A JSON object from names and JSON values, keeping their order.
    static func json(_ members: [(name: String, json: String)]) -> String {
        "{" + members.map { "\(TemplateFilters.jsonString($0.name)): \($0.json)" }.joined(separator: ", ") + "}"
    }
}

/// What to sweep and how to launch it: from `--grid`, `--zip` and friends, or a `--spec` file.
public struct SweepSpec: Sendable, Equatable {
    /// Crossed with each other: every combination of their values.
    public var grid: [SweepAxis] = []
    /// Paired index by index (all of the same length), then crossed with the grid.
    public var zip: [SweepAxis] = []
    /// The points themselves, each its parameters, instead of a grid and zip: the experiments of a
    /// Python spec (mrunner's `experiments_list`).
    public var points: [[SweepPoint.Parameter]]?
    /// Launch at most this many points (the first ones, after shuffling).
    public var limit: Int?
    public var shuffle = false
    /// Seed of the shuffle; a random one (reported) when nil.
    public var seed: UInt64?
    /// Cluster backends: how many points run at once (Slurm's `--array=...%P`).
    public var maxParallel: Int?
    /// Local backend: how many points run at once on this machine.
    /// Local points at once; ``perGPU`` for one point per free GPU (`--parallel auto`).
    public var parallel: Int?

    /// `parallel` for one point per free GPU of this machine.
    public static let perGPU = 0

    /// More points than this are refused unless `--limit` picks the first ones without shuffling.
    public static let maximumPoints = 100_000

    public init(grid: [SweepAxis] = [], zip: [SweepAxis] = []) {
        self.grid = grid
        self.zip = zip
    }

    public var parameterNames: [String] {
        var names = (zip + grid).map(\.name)
        for name in (points ?? []).joined().map(\.name) where !names.contains(name) { names.append(name) }
        return names
    }

    /// Refuses a parameter swept twice and zipped lists of different lengths; the sources name
    /// where grid and zip came from in messages (`--grid`, or the spec file's `grid`).
    public func validate(gridSource: String = "--grid", zipSource: String = "--zip") throws(SweepError) {
        var seen: [String: String] = [:]
        for (axis, source) in zip.map({ ($0, zipSource) }) + grid.map({ ($0, gridSource) }) {
            if let first = seen[axis.name] {
                throw .duplicateParameter(name: axis.name, first: first, second: source)
            }
            seen[axis.name] = source
        }
        if let first = zip.first, zip.contains(where: { $0.values.count != first.values.count }) {
            throw .unequalZip(source: zipSource, lengths: zip.map { .init(name: $0.name, count: $0.values.count) })
        }
    }

    /// How many points the grid and zip make, before `limit`; nil when it overflows `Int`.
    public var totalPoints: Int? {
        if let points { return points.count }
        var total = zip.first?.values.count ?? 1
        for axis in grid {
            let (product, overflow) = total.multipliedReportingOverflow(by: axis.values.count)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// The points to launch, in order, numbered from 0: every zipped tuple crossed with every grid
    /// combination (the last grid parameter varies fastest), shuffled with `seed` when `shuffle`,
    /// then the first `limit`.
    public func expand() throws(SweepError) -> [SweepPoint] {
        try validate()
        guard !zip.isEmpty || !grid.isEmpty || points?.isEmpty == false else { return [] }
        let total = totalPoints
        let wanted = min(limit ?? Int.max, total ?? Int.max)
        var order: [Int]
        if let total, total <= Self.maximumPoints {
            order = Array(0..<total)
            if shuffle {
                var generator = SplitMix64(seed: seed ?? 0)
                generator.shuffle(&order)
            }
            order = Array(order.prefix(wanted))
        } else if !shuffle && limit != nil {
            order = Array(0..<wanted)
        } else {
            throw .tooManyPoints(count: total.map(String.init) ?? "more than \(Int.max)")
        }
        return order.enumerated().map { index, position in
            SweepPoint(index: index, parameters: parameters(at: position))
        }
    }

    /// The parameters of the point at `position` in the unshuffled order.
    func parameters(at position: Int) -> [SweepPoint.Parameter] {
        if let points { return points[position] }
        // Mixed-radix digits, the last grid parameter first; what is left numbers the zipped tuple.
        var remainder = position
        var gridValues: [SweepPoint.Parameter] = []
        for axis in grid.reversed() {
            gridValues.append(.init(name: axis.name, value: axis.values[remainder % axis.values.count]))
            remainder /= axis.values.count
        }
        return zip.map { .init(name: $0.name, value: $0.values[remainder]) } + gridValues.reversed()
    }
}

/// SplitMix64: a small generator whose sequence for a seed never changes, so `--shuffle --seed S`
/// orders a sweep the same way with every build of mrun (the standard library promises no such
/// thing for its own shuffle).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform number in `0..<bound` (bound > 0), without modulo bias.
    mutating func below(_ bound: UInt64) -> UInt64 {
        let threshold = (0 &- bound) % bound
        while true {
            let value = next()
            if value >= threshold { return value % bound }
        }
    }

    /// Fisher–Yates, drawing with ``below(_:)``.
    mutating func shuffle<Element>(_ elements: inout [Element]) {
        guard elements.count > 1 else { return }
        for upper in stride(from: elements.count - 1, to: 0, by: -1) {
            let other = Int(below(UInt64(upper + 1)))
            elements.swapAt(upper, other)
        }
    }
}
