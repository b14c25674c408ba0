import Foundation

/// Where ssh connects: a context's `host`, which is an alias from the ssh config or
/// `[user@]host[:port]` (IPv6 addresses in brackets, `user@[::1]:2222`).
public struct SSHDestination: Sendable, Equatable {
    public var user: String?
    public var host: String
    public var port: Int?

    public init(user: String? = nil, host: String, port: Int? = nil) {
        self.user = user
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(SSHDestination.Invalid) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        var port: Int?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw Invalid(host: text) }
            let after = rest[rest.index(after: close)...]
            rest = rest[rest.index(after: rest.startIndex)..<close]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else { throw Invalid(host: text) }
                port = number
            }
        } else if let colon = rest.lastIndex(of: ":"), rest.firstIndex(of: ":") == colon {
            guard let number = Int(rest[rest.index(after: colon)...]) else { throw Invalid(host: text) }
            port = number
            rest = rest[..<colon]
        }
        // A leading '-' would make ssh read the destination as an option.
        let isBad: (Substring) -> Bool = {
            $0.isEmpty || $0.hasPrefix("-") || $0.contains(where: \.isWhitespace)
                || MessageQuoting.firstControl(in: String($0)) != nil
        }
        if isBad(rest) || user.map({ isBad(Substring($0)) }) == true { throw Invalid(host: text) }
        if let port, !(1...65535).contains(port) { throw Invalid(host: text) }
        self.init(user: user, host: String(rest), port: port)
    }

    /// A `host` that is not an ssh destination: ssh would read a leading '-' as an option
    /// (`-oProxyCommand=...` runs a command here), and a space or newline would split it.
    public struct Invalid: UserFacingError, Equatable {
        public var host: String
        public var description: String {
            "host \(quoted: host) is not an ssh destination; use an alias from your ssh config or"
                + " user@host[:port], without spaces or control characters and not starting with '-'"
        }
    }

    /// `user@host` as ssh takes it (the port goes to `-p`).
    public var sshTarget: String {
        user.map { "\($0)@\(host)" } ?? host
    }

    /// The `HOST:` prefix of an rsync remote path; IPv6 addresses need their brackets there.
    package var rsyncTarget: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return user.map { "\($0)@\(name)" } ?? name
    }

    public var description: String {
        rsyncTarget + (port.map { ":\($0)" } ?? "")
    }
}
