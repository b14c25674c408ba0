import Foundation

/// What mrun reads from the machine it runs on, gathered in one value so tests can supply their own
/// home, environment and working directory instead of the user's.
public struct HostEnvironment: Sendable {
    public var variables: [String: String]
    public var homeDirectory: URL
    public var currentDirectory: URL

    public init(variables: [String: String], homeDirectory: URL, currentDirectory: URL) {
        self.variables = variables
        self.homeDirectory = homeDirectory
        self.currentDirectory = currentDirectory
    }

    /// The real process environment.
    public static var current: HostEnvironment {
        let variables = ProcessInfo.processInfo.environment
        let home =
            variables["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return HostEnvironment(variables: variables, homeDirectory: home, currentDirectory: cwd)
    }

    /// `$MRUN_HOME`, else `$XDG_CONFIG_HOME/mrun`, else `~/.config/mrun`.
    public var mrunHome: URL {
        if let explicit = variables["MRUN_HOME"], !explicit.isEmpty {
            return resolve(explicit)
        }
        if let xdg = variables["XDG_CONFIG_HOME"], !xdg.isEmpty {
            return resolve(xdg).appendingPathComponent("mrun")
        }
        return homeDirectory.appendingPathComponent(".config/mrun")
    }

    /// An absolute URL for a path given by the user: `~` expands to the home directory and relative
    /// paths are taken from the current directory.
    public func resolve(_ path: String) -> URL {
        if path == "~" { return homeDirectory }
        if path.hasPrefix("~/") {
            return homeDirectory.appendingPathComponent(String(path.dropFirst(2))).standardizedFileURL
        }
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL }
        return currentDirectory.appendingPathComponent(path).standardizedFileURL
    }
}
