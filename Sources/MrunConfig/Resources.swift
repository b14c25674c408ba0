import MrunSupport

/// Compute resources an experiment asks for, written `cpu=4 mem=8G gpu=1 tpu=1` as in mrunner.
public struct Resources: Codable, Sendable, Equatable {
    /// Kubernetes CPU quantity: `4`, `0.5` or `500m`.
    public var cpu: String?
    /// Memory quantity: `8G`, `512Mi`, `16Gi`.
    public var memory: String?
    public var gpu: Int?
    public var tpu: Int?

    public init(cpu: String? = nil, memory: String? = nil, gpu: Int? = nil, tpu: Int? = nil) {
        self.cpu = cpu
        self.memory = memory
        self.gpu = gpu
        self.tpu = tpu
    }

    enum CodingKeys: String, CodingKey {
        case cpu
        case memory = "mem"
        case gpu
        case tpu
    }

    public static let knownNames = ["cpu", "mem", "gpu", "tpu"]

    public var isEmpty: Bool { cpu == nil && memory == nil && gpu == nil && tpu == nil }

    /// The mrunner spelling, e.g. `cpu=4 mem=8G gpu=1`.
    public var description: String {
        var parts: [String] = []
        if let cpu { parts.append("cpu=\(cpu)") }
        if let memory { parts.append("mem=\(memory)") }
        if let gpu { parts.append("gpu=\(gpu)") }
        if let tpu { parts.append("tpu=\(tpu)") }
        return parts.joined(separator: " ")
    }

    /// Parses `cpu=4 mem=8G gpu=1 tpu=1` (spaces or commas between items).
    public static func parse(_ text: String) throws(ResourcesError) -> Resources {
        var resources = Resources()
        let items = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
        for item in items {
            guard let equals = item.firstIndex(of: "=") else {
                throw .notKeyValue(String(item))
            }
            let key = String(item[..<equals]).lowercased()
            let value = String(item[item.index(after: equals)...])
            try resources.set(key, value)
        }
        return resources
    }

    /// Sets one resource from its textual value, validating it; a resource given twice (`cpu=1
    /// cpu=2`, or `gpu` and `gpus`) is refused rather than resolved by position.
    public mutating func set(_ key: String, _ value: String) throws(ResourcesError) {
        guard !value.isEmpty else { throw .missingValue(key) }
        switch key {
        case "cpu", "cpus":
            guard cpu == nil else { throw .duplicate(key) }
            guard Self.isCPUQuantity(value) else { throw .badCPU(value) }
            cpu = value
        case "mem", "memory":
            guard memory == nil else { throw .duplicate(key) }
            guard Self.isMemoryQuantity(value) else { throw .badMemory(value) }
            memory = value
        case "gpu", "gpus":
            guard gpu == nil else { throw .duplicate(key) }
            gpu = try Self.count(value, of: "gpu")
        case "tpu", "tpus":
            guard tpu == nil else { throw .duplicate(key) }
            tpu = try Self.count(value, of: "tpu")
        default:
            throw .unknownResource(key)
        }
    }

    /// More devices than any node holds; the bound keeps the count well inside what sbatch and the
    /// Kubernetes API read (32-bit numbers).
    public static let maximumDevices = 4096

    private static func count(_ value: String, of name: String) throws(ResourcesError) -> Int {
        guard value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(value),
            (0...maximumDevices).contains(number)
        else { throw .badCount(name, value) }
        return number
    }

    static func isCPUQuantity(_ value: String) -> Bool {
        var digits = Substring(value)
        if digits.hasSuffix("m") { digits = digits.dropLast() }
        guard let number = Double(digits), number > 0, digits.allSatisfy({ $0.isNumber || $0 == "." })
        else { return false }
        return !(value.hasSuffix("m") && digits.contains("."))
    }

    static let memorySuffixes = ["Ki", "Mi", "Gi", "Ti", "Pi", "k", "K", "M", "G", "T", "P", ""]

    static func isMemoryQuantity(_ value: String) -> Bool {
        for suffix in memorySuffixes where value.hasSuffix(suffix) {
            let digits = value.dropLast(suffix.count)
            if !digits.isEmpty, digits.allSatisfy({ $0.isNumber || $0 == "." }),
                let number = Double(digits), number > 0
            {
                return true
            }
        }
        return false
    }
}

/// A resources string that cannot be understood.
public enum ResourcesError: Error, Equatable, CustomStringConvertible {
    case notKeyValue(String)
    case missingValue(String)
    case unknownResource(String)
    case badCPU(String)
    case badMemory(String)
    case badCount(String, String)
    case duplicate(String)

    public var description: String {
        switch self {
        case .notKeyValue(let item):
            return "\(quoted: item) is not NAME=VALUE; write e.g. \"cpu=4 mem=8G gpu=1\""
        case .missingValue(let key):
            return "\(quoted: key + "=") has no value; write e.g. \(key)=\(Self.example(for: key))"
        case .unknownResource(let key):
            return "unknown resource \(quoted: key)\(Suggestion.hint(for: key, in: Resources.knownNames))"
                + "; known: \(Resources.knownNames.joined(separator: ", "))"
        case .badCPU(let value):
            return "cpu must be a positive number of cores like 4, 0.5 or 500m, got \(quoted: value)"
        case .badMemory(let value):
            return "mem must be a quantity like 8G, 512Mi or 16Gi, got \(quoted: value)"
        case .badCount(let name, let value):
            return
                "\(name) must be a whole number of devices from 0 to \(Resources.maximumDevices), got \(quoted: value)"
        case .duplicate(let key):
            return "\(quoted: key) is given twice; keep one"
        }
    }

    private static func example(for key: String) -> String {
        switch key {
        case "mem", "memory": return "8G"
        case "gpu", "gpus", "tpu", "tpus": return "1"
        default: return "4"
        }
    }
}
