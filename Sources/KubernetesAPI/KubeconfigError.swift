import MrunSupport

/// Problems finding, reading or using a kubeconfig, each printed as one line that names the file at
/// fault and what to do. Messages never contain tokens, keys or other credential values.
public enum KubeconfigError: UserFacingError, Equatable {
    /// No kubeconfig file exists; `searched` are the paths tried, `fromVariable` whether they came
    /// from `$KUBECONFIG`.
    case noKubeconfig(searched: [String], fromVariable: Bool)
    /// A problem at a place in a kubeconfig file; `line`/`column` are 1-based when known.
    case invalidFile(file: String, line: Int?, column: Int?, message: String)
    case unreadable(String)
    case noContexts(files: [String])
    case noCurrentContext(files: [String])
    case unknownContext(name: String, known: [String], files: [String])
    case contextWithoutCluster(context: String, file: String)
    case missingCluster(context: String, cluster: String, file: String)
    case missingUser(context: String, user: String, file: String)
    case clusterWithoutServer(cluster: String, context: String, file: String)
    case invalidServer(server: String, cluster: String, context: String, file: String)
    /// `owner` is "cluster 'NAME'" or "user 'NAME'".
    case invalidBase64(field: String, owner: String, context: String, file: String)
    case missingFile(field: String, path: String, owner: String, context: String, file: String)
    case unreadableFile(field: String, path: String, owner: String, context: String, file: String, reason: String)
    case conflictingFields(first: String, second: String, owner: String, context: String, file: String)
    case certificateWithoutKey(user: String, context: String, file: String)
    case keyWithoutCertificate(user: String, context: String, file: String)
    case insecureWithCertificateAuthority(cluster: String, context: String, file: String)
    case basicAuth(user: String, context: String, file: String)
    case authProvider(name: String, user: String, context: String, file: String)
    case invalidExec(user: String, context: String, file: String, problem: String)
    case execNotFound(command: String, installHint: String?)
    case execLaunchFailed(command: String, reason: String)
    case execFailed(command: String, status: ExitStatus, lastErrorLine: String?, installHint: String?)
    case execInvalidOutput(command: String, problem: String)
    case tokenFileUnreadable(path: String, reason: String)
    case emptyTokenFile(path: String)
    case inClusterFileMissing(path: String)

    public var description: String {
        switch self {
        case .noKubeconfig(let searched, let fromVariable):
            let create =
                "create one with 'gcloud container clusters get-credentials CLUSTER' (GKE) or with"
                + " 'kubectl config set-cluster' and 'kubectl config set-context'"
            guard fromVariable else {
                return "no kubeconfig at \(searched.joined(separator: ", ")); \(create), or point KUBECONFIG at one"
            }
            let listed = searched.isEmpty ? "it lists no file" : "none of \(searched.joined(separator: ", ")) exists"
            return "no kubeconfig found through KUBECONFIG: \(listed); \(create), or fix KUBECONFIG"
        case .invalidFile(let file, let line, let column, let message):
            let place = [line, column].compactMap { $0 }.map(String.init).joined(separator: ":")
            return place.isEmpty ? "\(file): \(message)" : "\(file):\(place): \(message)"
        case .unreadable(let message):
            return message
        case .noContexts(let files):
            return "\(Self.list(files)): no contexts are defined; create one with"
                + " 'gcloud container clusters get-credentials CLUSTER' (GKE) or 'kubectl config set-context'"
        case .noCurrentContext(let files):
            return "\(Self.list(files)): no current-context is set; choose one with"
                + " 'kubectl config use-context NAME' or set kube_context in the mrun context"
        case .unknownContext(let name, let known, let files):
            return "\(Self.list(files)): no context named \(quoted: name)\(Suggestion.hint(for: name, in: known));"
                + " known: \(known.joined(separator: ", ")); set kube_context to one of them"
        case .contextWithoutCluster(let context, let file):
            return "\(file): context \(quoted: context) names no cluster;"
                + " set one with 'kubectl config set-context \(context) --cluster=NAME'"
        case .missingCluster(let context, let cluster, let file):
            return "\(file): context \(quoted: context) uses cluster \(quoted: cluster), which is not defined;"
                + " add it with 'kubectl config set-cluster \(cluster) --server=URL' or fix the context"
        case .missingUser(let context, let user, let file):
            return "\(file): context \(quoted: context) uses user \(quoted: user), which is not defined;"
                + " add it with 'kubectl config set-credentials \(user)' or fix the context"
        case .clusterWithoutServer(let cluster, let context, let file):
            return "\(file): cluster \(quoted: cluster) (context \(quoted: context)) has no server;"
                + " set it with 'kubectl config set-cluster \(cluster) --server=https://HOST'"
        case .invalidServer(let server, let cluster, let context, let file):
            return
                "\(file): server \(quoted: server) of cluster \(quoted: cluster) (context \(quoted: context)) is not an"
                + " http(s) URL; use the form https://HOST[:PORT], PORT from 1 to 65535"
        case .invalidBase64(let field, let owner, let context, let file):
            return "\(file): \(field) of \(owner) (context \(quoted: context)) is not valid base64;"
                + " copy the value again, or give a file path in \(field.replacingOccurrences(of: "-data", with: ""))"
        case .missingFile(let field, let path, let owner, let context, let file):
            return "\(file): \(field) \(quoted: path) of \(owner) (context \(quoted: context)) does not exist;"
                + " fix the path (a relative one is taken from the kubeconfig's directory)"
        case .unreadableFile(let field, let path, let owner, let context, let file, let reason):
            return "\(file): cannot read \(field) \(quoted: path) of \(owner) (context \(quoted: context)): \(reason)"
        case .conflictingFields(let first, let second, let owner, let context, let file):
            return "\(file): \(owner) (context \(quoted: context)) sets both \(first) and \(second);"
                + " keep one (kubectl refuses this too)"
        case .certificateWithoutKey(let user, let context, let file):
            return "\(file): user \(quoted: user) (context \(quoted: context)) has a client certificate but no"
                + " client-key or client-key-data; add the key that belongs to the certificate"
        case .keyWithoutCertificate(let user, let context, let file):
            return "\(file): user \(quoted: user) (context \(quoted: context)) has a client key but no"
                + " client-certificate or client-certificate-data; add the certificate"
        case .insecureWithCertificateAuthority(let cluster, let context, let file):
            return
                "\(file): cluster \(quoted: cluster) (context \(quoted: context)) sets insecure-skip-tls-verify together"
                + " with a certificate authority; remove one of them (kubectl refuses this too)"
        case .basicAuth(let user, let context, let file):
            return "\(file): user \(quoted: user) (context \(quoted: context)) uses username/password, but basic"
                + " authentication was removed from Kubernetes; use a token, a client certificate or an exec plugin"
        case .authProvider(let name, let user, let context, let file):
            return
                "\(file): user \(quoted: user) (context \(quoted: context)) uses auth-provider \(quoted: name), which mrun"
                + " does not support; use an exec plugin (for GKE: install gke-gcloud-auth-plugin and rerun"
                + " 'gcloud container clusters get-credentials')"
        case .invalidExec(let user, let context, let file, let problem):
            return "\(file): exec plugin of user \(quoted: user) (context \(quoted: context)): \(problem)"
        case .execNotFound(let command, let installHint):
            let hint = installHint.map(Self.oneLine) ?? "install it, or fix 'command' in the kubeconfig"
            return "exec plugin \(quoted: command) not found; \(hint)"
        case .execLaunchFailed(let command, let reason):
            return "exec plugin \(quoted: command) could not be started: \(reason)"
        case .execFailed(let command, let status, let lastErrorLine, let installHint):
            let how =
                switch status {
                case .exited(let code): "failed with exit status \(code)"
                case .signalled(let signal): "was killed by signal \(signal)"
                }
            let detail = lastErrorLine.map { ": \($0)" } ?? " and printed nothing on stderr"
            let hint = installHint.map { "; \(Self.oneLine($0))" } ?? ""
            return "exec plugin \(quoted: command) \(how)\(detail)\(hint)"
        case .execInvalidOutput(let command, let problem):
            return "exec plugin \(quoted: command) returned no usable credential: \(problem)"
        case .tokenFileUnreadable(let path, let reason):
            return "cannot read the token file \(quoted: path): \(reason); fix tokenFile in the kubeconfig"
        case .emptyTokenFile(let path):
            return "the token file \(quoted: path) is empty; write the token into it or fix tokenFile in the kubeconfig"
        case .inClusterFileMissing(let path):
            return "in-cluster config: \(path) does not exist; mount the pod's service account token"
                + " (automountServiceAccountToken) or provide a kubeconfig"
        }
    }

    private static func list(_ files: [String]) -> String {
        files.joined(separator: ", ")
    }

    /// Install hints are often several indented lines; an error must stay on one.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
