/// Work on many items with a bound on how much runs at once: Job creates against one API server,
/// sweep points on this machine, questions to several clusters.
public enum BoundedConcurrency {
    /// `transform` of each element (with its position), at most `limit` at once, in the elements'
    /// order. `continuing` sees each result as it arrives; once it answers false, no element that
    /// has not started starts, and those are nil in the result.
    public static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element], limit: Int, continuing: (Result) -> Bool = { _ in true },
        _ transform: @escaping @Sendable (Int, Element) async -> Result
    ) async -> [Result?] {
        await withTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: elements.count)
            var next = 0
            var stopping = false
            func startNext() {
                guard !stopping, next < elements.count else { return }
                let index = next
                let element = elements[index]
                next += 1
                group.addTask { (index, await transform(index, element)) }
            }
            for _ in 0..<min(max(limit, 1), elements.count) { startNext() }
            for await (index, result) in group {
                results[index] = result
                if !continuing(result) { stopping = true }
                startNext()
            }
            return results
        }
    }
}
