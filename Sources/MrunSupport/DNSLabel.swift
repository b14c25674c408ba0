/// RFC 1123 labels: what Kubernetes takes as a namespace or a Job name used in pod labels.
public enum DNSLabel {
    /// The longest label.
    public static let maximumLength = 63

    /// Lowercase letters, digits and '-', starting and ending with a letter or digit; runs of other
    /// characters become one '-'. Empty when nothing usable is left.
    public static func make(_ text: String, maximumLength: Int = DNSLabel.maximumLength) -> String {
        var label = ""
        var pendingDash = false
        for scalar in text.lowercased().unicodeScalars {
            if scalar.isASCII && (("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)) {
                if pendingDash && !label.isEmpty { label.append("-") }
                pendingDash = false
                label.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        if label.count > maximumLength {
            label = String(label.prefix(maximumLength))
            while label.hasSuffix("-") { label.removeLast() }
        }
        return label
    }

    /// Why `text` is not an RFC 1123 label (what Kubernetes takes as a namespace), or nil.
    public static func problem(_ text: String) -> String? {
        let isAlphanumeric: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        let scalars = text.unicodeScalars
        let valid =
            !text.isEmpty && scalars.count <= Self.maximumLength
            && scalars.allSatisfy { isAlphanumeric($0) || $0 == "-" }
            && scalars.first.map(isAlphanumeric) == true && scalars.last.map(isAlphanumeric) == true
        if valid { return nil }
        let suggestion = make(text)
        let hint = suggestion.isEmpty || suggestion == text ? "" : " (e.g. '\(suggestion)')"
        return "must be an RFC 1123 label: at most 63 lowercase letters, digits and '-', starting and ending"
            + " with a letter or digit\(hint)"
    }
}
