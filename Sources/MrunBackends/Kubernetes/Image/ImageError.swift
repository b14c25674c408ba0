import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// Why the image of a Kubernetes run could not be found, built or pushed.
///
/// Messages never contain a registry password: credentials are only ever named by registry and user.
public enum ImageError: UserFacingError, Equatable {
    case notAnImagePlan(experiment: String)
    case invalidTag(String)
    case dockerNotInstalled
    case daemonUnreachable(address: String)
    case daemonPermissionDenied(address: String)
    case dockerConfigInvalid(path: String, reason: String)
    case credentialHelperFailed(helper: String, registry: String, reason: String)
    case registryUnreachable(registry: String, reason: String)
    case registryFailed(registry: String, reason: String)
    case notLoggedIn(registry: String)
    case wrongCredentials(registry: String, user: String)
    case contextUnwritable(path: String, reason: String)
    /// `step` is docker's own `Step N/M : INSTRUCTION` line; `output` the last lines the step printed.
    case buildStepFailed(step: String, status: ExitStatus, output: [String])
    case buildFailed(status: ExitStatus, output: [String])
    case pushDenied(tag: String, reason: String)
    case pushFailed(tag: String, status: ExitStatus, output: [String])
    case digestUnavailable(tag: String, reason: String)

    public var description: String {
        switch self {
        case .notAnImagePlan(let experiment):
            return "experiment \(experiment) has no image to build: only Kubernetes plans have one"
        case .invalidTag(let tag):
            return "\(quoted: tag) is not a valid image name; check the context's registry_url"
        case .dockerNotInstalled:
            return "docker is not installed (no 'docker' on PATH); install Docker to build images for Kubernetes runs"
        case .daemonUnreachable(let address):
            return
                "Cannot connect to the Docker daemon at \(address): start docker, or set DOCKER_HOST to a running daemon"
        case .daemonPermissionDenied(let address):
            return
                "permission denied on the Docker daemon socket \(address): add your user to the 'docker' group, or set DOCKER_HOST to a daemon you may use"
        case .dockerConfigInvalid(let path, let reason):
            return "cannot read docker's credentials from \(path): \(reason); fix the file or run 'docker login' again"
        case .credentialHelperFailed(let helper, let registry, let reason):
            return "docker credential helper \(quoted: helper) failed for \(registry): \(reason)"
        case .registryUnreachable(let registry, let reason):
            return "registry \(registry) is unreachable (\(reason)); check the context's registry_url and your network"
        case .registryFailed(let registry, let reason):
            return "registry \(registry) failed: \(reason)"
        case .notLoggedIn(let registry):
            return "registry \(registry) requires a login: run 'docker login \(registry)'"
        case .wrongCredentials(let registry, let user):
            return
                "registry \(registry) rejected the stored login of user \(quoted: user) (wrong user or password): run 'docker login \(registry)'"
        case .contextUnwritable(let path, let reason):
            return "cannot assemble the docker build context in \(path): \(reason)"
        case .buildStepFailed(let step, let status, let output):
            return Self.withOutput("docker build failed at '\(step)' (\(Self.describe(status)))", output)
        case .buildFailed(let status, let output):
            return Self.withOutput("docker build failed (\(Self.describe(status)))", output)
        case .pushDenied(let tag, let reason):
            return
                "the registry denied the push of \(tag) (\(reason)); check that your login may push to this repository"
        case .pushFailed(let tag, let status, let output):
            return Self.withOutput("docker push \(tag) failed (\(Self.describe(status)))", output)
        case .digestUnavailable(let tag, let reason):
            return "cannot find the registry digest of \(tag) after pushing it: \(reason)"
        }
    }

    /// The one-line summary followed by the failing command's last lines, indented, so the reader sees
    /// why without scrolling back through the build.
    private static func withOutput(_ summary: String, _ output: [String]) -> String {
        guard !output.isEmpty else { return summary }
        return ([summary + "; its last lines:"] + output.map { "    " + $0 }).joined(separator: "\n")
    }

    private static func describe(_ status: ExitStatus) -> String {
        switch status {
        case .exited(let code): "exit status \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        }
    }
}

/// Reads docker's failure messages, which are the only place the reason for a failure is given.
enum DockerFailure {
    /// The daemon-level failure in `output` (docker's stderr), if that is why the command failed.
    static func daemonProblem(in output: String) -> ImageError? {
        for line in output.split(separator: "\n") {
            if let range = line.range(of: "Cannot connect to the Docker daemon at ") {
                return .daemonUnreachable(address: address(after: line[range.upperBound...]))
            }
            if line.contains("permission denied while trying to connect to the Docker daemon socket at ") {
                let start = line.range(of: "socket at ").map { line[$0.upperBound...] } ?? ""
                return .daemonPermissionDenied(address: address(after: start))
            }
        }
        return nil
    }

    /// Classifies a failed `docker push` by the registry's answer in its output.
    static func pushProblem(in output: [String], tag: String, registry: String, loggedIn: Bool) -> ImageError? {
        let text = output.joined(separator: "\n")
        if let daemon = daemonProblem(in: text) { return daemon }
        let lower = text.lowercased()
        if lower.contains("no basic auth credentials") || lower.contains("authentication required") {
            return loggedIn ? .pushDenied(tag: tag, reason: reason(in: output)) : .notLoggedIn(registry: registry)
        }
        if lower.contains("denied") || lower.contains("unauthorized") || lower.contains("forbidden") {
            return .pushDenied(tag: tag, reason: reason(in: output))
        }
        for marker in ["connection refused", "no such host", "i/o timeout", "network is unreachable", "dial tcp"]
        where lower.contains(marker) {
            return .registryUnreachable(registry: registry, reason: reason(in: output))
        }
        return nil
    }

    /// The address in `Cannot connect to the Docker daemon at ADDRESS. Is the docker daemon running?`.
    private static func address(after text: Substring) -> String {
        var address = text.prefix { !$0.isWhitespace }
        if address.hasSuffix(".") { address = address.dropLast() }
        return String(address)
    }

    /// The last non-empty line: docker prints the registry's reason last.
    private static func reason(in output: [String]) -> String {
        output.last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? "no reason given"
    }
}
