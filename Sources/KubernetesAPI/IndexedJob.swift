import MrunSupport

extension Kubernetes {
    /// The values of `Job.spec.completionMode`.
    public enum CompletionMode {
        /// The default: pods are interchangeable, the Job needs `completions` successes.
        public static let nonIndexed = "NonIndexed"
        /// Each pod has an index from 0 to `completions - 1`; the Job needs one success per index.
        public static let indexed = "Indexed"
        public static let all = [nonIndexed, indexed]
    }

    /// What the Job controller gives each pod of an Indexed Job: its index as an annotation (and,
    /// from v1.28, a label of the same name), the `JOB_COMPLETION_INDEX` variable, and the hostname
    /// `<job>-<index>`, which with the template's `subdomain` naming a headless Service resolves as
    /// `<job>-<index>.<service>` inside the namespace.
    public enum CompletionIndex {
        public static let annotation = "batch.kubernetes.io/job-completion-index"
        public static let label = annotation
        public static let environmentVariable = "JOB_COMPLETION_INDEX"

        public static func hostname(job: String, index: Int) -> String { "\(job)-\(index)" }

        /// The pod's index, from its annotation or label; nil for a pod of a NonIndexed Job.
        public static func of(_ pod: Pod) -> Int? {
            (pod.metadata.annotations?[annotation] ?? pod.metadata.labels?[label]).flatMap { Int($0) }
        }
    }

    /// `status.completedIndexes`: increasing indexes separated by commas, three or more consecutive
    /// ones written as a range (`1,3-5,7`).
    public enum CompletionIndexes {
        public static func format(_ indexes: some Sequence<Int>) -> String {
            let sorted = Set(indexes).sorted()
            var parts: [String] = []
            var start = 0
            while start < sorted.count {
                var end = start
                while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
                switch end - start {
                case 0: parts.append("\(sorted[start])")
                case 1: parts += ["\(sorted[start])", "\(sorted[end])"]
                default: parts.append("\(sorted[start])-\(sorted[end])")
                }
                start = end + 1
            }
            return parts.joined(separator: ",")
        }

        /// The indexes `text` names; nil when it is not in the server's form.
        public static func parse(_ text: String) -> Set<Int>? {
            var indexes = Set<Int>()
            for part in text.split(separator: ",", omittingEmptySubsequences: false) where !text.isEmpty {
                let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                switch bounds.count {
                case 1:
                    guard let index = bounds[0], index >= 0 else { return nil }
                    indexes.insert(index)
                case 2:
                    // Bounded so that a malformed answer cannot make a set of billions.
                    guard let first = bounds[0], let last = bounds[1], first >= 0, first <= last,
                        last - first < 1_000_000
                    else { return nil }
                    indexes.formUnion(first...last)
                default:
                    return nil
                }
            }
            return indexes
        }
    }
}

extension Kubernetes.Job {
    /// Whether this Job's pods carry completion indexes.
    public var isIndexed: Bool { spec?.completionMode == Kubernetes.CompletionMode.indexed }
}

extension Kubernetes.JobStatus {
    /// The succeeded indexes of an Indexed Job; empty when none has succeeded.
    public var completedIndexSet: Set<Int> { completedIndexes.flatMap(Kubernetes.CompletionIndexes.parse) ?? [] }

    /// The indexes given up after their retries (`backoffLimitPerIndex`); empty when none.
    public var failedIndexSet: Set<Int> { failedIndexes.flatMap(Kubernetes.CompletionIndexes.parse) ?? [] }
}
