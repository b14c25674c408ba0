import Foundation

import KubernetesAPI
import MrunSupport

/// The `metadata.managedFields` a real kube-apiserver puts in the answer to a create or update
/// (field manager `Update` entries, recorded in fixtures 03, 07, 11, 14, 17 and 36): the manager
/// named by the client's User-Agent and a FieldsV1 tree of every field the object sets. The fake
/// stores typed objects without them, so it adds them to the answer: a created Job's answer is
/// then about as large (3.6 kB) as the real one, and so is a client's work decoding it.
enum FakeManagedFields {
    /// Metadata the server owns, never listed among a manager's fields.
    private static let serverOwned: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
        "selfLink", "generateName", "deletionTimestamp", "deletionGracePeriodSeconds",
    ]
    /// Structs every object has: their own entry carries no `.` (the recorded trees' shape).
    private static let structural: Set<String> = ["metadata", "spec", "template", "containers"]
    /// The keys that name a list's items, as the API's merge keys do (`k:{"name":"main"}`).
    private static let mergeKeys = ["name", "mountPath", "containerPort", "ip", "key"]

    /// `json` (an encoded object) with the managedFields entry of `manager`, or `json` unchanged
    /// when it is not an object.
    static func adding(to json: Data, manager: String, apiVersion: String, time: String) -> Data {
        guard case .object(var object)? = try? JSONDecoder().decode(JSONValue.self, from: json),
            case .object(var metadata)? = object["metadata"]
        else { return json }
        var owned = object
        owned["status"] = nil
        owned["apiVersion"] = nil
        owned["kind"] = nil
        metadata["managedFields"] = .array([
            .object([
                "manager": .string(manager), "operation": .string("Update"), "apiVersion": .string(apiVersion),
                "time": .string(time), "fieldsType": .string("FieldsV1"),
                "fieldsV1": fields(of: .object(owned), key: "", top: true),
            ])
        ])
        object["metadata"] = .object(metadata)
        return (try? Kubernetes.encode(JSONValue.object(object))) ?? json
    }

    /// The manager a real server names from the User-Agent: its product, before the first `/`.
    static func manager(userAgent: String?) -> String {
        guard let agent = userAgent, let product = agent.split(separator: "/").first, !product.isEmpty else {
            return "unknown"
        }
        return String(product)
    }

    private static func fields(of value: JSONValue, key: String, top: Bool = false) -> JSONValue {
        switch value {
        case .object(let members) where !members.isEmpty:
            var tree: [String: JSONValue] = [:]
            for (name, member) in members {
                if key == "metadata" && serverOwned.contains(name) { continue }
                tree["f:" + name] = fields(of: member, key: name)
            }
            if !top && !structural.contains(key) { tree["."] = .object([:]) }
            return .object(tree)
        case .array(let items):
            var tree: [String: JSONValue] = [:]
            for item in items {
                guard case .object(let members) = item,
                    let mergeKey = mergeKeys.first(where: { members[$0] != nil }),
                    let identity = try? Kubernetes.encode(JSONValue.object([mergeKey: members[mergeKey] ?? .null]))
                else { return .object([:]) }
                // An item's own tree carries its `.` (not structural).
                tree["k:" + String(decoding: identity, as: UTF8.self)] = fields(of: item, key: "")
            }
            if !structural.contains(key) && !tree.isEmpty { tree["."] = .object([:]) }
            return .object(tree)
        default:
            return .object([:])
        }
    }
}
