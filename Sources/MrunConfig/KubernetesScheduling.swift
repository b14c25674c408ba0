import MrunSupport

/// One item of a kubernetes context's `tolerations`, written as `kubectl taint` writes the taint
/// it tolerates: `KEY=VALUE:EFFECT` tolerates that taint, `KEY:EFFECT` the key with any value,
/// `KEY=VALUE` or `KEY` all three effects; `:SECONDS` after `NoExecute` bounds how long a pod stays
/// on a node that gets the taint.
public struct KubernetesToleration: Codable, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    /// `Equal` with a value, `Exists` without.
    public var `operator`: String
    public var value: String?
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; nil for all three.
    public var effect: String?
    public var seconds: Int?

    public static let effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
    static let usage =
        "write KEY, KEY:EFFECT, KEY=VALUE or KEY=VALUE:EFFECT with EFFECT NoSchedule, PreferNoSchedule or"
        + " NoExecute (e.g. nvidia.com/gpu:NoSchedule)"

    public init(key: String, operator: String, value: String? = nil, effect: String? = nil, seconds: Int? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.seconds = seconds
    }

    /// Reads one item; the error says what is wrong with it, without the key name.
    public init(parsing text: String) throws(Problem) {
        let quotedText = MessageQuoting.quoted(text)
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(pieces.count), !pieces[0].isEmpty else {
            throw Problem("\(quotedText) is not a toleration; \(Self.usage)")
        }
        let head = pieces[0]
        if let equals = head.firstIndex(of: "=") {
            key = String(head[..<equals])
            value = String(head[head.index(after: equals)...])
            `operator` = "Equal"
        } else {
            key = head
            value = nil
            `operator` = "Exists"
        }
        if let problem = KubernetesLabel.keyProblem(key) {
            throw Problem("toleration \(quotedText): key \(quoted: key) \(problem)")
        }
        if let value, let problem = KubernetesLabel.valueProblem(value) {
            throw Problem("toleration \(quotedText): value \(quoted: value) \(problem)")
        }
        effect = pieces.count > 1 ? pieces[1] : nil
        if let effect, !Self.effects.contains(effect) {
            throw Problem(
                "toleration \(quotedText): effect \(quoted: effect) must be NoSchedule, PreferNoSchedule or"
                    + " NoExecute\(Suggestion.hint(for: effect, in: Self.effects))")
        }
        seconds = nil
        if pieces.count == 3 {
            guard effect == "NoExecute" else {
                throw Problem(
                    "toleration \(quotedText): only NoExecute takes a number of seconds (e.g. KEY:NoExecute:300)")
            }
            let digits = pieces[2]
            guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(digits), number <= Int(Int32.max)
            else {
                throw Problem(
                    "toleration \(quotedText): \(quoted: digits) is not a number of seconds; give a whole number"
                        + " from 0 to 2147483647 (e.g. KEY:NoExecute:300)")
            }
            seconds = number
        }
    }

    /// The item as a context writes it.
    public var description: String {
        let head = value.map { "\(key)=\($0)" } ?? key
        let tail = [effect, seconds.map(String.init)].compactMap { $0 }
        return ([head] + tail).joined(separator: ":")
    }

    public struct Problem: Error, Sendable, Equatable {
        public var message: String
        init(_ message: String) { self.message = message }
    }
}

/// The checks of the keys that cluster admins ask experiments to carry: Kueue's queue, the
/// PriorityClass, the node selector and the tolerations, each in the syntax the API server takes.
extension Context {
    func schedulingProblem() -> Problem? {
        let settings = kubernetes
        if let queue = settings.queue {
            if queue.isEmpty {
                return Problem(key: .queue, message: "queue is empty; name a Kueue LocalQueue or remove the key")
            }
            if let problem = KubernetesLabel.valueProblem(queue) {
                return Problem(
                    key: .queue,
                    message: "queue \(quoted: queue) \(problem); it names a Kueue LocalQueue (e.g. 'team-a')")
            }
        }
        if let name = settings.priorityClass, let problem = KubernetesLabel.subdomainProblem(name) {
            return Problem(key: .priorityClass, message: "priority_class \(quoted: name) \(problem)")
        }
        for (label, value) in (settings.nodeSelector ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let problem = KubernetesLabel.keyProblem(label) {
                return Problem(
                    key: .nodeSelector, place: .mappingKey(label), message: "node_selector: \(quoted: label) \(problem)"
                )
            }
            if let problem = KubernetesLabel.valueProblem(value) {
                return Problem(
                    key: .nodeSelector, place: .mappingValue(label),
                    message: "node_selector: the value \(quoted: value) of \(quoted: label) \(problem)")
            }
        }
        if let mode = settings.sweepMode {
            guard let parsed = KubernetesSettings.SweepMode(rawValue: mode) else {
                return Problem(
                    key: .sweepMode,
                    message: "sweep_mode \(quoted: mode) is not one of jobs, indexed")
            }
            if parsed == .indexed, let nodes = gang.nodes, nodes > 1 {
                return Problem(
                    key: .sweepMode,
                    message: "sweep_mode: indexed runs each point as one pod, so it cannot run gangs (nodes: \(nodes));"
                        + " use sweep_mode: jobs, where each point is an Indexed Job of its own")
            }
        }
        for (index, text) in (settings.tolerations ?? []).enumerated() {
            do {
                _ = try KubernetesToleration(parsing: text)
            } catch {
                return Problem(key: .tolerations, place: .item(index), message: "tolerations: \(error.message)")
            }
        }
        return nil
    }
}

extension KubernetesSettings {
    /// The context's tolerations, read; the items that do not parse (a context that was not
    /// checked) are left out.
    public var parsedTolerations: [KubernetesToleration] {
        (tolerations ?? []).compactMap { try? KubernetesToleration(parsing: $0) }
    }
}
