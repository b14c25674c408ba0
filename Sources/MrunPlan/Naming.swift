import MrunSupport
import MrunConfig
import MrunTemplates

/// Names that Kubernetes, Slurm and file systems all accept.
public enum Naming {
    /// Longest DNS label (RFC 1123), the limit for namespaces and for Job names used as pod labels.
    public static let maximumLabelLength = DNSLabel.maximumLength
    package static let suffixLength = 5

    /// Lowercase letters, digits and '-' (see ``DNSLabel/make(_:maximumLength:)``).
    public static func dnsLabel(_ text: String, maximumLength: Int = maximumLabelLength) -> String {
        DNSLabel.make(text, maximumLength: maximumLength)
    }

    /// The Kubernetes namespace for a project: the project name as an RFC 1123 label.
    public static func namespace(forProject project: String) throws(ExperimentError) -> String {
        let allowed = project.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || " -_.".unicodeScalars.contains($0))
        }
        let label = dnsLabel(project, maximumLength: Int.max)
        guard allowed, !label.isEmpty, label.count <= maximumLabelLength else {
            throw .invalidProject(project)
        }
        return label
    }

    /// The experiment's base name (stable across runs, used in the image name) from `--name` or the
    /// script's file name.
    public static func baseName(_ requested: String) -> String {
        let label = dnsLabel(requested, maximumLength: maximumLabelLength - suffixLength - 1)
        guard let first = label.unicodeScalars.first, ("a"..."z").contains(first) else {
            return label.isEmpty ? "exp" : "exp-\(label)".prefixLabel(maximumLabelLength - suffixLength - 1)
        }
        return label
    }

    /// A unique experiment name: the base name plus a random suffix, e.g. `train-k3x9q`.
    public static func uniqueName(base: String, suffix: String) -> String {
        "\(base)-\(suffix)"
    }

    /// The name of a sweep of `count` points, `<base>-<id>`, its base shortened so that every point's
    /// name (`<base>-<id>-<index>`, see ``pointName(sweep:index:)``) is a DNS label.
    public static func sweepName(base: String, id: String, count: Int) -> String {
        let indexLength = String(max(count - 1, 0)).count
        let room = maximumLabelLength - id.count - indexLength - 2
        return "\(base.prefixLabel(room))-\(id)"
    }

    /// The deterministic name of a sweep's point: `<sweep name>-<index>`, e.g. `train-k3x9q-3`.
    public static func pointName(sweep: String, index: Int) -> String {
        "\(sweep)-\(index)"
    }

    /// Random suffix of lowercase letters and digits.
    public static func randomSuffix<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<suffixLength).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

extension String {
    fileprivate func prefixLabel(_ length: Int) -> String {
        var label = String(prefix(length))
        while label.hasSuffix("-") { label.removeLast() }
        return label
    }
}
