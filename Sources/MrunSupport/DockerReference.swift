/// docker's grammar for image references (distribution's `reference` package), checked before
/// anything is built: a name that docker or a registry would refuse fails here with one line,
/// naming the flag or key, instead of after a build.
///
///     reference := name [":" tag] ["@" digest]
///     name      := [domain "/"] path-component ["/" path-component]*
///     domain    := host [":" port]        (a first component with '.' or ':', or localhost)
public enum DockerReference {
    /// docker's limit on a whole name.
    static let maximumNameLength = 255

    /// Why `text` is not an image reference, or nil when it is one.
    public static func problem(image text: String) -> String? {
        if text.isEmpty { return "is empty; give an image such as python:3.11-slim" }
        if let bad = text.first(where: {
            $0.isWhitespace || $0.unicodeScalars.contains(where: MessageQuoting.isControl)
        }) {
            return "\(quoted: text) contains \(describe(bad)); image names have none"
        }
        var name = Substring(text)
        if let at = name.firstIndex(of: "@") {
            if let problem = digestProblem(name[name.index(after: at)...]) { return "\(quoted: text): \(problem)" }
            name = name[..<at]
        }
        let lastSlash = name.lastIndex(of: "/")
        if let colon = name.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let tag = name[name.index(after: colon)...]
            if !isTag(tag) {
                return "\(quoted: text): the tag \(quoted: tag) must be 1 to 128 letters, digits, '_', '.' or '-',"
                    + " not starting with '.' or '-'"
            }
            name = name[..<colon]
        }
        if let problem = nameProblem(name) { return "\(quoted: text): \(problem)" }
        return nil
    }

    /// Why `text` is not a registry prefix (`gcr.io/my-project`, `127.0.0.1:5000`), or nil. A
    /// scheme and trailing slashes are the caller's to strip: mrun accepts them in `registry_url`.
    public static func problem(registry text: String) -> String? {
        if text.isEmpty { return "is empty; give a registry such as gcr.io/my-project" }
        if let bad = text.first(where: {
            $0.isWhitespace || $0.unicodeScalars.contains(where: MessageQuoting.isControl)
        }) {
            return "\(quoted: text) contains \(describe(bad)); registry names have none"
        }
        if text.contains("@") || (text.contains("/") && text.split(separator: "/").last?.contains(":") == true) {
            return "\(quoted: text) has a tag or digest; give only the registry and path, e.g. gcr.io/my-project"
        }
        if let problem = nameProblem(Substring(text), isRegistry: true) { return "\(quoted: text): \(problem)" }
        return nil
    }

    /// The registry part of an image name as `registry_url` may write it: `https://gcr.io/proj/` is
    /// `gcr.io/proj`.
    public static func registryPrefix(_ url: String) -> String {
        var prefix = Substring(url)
        for scheme in ["https://", "http://"] where prefix.hasPrefix(scheme) {
            prefix = prefix.dropFirst(scheme.count)
        }
        while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
        return String(prefix)
    }

    private static func describe(_ character: Character) -> String {
        character == " " ? "a space" : "the character \(quoted: String(character))"
    }

    private static func nameProblem(_ name: Substring, isRegistry: Bool = false) -> String? {
        if name.count > maximumNameLength { return "the name is longer than \(maximumNameLength) characters" }
        var components = name.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: \.isEmpty) { return "has an empty path component ('//' or a '/' at an end)" }
        let looksLikeHost: (Substring) -> Bool = { $0.contains(".") || $0.contains(":") || $0 == "localhost" }
        if let first = components.first,
            components.count > 1
                ? looksLikeHost(first) || first.contains(where: \.isUppercase) : isRegistry && looksLikeHost(first)
        {
            if let problem = domainProblem(first) { return problem }
            components.removeFirst()
        }
        for component in components where !isPathComponent(component) {
            return "\(quoted: component) must be lowercase letters and digits, separated by '.', '_', '__' or '-'"
        }
        return nil
    }

    private static func domainProblem(_ domain: Substring) -> String? {
        var host = domain
        var port: Substring?
        if domain.hasPrefix("[") {
            guard let close = domain.firstIndex(of: "]") else {
                return "the registry host \(quoted: domain) lacks its ']'"
            }
            host = domain[domain.index(after: domain.startIndex)..<close]
            let rest = domain[domain.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return "the registry \(quoted: domain) is not HOST[:PORT]" }
                port = rest.dropFirst()
            }
            if host.isEmpty || !host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
                return "the registry host \(quoted: domain) is not an IPv6 address"
            }
        } else {
            if let colon = domain.firstIndex(of: ":") {
                host = domain[..<colon]
                port = domain[domain.index(after: colon)...]
            }
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            let isLabel: (Substring) -> Bool = { label in
                !label.isEmpty && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                    && label.first != "-" && label.last != "-"
            }
            if !labels.allSatisfy(isLabel) {
                return "the registry host \(quoted: host) must be letters, digits and '-', separated by '.'"
            }
        }
        if let port {
            guard port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber), let number = Int(port),
                (1...65535).contains(number)
            else { return "the registry port \(quoted: port) must be a number from 1 to 65535" }
        }
        return nil
    }

    /// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
    private static func isPathComponent(_ component: Substring) -> Bool {
        let isAlphanumeric: (Character) -> Bool = { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        guard let first = component.first, let last = component.last, isAlphanumeric(first), isAlphanumeric(last)
        else { return false }
        var separator = ""
        for character in component {
            if isAlphanumeric(character) {
                guard
                    separator.isEmpty || separator == "." || separator == "_" || separator == "__"
                        || separator.allSatisfy({ $0 == "-" })
                else { return false }
                separator = ""
            } else if ".-_".contains(character) {
                separator.append(character)
            } else {
                return false
            }
        }
        return true
    }

    private static func isTag(_ tag: Substring) -> Bool {
        let isWord: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard let first = tag.first, isWord(first), tag.count <= 128 else { return false }
        return tag.allSatisfy { isWord($0) || $0 == "." || $0 == "-" }
    }

    private static func digestProblem(_ digest: Substring) -> String? {
        guard let colon = digest.firstIndex(of: ":") else {
            return "the digest must be ALGORITHM:HEX, e.g. sha256: and 64 hexadecimal digits"
        }
        let algorithm = digest[..<colon]
        let hex = digest[digest.index(after: colon)...]
        if algorithm == "sha256" {
            guard hex.count == 64, hex.allSatisfy({ $0.isASCII && ($0.isNumber || ("a"..."f").contains($0)) }) else {
                return "a sha256 digest is 64 lowercase hexadecimal digits, got \(hex.count) characters \(quoted: hex)"
            }
            return nil
        }
        let algorithmOK =
            algorithm.first?.isLetter == true
            && algorithm.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+.-_".contains($0)) }
        guard algorithmOK, hex.count >= 32, hex.allSatisfy(\.isHexDigit) else {
            return "the digest must be ALGORITHM:HEX, e.g. sha256: and 64 hexadecimal digits"
        }
        return nil
    }
}
