import Foundation

import KubernetesAPI
import MrunSupport

/// The checks of kube-apiserver v1.25 beyond names (`pkg/apis/batch/validation`,
/// `pkg/apis/core/validation`, apimachinery's owner references) for the fields a gang and the
/// scheduling keys set: a Job's completion mode, a pod's scheduling and DNS fields.
enum FakeJobValidation {
    /// An Indexed Job holds at most this many pods at once.
    static let maximumIndexedParallelism = 100_000

    static func completionCauses(_ spec: Kubernetes.JobSpec?) -> [Kubernetes.StatusCause] {
        guard let spec, let mode = spec.completionMode else { return [] }
        guard Kubernetes.CompletionMode.all.contains(mode) else {
            return [
                FakeCauses.notSupported("spec.completionMode", value: mode, supported: Kubernetes.CompletionMode.all)
            ]
        }
        guard mode == Kubernetes.CompletionMode.indexed else { return [] }
        var causes: [Kubernetes.StatusCause] = []
        if spec.completions == nil {
            causes.append(
                .init(
                    reason: "FieldValueRequired", message: "Required value: when completion mode is Indexed",
                    field: "spec.completions"))
        }
        if let parallelism = spec.parallelism, parallelism > maximumIndexedParallelism {
            causes.append(
                .init(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: \(parallelism): must be less than or equal to \(maximumIndexedParallelism)"
                        + " when completion mode is Indexed",
                    field: "spec.parallelism"))
        }
        return causes
    }
}

enum FakePodValidation {
    static func causes(of spec: Kubernetes.PodSpec, at path: String) -> [Kubernetes.StatusCause] {
        var causes: [Kubernetes.StatusCause] = []
        for (field, value) in [("hostname", spec.hostname), ("subdomain", spec.subdomain)] {
            if let value, !FakeValidation.isLabel(value) {
                causes.append(
                    .init(
                        reason: "FieldValueInvalid",
                        message: "Invalid value: \"\(value)\": \(FakeValidation.labelRule)",
                        field: "\(path).\(field)"))
            }
        }
        if let name = spec.priorityClassName, !FakeValidation.isSubdomain(name) {
            causes.append(
                .init(
                    reason: "FieldValueInvalid", message: "Invalid value: \"\(name)\": \(FakeValidation.subdomainRule)",
                    field: "\(path).priorityClassName"))
        }
        for (key, value) in (spec.nodeSelector ?? [:]).sorted(by: { $0.key < $1.key }) {
            if !KubernetesLabel.isKey(key) {
                causes.append(
                    .init(
                        reason: "FieldValueInvalid", message: "Invalid value: \"\(key)\": \(FakeValidation.keyRule)",
                        field: "\(path).nodeSelector"))
            }
            if !KubernetesLabel.isValue(value) {
                causes.append(
                    .init(
                        reason: "FieldValueInvalid",
                        message: "Invalid value: \"\(value)\": \(FakeCauses.labelValueRule)",
                        field: "\(path).nodeSelector"))
            }
        }
        for (index, toleration) in (spec.tolerations ?? []).enumerated() {
            causes += tolerationCauses(toleration, at: "\(path).tolerations[\(index)]")
        }
        return causes
    }

    /// The server's order: key, empty key without Exists, seconds without NoExecute, the operator
    /// and its value, the effect.
    static func tolerationCauses(_ toleration: Kubernetes.Toleration, at path: String) -> [Kubernetes.StatusCause] {
        typealias T = Kubernetes.Toleration
        var causes: [Kubernetes.StatusCause] = []
        let key = toleration.key ?? ""
        let operation = toleration.operator ?? ""
        let value = toleration.value ?? ""
        let effect = toleration.effect ?? ""
        if !key.isEmpty, !KubernetesLabel.isKey(key) {
            causes.append(
                .init(
                    reason: "FieldValueInvalid", message: "Invalid value: \"\(key)\": \(FakeValidation.keyRule)",
                    field: "\(path).key"))
        }
        if key.isEmpty, operation != T.Operator.exists {
            causes.append(
                .init(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: \"\(operation)\": operator must be Exists when `key` is empty, which"
                        + " means \"match all values and all keys\"",
                    field: "\(path).operator"))
        }
        if toleration.tolerationSeconds != nil, effect != T.Effect.noExecute {
            causes.append(
                .init(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: \"\(effect)\": effect must be 'NoExecute' when `tolerationSeconds` is set",
                    field: "\(path).effect"))
        }
        switch operation {
        case T.Operator.equal, "":
            if !KubernetesLabel.isValue(value) {
                causes.append(
                    .init(
                        reason: "FieldValueInvalid",
                        message: "Invalid value: \"\(value)\": \(FakeCauses.labelValueRule)",
                        field: "\(path).value"))
            }
        case T.Operator.exists:
            if !value.isEmpty {
                causes.append(
                    .init(
                        reason: "FieldValueInvalid",
                        message: "Invalid value: \"\(value)\": value must be empty when `operator` is 'Exists'",
                        field: "\(path).operator"))
            }
        default:
            causes.append(FakeCauses.notSupported("\(path).operator", value: operation, supported: T.Operator.all))
        }
        if !effect.isEmpty, !T.Effect.all.contains(effect) {
            causes.append(FakeCauses.notSupported("\(path).effect", value: effect, supported: T.Effect.all))
        }
        return causes
    }
}

extension FakeStorable {
    /// apimachinery's checks of `metadata.ownerReferences`: every reference names its owner
    /// completely, and at most one is the controller.
    package func ownerReferenceCauses() -> [Kubernetes.StatusCause] {
        let path = "metadata.ownerReferences"
        var causes: [Kubernetes.StatusCause] = []
        var controller: String?
        for reference in metadata.ownerReferences ?? [] {
            let parts: [(String, String, String)] = [
                ("apiVersion", reference.apiVersion, "version must not be empty"),
                ("kind", reference.kind, "kind must not be empty"), ("name", reference.name, "name must not be empty"),
                ("uid", reference.uid, "uid must not be empty"),
            ]
            for (field, value, message) in parts where value.isEmpty {
                causes.append(
                    .init(
                        reason: "FieldValueInvalid", message: "Invalid value: \"\": \(message)",
                        field: "\(path).\(field)"))
            }
            guard reference.controller == true else { continue }
            let name = "\(reference.kind)/\(reference.name)"
            if let first = controller {
                causes.append(
                    .init(
                        reason: "FieldValueInvalid",
                        message: "Only one reference can have Controller set to true. Found \"true\" in references for"
                            + " \(first) and \(name)",
                        field: path))
            } else {
                controller = name
            }
        }
        return causes
    }
}
