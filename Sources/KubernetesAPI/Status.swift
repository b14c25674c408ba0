import MrunSupport

extension Kubernetes {
    /// The server's answer when it has no object to return: every error (with `code`), a
    /// Background DELETE (`status: Success`, no code), and the object of a watch `ERROR` event.
    public struct Status: Codable, Sendable, Equatable {
        public var apiVersion: String? = "v1"
        public var kind: String? = "Status"
        /// Always `{}` on the wire.
        public var metadata: ListMeta? = ListMeta()
        /// `Success` or `Failure`.
        public var status: String?
        public var message: String?
        public var reason: StatusReason?
        public var details: StatusDetails?
        public var code: Int?

        public init(
            apiVersion: String? = "v1",
            kind: String? = "Status",
            metadata: ListMeta? = ListMeta(),
            status: String? = nil,
            message: String? = nil,
            reason: StatusReason? = nil,
            details: StatusDetails? = nil,
            code: Int? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.metadata = metadata
            self.status = status
            self.message = message
            self.reason = reason
            self.details = details
            self.code = code
        }
    }

    public struct StatusDetails: Codable, Sendable, Equatable {
        public var name: String?
        public var group: String?
        /// The plural resource (`jobs`) for NotFound/AlreadyExists/Conflict, the Kind (`Job`) for
        /// Invalid.
        public var kind: String?
        public var uid: String?
        /// One per invalid field of a 422.
        public var causes: [StatusCause]?
        public var retryAfterSeconds: Int?

        public init(
            name: String? = nil,
            group: String? = nil,
            kind: String? = nil,
            uid: String? = nil,
            causes: [StatusCause]? = nil,
            retryAfterSeconds: Int? = nil
        ) {
            self.name = name
            self.group = group
            self.kind = kind
            self.uid = uid
            self.causes = causes
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    public struct StatusCause: Codable, Sendable, Equatable {
        /// `FieldValueInvalid`, `FieldValueRequired`…
        public var reason: String?
        public var message: String?
        /// `spec.template.spec.containers`.
        public var field: String?

        public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    /// An open set of the reasons the API server gives, so that a newer one still decodes.
    public struct StatusReason: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let badRequest = StatusReason(rawValue: "BadRequest")
        public static let unauthorized = StatusReason(rawValue: "Unauthorized")
        public static let forbidden = StatusReason(rawValue: "Forbidden")
        public static let notFound = StatusReason(rawValue: "NotFound")
        public static let methodNotAllowed = StatusReason(rawValue: "MethodNotAllowed")
        public static let alreadyExists = StatusReason(rawValue: "AlreadyExists")
        public static let conflict = StatusReason(rawValue: "Conflict")
        public static let gone = StatusReason(rawValue: "Gone")
        /// A watch started from a resourceVersion the server no longer keeps (code 410).
        public static let expired = StatusReason(rawValue: "Expired")
        public static let invalid = StatusReason(rawValue: "Invalid")
        public static let tooManyRequests = StatusReason(rawValue: "TooManyRequests")
        public static let internalError = StatusReason(rawValue: "InternalError")
        public static let serviceUnavailable = StatusReason(rawValue: "ServiceUnavailable")
        public static let timeout = StatusReason(rawValue: "Timeout")
        public static let serverTimeout = StatusReason(rawValue: "ServerTimeout")
        public static let unknown = StatusReason(rawValue: "Unknown")

        /// What an HTTP status means when the body carries no Status, as client-go reads it.
        public static func forHTTPStatus(_ code: Int) -> StatusReason {
            switch code {
            case 400: return .badRequest
            case 401: return .unauthorized
            case 403: return .forbidden
            case 404: return .notFound
            case 405: return .methodNotAllowed
            case 409: return .conflict
            case 410: return .gone
            case 422: return .invalid
            case 429: return .tooManyRequests
            case 500: return .internalError
            case 503: return .serviceUnavailable
            case 504: return .timeout
            default: return .unknown
            }
        }
    }

    /// How a DELETE treats the object's dependents. A batch/v1 Job deleted without a policy
    /// orphans its pods, so mrun always sends `Background`.
    public enum PropagationPolicy: String, Codable, Sendable, Equatable {
        case background = "Background"
        case foreground = "Foreground"
        case orphan = "Orphan"
    }

    /// The body of a DELETE.
    public struct DeleteOptions: Codable, Sendable, Equatable {
        public var apiVersion: String? = "v1"
        public var kind: String? = "DeleteOptions"
        public var propagationPolicy: PropagationPolicy?
        public var gracePeriodSeconds: Int?
        /// `["All"]` validates without deleting.
        public var dryRun: [String]?

        public init(
            apiVersion: String? = "v1",
            kind: String? = "DeleteOptions",
            propagationPolicy: PropagationPolicy? = nil,
            gracePeriodSeconds: Int? = nil,
            dryRun: [String]? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.propagationPolicy = propagationPolicy
            self.gracePeriodSeconds = gracePeriodSeconds
            self.dryRun = dryRun
        }
    }

    /// `GET /version`: what a cluster check prints.
    public struct VersionInfo: Codable, Sendable, Equatable {
        public var major: String
        public var minor: String
        /// `v1.25.0-k3s1`.
        public var gitVersion: String
        public var gitCommit: String?
        public var gitTreeState: String?
        public var buildDate: String?
        public var goVersion: String?
        public var compiler: String?
        public var platform: String?

        public init(
            major: String,
            minor: String,
            gitVersion: String,
            gitCommit: String? = nil,
            gitTreeState: String? = nil,
            buildDate: String? = nil,
            goVersion: String? = nil,
            compiler: String? = nil,
            platform: String? = nil
        ) {
            self.major = major
            self.minor = minor
            self.gitVersion = gitVersion
            self.gitCommit = gitCommit
            self.gitTreeState = gitTreeState
            self.buildDate = buildDate
            self.goVersion = goVersion
            self.compiler = compiler
            self.platform = platform
        }
    }
}
