import Foundation
import MrunSupport

/// Finds and reads the kubeconfig exactly like kubectl, and turns a context into a ``ClusterConnection``.
///
/// Keep one loader per mrun process: its ``credentialCache`` holds exec plugin credentials in memory,
/// so later resolves and requests do not run the plugin again.
public struct KubeconfigLoader: Sendable {
    /// Where Kubernetes mounts a pod's service account.
    public static let defaultServiceAccountDirectory = URL(
        fileURLWithPath: "/var/run/secrets/kubernetes.io/serviceaccount")

    public var host: HostEnvironment
    public var runner: any ProcessRunning
    public var credentialCache: ExecCredentialCache
    public var serviceAccountDirectory: URL

    /// - Parameter credentialCache: defaults to one persisting under
    ///   `$MRUN_HOME/cache/exec-credentials`.
    public init(
        host: HostEnvironment,
        runner: any ProcessRunning = SystemProcessRunner(),
        credentialCache: ExecCredentialCache? = nil,
        serviceAccountDirectory: URL = KubeconfigLoader.defaultServiceAccountDirectory
    ) {
        self.host = host
        self.runner = runner
        self.credentialCache =
            credentialCache
            ?? ExecCredentialCache(directory: ExecCredentialCache.defaultDirectory(mrunHome: host.mrunHome))
        self.serviceAccountDirectory = serviceAccountDirectory
    }

    /// The files kubectl would read, in order: `$KUBECONFIG` (colon-separated, duplicates dropped,
    /// relative entries taken from the current directory), else `~/.kube/config`.
    public var candidateFiles: [URL] {
        guard let variable = host.variables["KUBECONFIG"], !variable.isEmpty else {
            return [host.homeDirectory.appendingPathComponent(".kube/config")]
        }
        var seen = Set<String>()
        var files: [URL] = []
        for entry in variable.split(separator: ":", omittingEmptySubsequences: true) {
            let path = String(entry)
            let url =
                path.hasPrefix("/")
                ? URL(fileURLWithPath: path).standardizedFileURL
                : host.currentDirectory.appendingPathComponent(path).standardizedFileURL
            if seen.insert(url.path).inserted { files.append(url) }
        }
        return files
    }

    private var usesVariable: Bool { !(host.variables["KUBECONFIG"] ?? "").isEmpty }

    /// Reads and merges the candidate files; missing ones are skipped like kubectl skips them.
    public func load() throws(KubeconfigError) -> Kubeconfig {
        var files: [(url: URL, file: KubeconfigFile)] = []
        for url in candidateFiles {
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let text: String
            do {
                text = try FileText.read(url, role: "kubeconfig")
            } catch {
                throw .unreadable(error.description)
            }
            let parsed = try KubeconfigParser.parse(text, file: url.path)
            files.append((url, parsed.resolvingPaths(against: url.deletingLastPathComponent())))
        }
        return Kubeconfig(merging: files)
    }

    /// The connection for `contextName` (an mrun context's `kube_context`), else for the
    /// kubeconfig's `current-context`.
    ///
    /// Without any kubeconfig content and without a requested context, the pod's in-cluster config
    /// is used when `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` are set, as kubectl does.
    /// Exec plugins are not run here but on the first ``ClusterConnection/bearerToken()``.
    public func resolve(contextName: String?) throws(KubeconfigError) -> ClusterConnection {
        let config = try load()
        let requested = contextName.flatMap { $0.isEmpty ? nil : $0 }
        if config.isEmpty, requested == nil, let inCluster = try inClusterConnection() {
            return inCluster
        }
        let paths = config.files.map(\.path)
        guard !config.files.isEmpty else {
            throw .noKubeconfig(searched: candidateFiles.map(\.path), fromVariable: usesVariable)
        }
        guard !config.contexts.isEmpty else { throw .noContexts(files: paths) }
        guard let name = requested ?? config.currentContext else { throw .noCurrentContext(files: paths) }
        guard let context = config.contexts[name] else {
            throw .unknownContext(name: name, known: config.contexts.keys.sorted(), files: paths)
        }
        return try ConnectionBuilder(
            config: config, contextName: name, context: context, plugin: pluginEnvironment
        ).build()
    }

    private var pluginEnvironment: ExecCredentialPlugin.Environment {
        ExecCredentialPlugin.Environment(
            runner: runner, variables: host.variables, workingDirectory: host.currentDirectory.path,
            cache: credentialCache)
    }

    /// The in-cluster config, or nil when mrun does not run in a pod.
    func inClusterConnection() throws(KubeconfigError) -> ClusterConnection? {
        guard let serviceHost = host.variables["KUBERNETES_SERVICE_HOST"], !serviceHost.isEmpty,
            let port = host.variables["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else { return nil }
        let hostPart = serviceHost.contains(":") ? "[\(serviceHost)]" : serviceHost
        guard let server = URL(string: "https://\(hostPart):\(port)") else {
            throw .invalidServer(
                server: "\(serviceHost):\(port)", cluster: "in-cluster", context: "in-cluster",
                file: "KUBERNETES_SERVICE_HOST")
        }
        let tokenFile = serviceAccountDirectory.appendingPathComponent("token")
        let caFile = serviceAccountDirectory.appendingPathComponent("ca.crt")
        for required in [tokenFile, caFile] where !FileManager.default.fileExists(atPath: required.path) {
            throw .inClusterFileMissing(path: required.path)
        }
        let ca: Data
        do {
            ca = try Data(contentsOf: caFile)
        } catch {
            throw .unreadable("in-cluster config: cannot read \(caFile.path): \(error.localizedDescription)")
        }
        let namespaceFile = serviceAccountDirectory.appendingPathComponent("namespace")
        let namespace = (try? String(contentsOf: namespaceFile, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return ClusterConnection(
            server: server, contextName: "in-cluster",
            namespace: namespace.flatMap { $0.isEmpty ? nil : $0 },
            certificateAuthorityPEM: [UInt8](ca), credentials: .tokenFile(tokenFile))
    }
}
