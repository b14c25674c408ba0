import Foundation
import KubernetesAPI
import MrunSupport

/// One recorded exchange with kube-apiserver v1.25 (see the fixtures' README.md).
package struct Fixture: Decodable, Sendable {
    package struct Request: Decodable, Sendable {
        package var method: String
        package var path: String
        package var query: [String: String]
        package var headers: [String: String]
        package var body: JSONValue?
    }

    package struct Response: Decodable, Sendable {
        package var status: Int
        package var headers: [String: JSONValue]
        package var body: JSONValue
    }

    package var request: Request
    package var response: Response
    /// The file name, e.g. `56-get-job-complete.json`.
    package var name: String = ""

    package enum CodingKeys: String, CodingKey { case request, response }

    package var number: String { String(name.prefix(2)) }

    package var requestInfo: Kubernetes.RequestInfo? {
        Kubernetes.RequestInfo(method: request.method, path: request.path, query: request.query)
    }

    /// The `Warning` headers, always recorded as a list.
    package var warnings: [String] {
        guard case .array(let values) = response.headers["Warning"] else { return [] }
        return values.compactMap(\.string)
    }

    /// A text body (logs, watch streams, the empty 204).
    package var text: String? { response.body.string }

    package func body<Value: Decodable>(as type: Value.Type) throws -> Value {
        try Kubernetes.decode(type, from: try response.body.data())
    }
}

package struct FixtureError: Error, CustomStringConvertible {
    package var description: String

    package init(description: String) {
        self.description = description
    }
}
