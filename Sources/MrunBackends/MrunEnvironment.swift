import Foundation
import KubernetesAPI
import MrunConfig
import MrunSupport

/// Everything mrun's work touches besides its inputs: the host (environment variables, home,
/// current directory), the store under `$MRUN_HOME`, where output goes, how processes run, the
/// HTTP connections to clusters, where warnings go and the clock. The CLI builds one per command
/// (``live(host:)``) and hands it down; tests build theirs with temporary homes and local servers.
public struct MrunEnvironment: Sendable {
    public var host: HostEnvironment
    /// The store of `host`'s `$MRUN_HOME`.
    public var store: ConfigStore
    /// The experiment's and mrun's output.
    public var sink: any OutputSink
    public var runner: any InputProcessRunning
    /// The pooled connections to Kubernetes API servers; ``shutdown()`` closes them.
    public var http: KubernetesHTTPClient
    /// Receives warnings, one line each, without the `mrun: warning: ` prefix.
    public var warn: @Sendable (String) -> Void
    public var now: @Sendable () -> Date

    public init(
        host: HostEnvironment, sink: any OutputSink, runner: any InputProcessRunning, http: KubernetesHTTPClient,
        warn: @escaping @Sendable (String) -> Void, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.host = host
        store = ConfigStore(home: host.mrunHome)
        self.sink = sink
        self.runner = runner
        self.http = http
        self.warn = warn
        self.now = now
    }

    /// The environment of this process: its standard streams, real processes, a new pool of
    /// HTTP connections.
    public static func live(host: HostEnvironment = .current) -> MrunEnvironment {
        MrunEnvironment(
            host: host, sink: StandardStreamsSink(), runner: SystemProcessRunner(), http: KubernetesHTTPClient(),
            warn: standardErrorWarning)
    }

    /// Writes `mrun: warning: MESSAGE` to standard error.
    public static func standardErrorWarning(_ message: String) {
        FileHandle.standardError.write(Data("mrun: warning: \(message)\n".utf8))
    }

    /// The same environment on another host (a relaunch runs from the recorded directory).
    public func with(host: HostEnvironment) -> MrunEnvironment {
        var environment = self
        environment.host = host
        environment.store = ConfigStore(home: host.mrunHome)
        return environment
    }

    /// Closes the HTTP connections; call once the command is done with the environment.
    public func shutdown() async {
        try? await http.shutdown()
    }
}
