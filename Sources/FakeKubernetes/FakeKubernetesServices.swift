import Foundation

import KubernetesAPI
import MrunSupport

/// Services as kube-apiserver v1.25 stores them. The fixtures hold no Service exchange; the
/// defaults and messages follow the server's code (`pkg/apis/core/validation`, the service
/// registry): a headless Service keeps `clusterIP: None`, any other gets an address of k3s's
/// service range, and both get the single-stack IPv4 families and `type: ClusterIP`.
extension Kubernetes.Service: FakeStorable {
    package mutating func applyServerDefaults() {
        var spec = spec ?? Kubernetes.ServiceSpec()
        let type = spec.type ?? "ClusterIP"
        spec.type = type
        spec.sessionAffinity = spec.sessionAffinity ?? "None"
        if type != "ExternalName" {
            let address = spec.clusterIP.flatMap { $0.isEmpty ? nil : $0 } ?? FakeServiceAddresses.next()
            spec.clusterIP = address
            spec.clusterIPs = spec.clusterIPs ?? [address]
            spec.ipFamilies = spec.ipFamilies ?? ["IPv4"]
            spec.ipFamilyPolicy = spec.ipFamilyPolicy ?? "SingleStack"
            spec.internalTrafficPolicy = spec.internalTrafficPolicy ?? "Cluster"
        }
        spec.ports = spec.ports?.map { port in
            var port = port
            port.protocol = port.protocol ?? "TCP"
            port.targetPort = port.targetPort ?? .int(port.port)
            if ["NodePort", "LoadBalancer"].contains(type) {
                port.nodePort = port.nodePort ?? FakeServiceAddresses.nodePort()
            }
            return port
        }
        self.spec = spec
        status = Kubernetes.ServiceStatus(loadBalancer: .init())
    }

    package func validationCauses() -> [Kubernetes.StatusCause] {
        var causes = serviceNameCauses()
        let spec = spec ?? Kubernetes.ServiceSpec()
        let types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
        if let type = spec.type, !types.contains(type) {
            causes.append(FakeCauses.notSupported("spec.type", value: type, supported: types))
        }
        if let address = spec.clusterIP, !address.isEmpty, address != Kubernetes.ServiceSpec.headlessClusterIP,
            !FakeServiceAddresses.isIPv4(address)
        {
            causes.append(
                .init(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: \"\(address)\": must be empty, 'None', or a valid IP address",
                    field: "spec.clusterIPs[0]"))
        }
        let ports = spec.ports ?? []
        if ports.isEmpty, !isHeadless, spec.type != "ExternalName" {
            causes.append(.init(reason: "FieldValueRequired", message: "Required value", field: "spec.ports"))
        }
        for (index, port) in ports.enumerated() {
            if ports.count > 1, port.name?.isEmpty ?? true {
                causes.append(
                    .init(reason: "FieldValueRequired", message: "Required value", field: "spec.ports[\(index)].name"))
            }
            if !(1...65535).contains(port.port) {
                causes.append(
                    .init(
                        reason: "FieldValueInvalid",
                        message: "Invalid value: \(port.port): must be between 1 and 65535, inclusive",
                        field: "spec.ports[\(index)].port"))
            }
            if let name = port.protocol, !["TCP", "UDP", "SCTP"].contains(name) {
                causes.append(
                    FakeCauses.notSupported(
                        "spec.ports[\(index)].protocol", value: name, supported: ["SCTP", "TCP", "UDP"]))
            }
        }
        for value in (spec.selector ?? [:]).sorted(by: { $0.key < $1.key }).map(\.value)
        where !KubernetesLabel.isValue(value) {
            causes.append(
                .init(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: \"\(value)\": \(FakeCauses.labelValueRule)", field: "spec.selector"))
        }
        return causes
    }

    /// Service names are DNS-1035 labels: unlike other objects', they start with a letter.
    private func serviceNameCauses() -> [Kubernetes.StatusCause] {
        guard let name = metadata.name else { return nameCauses(label: true) }
        guard name.count > 63 || name.wholeMatch(of: /[a-z]([-a-z0-9]*[a-z0-9])?/) == nil else { return [] }
        return [
            .init(
                reason: "FieldValueInvalid",
                message: "Invalid value: \"\(name)\": a DNS-1035 label must consist of lower case alphanumeric"
                    + " characters or '-', start with an alphabetic character, and end with an alphanumeric"
                    + " character (e.g. 'my-name',  or 'abc-123', regex used for validation is"
                    + " '[a-z]([-a-z0-9]*[a-z0-9])?')",
                field: "metadata.name")
        ]
    }
}

/// Addresses from k3s's default service range (10.43.0.0/16), and node ports.
enum FakeServiceAddresses {
    static func next() -> String { "10.43.\(Int.random(in: 0...255)).\(Int.random(in: 1...254))" }

    static func nodePort() -> Int { Int.random(in: 30000...32767) }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                part.count <= 3 && part.allSatisfy(\.isASCII) && Int(part).map { (0...255).contains($0) } == true
            }
    }
}

/// Causes worded as the server's field errors.
enum FakeCauses {
    static let labelValueRule =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must"
        + " start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used"
        + " for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    /// `Unsupported value: "X": supported values: "A", "B"`.
    static func notSupported(_ field: String, value: String, supported: [String]) -> Kubernetes.StatusCause {
        let listed = supported.map { "\"\($0)\"" }.joined(separator: ", ")
        return .init(
            reason: "FieldValueNotSupported", message: "Unsupported value: \"\(value)\": supported values: \(listed)",
            field: field)
    }
}
