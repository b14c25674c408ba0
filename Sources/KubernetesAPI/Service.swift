import MrunSupport

extension Kubernetes {
    /// A v1 Service. mrun makes headless ones (`clusterIP: None`) selecting a gang's pods, so that
    /// each pod resolves by its hostname within the Service's name; the server fills in `type`,
    /// `sessionAffinity`, the IP families and the ports' protocol.
    public struct Service: KubernetesObject {
        public static let apiVersion = "v1"
        public static let kind = "Service"
        public static let resource = "services"
        public static let isNamespaced = true

        public var apiVersion: String? = Self.apiVersion
        public var kind: String? = Self.kind
        public var metadata: ObjectMeta
        public var spec: ServiceSpec?
        public var status: ServiceStatus?

        public init(
            apiVersion: String? = Self.apiVersion,
            kind: String? = Self.kind,
            metadata: ObjectMeta,
            spec: ServiceSpec? = nil,
            status: ServiceStatus? = nil
        ) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.metadata = metadata
            self.spec = spec
            self.status = status
        }
    }

    public struct ServiceSpec: Codable, Sendable, Equatable {
        /// `ClusterIP` (the default), `NodePort`, `LoadBalancer` or `ExternalName`.
        public var type: String?
        /// `None` for a headless Service: no virtual IP, DNS answers with the pods' addresses.
        public var clusterIP: String?
        /// Set by the server: `[clusterIP]`.
        public var clusterIPs: [String]?
        /// The pods' labels the Service selects.
        public var selector: [String: String]?
        /// May be empty for a headless Service, which names pods rather than forwards ports.
        public var ports: [ServicePort]?
        /// Pods get DNS records before they are ready: a gang's ranks look each other up while
        /// they start.
        public var publishNotReadyAddresses: Bool?
        /// `None` (the default) or `ClientIP`.
        public var sessionAffinity: String?
        /// Set by the server: `["IPv4"]` on a single-stack cluster.
        public var ipFamilies: [String]?
        /// `SingleStack` (the default), `PreferDualStack` or `RequireDualStack`.
        public var ipFamilyPolicy: String?
        /// `Cluster` (the default) or `Local`.
        public var internalTrafficPolicy: String?

        public init(
            type: String? = nil,
            clusterIP: String? = nil,
            clusterIPs: [String]? = nil,
            selector: [String: String]? = nil,
            ports: [ServicePort]? = nil,
            publishNotReadyAddresses: Bool? = nil,
            sessionAffinity: String? = nil,
            ipFamilies: [String]? = nil,
            ipFamilyPolicy: String? = nil,
            internalTrafficPolicy: String? = nil
        ) {
            self.type = type
            self.clusterIP = clusterIP
            self.clusterIPs = clusterIPs
            self.selector = selector
            self.ports = ports
            self.publishNotReadyAddresses = publishNotReadyAddresses
            self.sessionAffinity = sessionAffinity
            self.ipFamilies = ipFamilies
            self.ipFamilyPolicy = ipFamilyPolicy
            self.internalTrafficPolicy = internalTrafficPolicy
        }

        /// The `clusterIP` of a headless Service.
        public static let headlessClusterIP = "None"
    }

    public struct ServicePort: Codable, Sendable, Equatable {
        /// A DNS label; required when the Service has several ports.
        public var name: String?
        /// `TCP` (the default), `UDP` or `SCTP`.
        public var `protocol`: String?
        public var port: Int
        /// The pods' port, a number or a container port's name; the server defaults it to `port`.
        public var targetPort: IntOrString?
        public var appProtocol: String?
        public var nodePort: Int?

        public init(
            name: String? = nil, protocol: String? = nil, port: Int, targetPort: IntOrString? = nil,
            appProtocol: String? = nil, nodePort: Int? = nil
        ) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
            self.targetPort = targetPort
            self.appProtocol = appProtocol
            self.nodePort = nodePort
        }
    }

    public struct ServiceStatus: Codable, Sendable, Equatable {
        /// `{}` for every Service that is not a LoadBalancer.
        public var loadBalancer: LoadBalancerStatus?

        public init(loadBalancer: LoadBalancerStatus? = nil) {
            self.loadBalancer = loadBalancer
        }
    }

    public struct LoadBalancerStatus: Codable, Sendable, Equatable {
        public var ingress: [LoadBalancerIngress]?

        public init(ingress: [LoadBalancerIngress]? = nil) {
            self.ingress = ingress
        }
    }

    public struct LoadBalancerIngress: Codable, Sendable, Equatable {
        public var ip: String?
        public var hostname: String?

        public init(ip: String? = nil, hostname: String? = nil) {
            self.ip = ip
            self.hostname = hostname
        }
    }

    /// A field that is a number or a name in the API (`targetPort: 29500` or `targetPort: rdzv`).
    public enum IntOrString: Codable, Sendable, Hashable {
        case int(Int)
        case string(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                self = .int(number)
            } else {
                self = .string(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .int(let number): try container.encode(number)
            case .string(let text): try container.encode(text)
            }
        }
    }
}

extension Kubernetes.Service {
    /// A headless Service selecting `selector`'s pods, owned by `owner` (deleted with it): the
    /// shape a gang's rendezvous needs. Not-ready pods are published, so that rank 0 resolves
    /// while the others start.
    public static func headless(
        name: String, selector: [String: String], ports: [Kubernetes.ServicePort] = [],
        labels: [String: String]? = nil, owner: Kubernetes.OwnerReference? = nil
    ) -> Kubernetes.Service {
        Kubernetes.Service(
            metadata: .init(name: name, labels: labels, ownerReferences: owner.map { [$0] }),
            spec: .init(
                clusterIP: Kubernetes.ServiceSpec.headlessClusterIP, selector: selector,
                ports: ports.isEmpty ? nil : ports, publishNotReadyAddresses: true))
    }

    public var isHeadless: Bool { spec?.clusterIP == Kubernetes.ServiceSpec.headlessClusterIP }
}
