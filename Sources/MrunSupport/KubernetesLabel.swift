/// Kubernetes' syntax for label keys and values and for DNS subdomain names, as the API server
/// checks them: a context value that becomes a label, a node selector, a taint key or an object's
/// name is refused when the context is read, not by the cluster after a build.
public enum KubernetesLabel {
    /// The longest label value, and the longest name part of a key.
    public static let maximumLength = 63
    /// The longest DNS subdomain (a key's prefix, an object's name).
    public static let maximumSubdomainLength = 253

    static let valueRule =
        "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    static let subdomainRule =
        "at most 253 lowercase letters, digits, '-' and '.', each part between dots starting and ending"
        + " with a letter or digit"

    public static func isValue(_ text: String) -> Bool {
        text.isEmpty || isName(Substring(text))
    }

    public static func isKey(_ text: String) -> Bool { keyProblem(text) == nil }

    public static func isSubdomain(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maximumSubdomainLength
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
                guard let first = part.unicodeScalars.first, let last = part.unicodeScalars.last else { return false }
                return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
                    && part.unicodeScalars.allSatisfy { isLowerAlphanumeric($0) || $0 == "-" }
            }
    }

    /// Why `text` is not a label value (empty is one, but callers that need a word refuse it), or nil.
    public static func valueProblem(_ text: String) -> String? {
        isValue(text) ? nil : "is not a label value: \(valueRule)"
    }

    /// Why `text` is not a label key (`name` or `prefix/name`, the prefix a DNS subdomain), or nil.
    public static func keyProblem(_ text: String) -> String? {
        let usage =
            "is not a label key: an optional DNS subdomain and '/', then \(valueRule)"
            + " (e.g. 'cloud.google.com/gke-nodepool')"
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return isName(parts[0]) ? nil : usage
        case 2: return isSubdomain(String(parts[0])) && isName(parts[1]) ? nil : usage
        default: return usage
        }
    }

    /// Why `text` cannot name an object such as a PriorityClass (a DNS subdomain), or nil.
    public static func subdomainProblem(_ text: String) -> String? {
        isSubdomain(text) ? nil : "is not a DNS subdomain name: \(subdomainRule) (e.g. 'high-priority')"
    }

    /// A label value's and a key's name part: not empty, at most 63 characters.
    private static func isName(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            text.utf8.count <= maximumLength
        else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last)
            && text.unicodeScalars.allSatisfy { isAlphanumeric($0) || "-_.".unicodeScalars.contains($0) }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    private static func isLowerAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
