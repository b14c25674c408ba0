import Foundation

/// The legacy discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/batch/v1`) for the resources
/// the fake serves, so kubectl and the Python client can map a manifest's kind to its endpoint.
/// kubectl asks for aggregated discovery first and falls back to these on a plain JSON answer, as
/// it does with a v1.25 server.
package enum FakeKubernetesDiscovery {
    private static let verbs = #"["create","delete","deletecollection","get","list","patch","update","watch"]"#

    private static func resource(_ name: String, _ singular: String, _ kind: String, namespaced: Bool, short: String?)
        -> String
    {
        let shortNames = short.map { #","shortNames":["\#($0)"]"# } ?? ""
        return #"{"name":"\#(name)","singularName":"\#(singular)","namespaced":\#(namespaced),"kind":"\#(kind)","#
            + #""verbs":\#(verbs)\#(shortNames)}"#
    }

    private static let core = [
        resource("namespaces", "namespace", "Namespace", namespaced: false, short: "ns"),
        resource(
            "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", namespaced: true,
            short: "pvc"),
        resource("pods", "pod", "Pod", namespaced: true, short: "po"),
        #"{"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]}"#,
        resource("secrets", "secret", "Secret", namespaced: true, short: nil),
    ]

    /// The document at a discovery path, nil for any other path.
    package static func document(path: String, host: String) -> String? {
        switch path {
        case "/api":
            return #"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":"#
                + #"[{"clientCIDR":"0.0.0.0/0","serverAddress":"\#(host)"}]}"#
        case "/apis":
            let version = #"{"groupVersion":"batch/v1","version":"v1"}"#
            return #"{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"batch","versions":[\#(version)],"#
                + #""preferredVersion":\#(version)}]}"#
        case "/api/v1":
            return #"{"kind":"APIResourceList","groupVersion":"v1","resources":[\#(core.joined(separator: ","))]}"#
        case "/apis/batch/v1":
            let jobs = resource("jobs", "job", "Job", namespaced: true, short: nil)
            return #"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"batch/v1","resources":[\#(jobs)]}"#
        default:
            return nil
        }
    }
}
