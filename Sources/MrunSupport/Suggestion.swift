/// "Did you mean" hints for misspelled keys, flags and names.
public enum Suggestion {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        let tolerance = max(2, word.count / 3)
        if let best, best.distance <= tolerance { return best.candidate }
        // A shortened spelling ("registry" for "registry_url", "params" for "parameters").
        guard lowered.count >= 4 else { return nil }
        return candidates.first { candidate in
            let other = candidate.lowercased()
            return other.hasPrefix(lowered)
                || other.hasPrefix(String(lowered.prefix(4)))
                    && other.unicodeScalars.count <= lowered.unicodeScalars.count * 2
        }
    }

    /// " (did you mean 'x'?)" or an empty string.
    public static func hint(for word: String, in candidates: [String]) -> String {
        closest(to: word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let left = Array(lhs.unicodeScalars)
        let right = Array(rhs.unicodeScalars)
        if left.isEmpty { return right.count }
        if right.isEmpty { return left.count }
        var previous = Array(0...right.count)
        var current = [Int](repeating: 0, count: right.count + 1)
        for i in 1...left.count {
            current[0] = i
            for j in 1...right.count {
                let substitution = previous[j - 1] + (left[i - 1] == right[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[right.count]
    }
}
