import MrunSupport

/// Checks that need the whole context, shared by context files and `context add` flags.
extension Context {
    /// A problem found in a complete context: the key at fault (nil for the whole context) and why.
    public struct Problem: Sendable, Equatable {
        public var key: ContextKey?
        /// Where in the key's list or mapping, so that an error names the item's line.
        public var place: Place?
        public var message: String

        public enum Place: Sendable, Equatable {
            case item(Int)
            case mappingKey(String)
            case mappingValue(String)
        }

        public init(key: ContextKey?, place: Place? = nil, message: String) {
            self.key = key
            self.place = place
            self.message = message
        }
    }

    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 63 else { return false }
        let allowed = name.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                || $0 == "." || $0 == "_" || $0 == "-"
        }
        return allowed && first.isASCII && (first.properties.isAlphabetic || ("0"..."9").contains(first))
    }

    package static func isValidEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }

    /// The first problem with this context, or nil when it is ready to use.
    public func problem() -> Problem? {
        if !Self.isValidName(name) {
            return Problem(key: .name, message: ConfigError.invalidContextName(name).description)
        }
        if let bad = env.keys.sorted().first(where: { !Self.isValidEnvironmentName($0) }) {
            return Problem(
                key: .env,
                message: "\(quoted: bad) is not a valid environment variable name (letters, digits and _)")
        }
        if let problem = controlCharacterProblem() ?? integerProblem() ?? gangProblem() ?? notifyProblem() {
            return problem
        }
        switch type {
        case .kubernetes:
            if kubernetes.registryURL?.isEmpty ?? true {
                return Problem(
                    key: nil,
                    message: "kubernetes contexts need 'registry_url' (e.g. registry_url: gcr.io/my-project)")
            }
            if let size = kubernetes.defaultPVCSize, !Resources.isMemoryQuantity(size) {
                return Problem(
                    key: .defaultPVCSize,
                    message: "default_pvc_size must be a quantity like 40Gi or 100G, got \(quoted: size)")
            }
            if let problem = kubernetesProblem() ?? schedulingProblem() { return problem }
        case .slurm:
            if slurm.loginNode == true {
                let sshKeys: [(ContextKey, String?)] = [
                    (.host, slurm.host), (.identityFile, slurm.identityFile), (.sshConfig, slurm.sshConfig),
                ]
                if let (key, _) = sshKeys.first(where: { $0.1 != nil }) {
                    return Problem(
                        key: key,
                        message: "\(key.rawValue) is for ssh, and login_node: true runs Slurm commands here"
                            + " without ssh; remove one of them")
                }
            } else if slurm.host?.isEmpty ?? true {
                return Problem(
                    key: nil,
                    message: "slurm contexts need 'host' (an ssh alias or user@host[:port]),"
                        + " or 'login_node: true' when mrun runs on the login node")
            }
            if let image = slurm.containerImage, image.trimmingCharacters(in: .whitespaces).isEmpty {
                return Problem(key: .containerImage, message: "container_image needs an image, e.g. ~/images/torch.sif")
            }
            if let problem = slurmProblem() { return problem }
        case .ssh:
            if let problem = ssh.problem() { return problem }
        case .local:
            break
        }
        return nil
    }
}
