import Foundation

import KubernetesAPI
import MrunSupport

/// What the fake does to an object on create: kube-apiserver v1.25's validation (422 causes) and
/// defaulting, as recorded in the fixtures (17 for Jobs, 03 Namespace, 07 PVC, 11 Secret).
package protocol FakeStorable: KubernetesObject {
    var apiVersion: String? { get set }
    var kind: String? { get set }
    mutating func applyServerDefaults()
    func validationCauses() -> [Kubernetes.StatusCause]
    /// Folds write-only fields into what is stored (a Secret's `stringData`).
    mutating func normalizeForStorage()
}

extension FakeStorable {
    package mutating func normalizeForStorage() {}

    package func nameCauses(label: Bool) -> [Kubernetes.StatusCause] {
        guard let name = metadata.name else {
            return [
                .init(
                    reason: "FieldValueRequired", message: "Required value: name or generateName is required",
                    field: "metadata.name")
            ]
        }
        let valid = label ? FakeValidation.isLabel(name) : FakeValidation.isSubdomain(name)
        guard !valid else { return [] }
        let rule = label ? FakeValidation.labelRule : FakeValidation.subdomainRule
        return [
            .init(reason: "FieldValueInvalid", message: "Invalid value: \"\(name)\": \(rule)", field: "metadata.name")
        ]
    }
}

package enum FakeValidation {
    static let labelRule =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start"
        + " and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation"
        + " is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let subdomainRule =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and"
        + " must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation"
        + " is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    /// A label key's name part, as the server words it for a key that is not a qualified name.
    static let keyRule =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an"
        + " alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is"
        + " '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

    package static func isLabel(_ text: String) -> Bool {
        text.count <= 63 && text.wholeMatch(of: /[a-z0-9]([-a-z0-9]*[a-z0-9])?/) != nil
    }

    package static func isSubdomain(_ text: String) -> Bool {
        text.count <= 253
            && text.wholeMatch(of: /[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/) != nil
    }

    /// `4096Mi` → `4Gi`, `1000m` → `1`; other forms stay as written.
    package static func canonicalQuantity(_ quantity: String) -> String {
        let binary = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        if let index = binary.firstIndex(where: { quantity.hasSuffix($0) }), var number = Int(quantity.dropLast(2)) {
            var unit = index
            while number != 0, number % 1024 == 0, unit + 1 < binary.count {
                number /= 1024
                unit += 1
            }
            return "\(number)\(binary[unit])"
        }
        if quantity.hasSuffix("m"), let milli = Int(quantity.dropLast()), milli % 1000 == 0 {
            return String(milli / 1000)
        }
        return quantity
    }
}

extension Kubernetes.Namespace: FakeStorable {
    package mutating func applyServerDefaults() {
        metadata.labels = (metadata.labels ?? [:]).merging(["kubernetes.io/metadata.name": metadata.name ?? ""]) { $1 }
        spec = spec ?? Kubernetes.NamespaceSpec(finalizers: ["kubernetes"])
        status = Kubernetes.NamespaceStatus(phase: "Active")
    }

    package func validationCauses() -> [Kubernetes.StatusCause] { nameCauses(label: true) }
}

extension Kubernetes.PersistentVolumeClaim: FakeStorable {
    package mutating func applyServerDefaults() {
        metadata.finalizers = (metadata.finalizers ?? []) + ["kubernetes.io/pvc-protection"]
        let volumeMode = spec?.volumeMode ?? "Filesystem"
        spec?.volumeMode = volumeMode
        status = Kubernetes.PersistentVolumeClaimStatus(phase: "Pending")
    }

    package func validationCauses() -> [Kubernetes.StatusCause] { nameCauses(label: false) }
}

extension Kubernetes.Secret: FakeStorable {
    package mutating func applyServerDefaults() {
        type = type ?? "Opaque"
    }

    package func validationCauses() -> [Kubernetes.StatusCause] { nameCauses(label: false) }

    /// `stringData` is write-only: merged into `data` as base64 and never returned.
    package mutating func normalizeForStorage() {
        guard let stringData else { return }
        var merged = data ?? [:]
        for (key, value) in stringData { merged[key] = Data(value.utf8).base64EncodedString() }
        data = merged
        self.stringData = nil
    }
}

extension Kubernetes.Pod: FakeStorable {
    package mutating func applyServerDefaults() {
        spec = spec.map(FakeDefaults.podSpec)
        status = status ?? Kubernetes.PodStatus(phase: .pending, qosClass: "Burstable")
    }

    package func validationCauses() -> [Kubernetes.StatusCause] {
        nameCauses(label: false) + (spec.map { FakePodValidation.causes(of: $0, at: "spec") } ?? [])
    }
}

extension Kubernetes.Job: FakeStorable {
    package mutating func applyServerDefaults() {
        let uid = metadata.uid ?? ""
        metadata.annotations = (metadata.annotations ?? [:]).merging(["batch.kubernetes.io/job-tracking": ""]) { $1 }
        metadata.generation = 1
        guard var spec else { return }
        // Both default to 1 only together: a Job with parallelism alone is a work queue, which
        // finishes when one pod succeeds, and keeps `completions` unset.
        if spec.completions == nil, spec.parallelism == nil { spec.completions = 1 }
        spec.parallelism = spec.parallelism ?? 1
        spec.backoffLimit = spec.backoffLimit ?? 6
        spec.completionMode = spec.completionMode ?? "NonIndexed"
        spec.suspend = spec.suspend ?? false
        spec.selector = spec.selector ?? Kubernetes.SelectorSpec(matchLabels: ["controller-uid": uid])
        var template = spec.template.metadata ?? Kubernetes.ObjectMeta()
        template.labels = (template.labels ?? [:]).merging(["controller-uid": uid, "job-name": metadata.name ?? ""]) {
            $1
        }
        spec.template.metadata = template
        spec.template.spec = spec.template.spec.map(FakeDefaults.podSpec)
        self.spec = spec
        status = Kubernetes.JobStatus()
    }

    package func validationCauses() -> [Kubernetes.StatusCause] {
        var causes = nameCauses(label: false)
        if let name = metadata.name, causes.isEmpty, name.count > 63 {
            causes.append(
                .init(
                    reason: "FieldValueInvalid",
                    message: "Invalid value: \"\(name)\": must be no more than 63 characters",
                    field: "spec.template.labels"))
        }
        if let limit = spec?.backoffLimit, limit < 0 {
            causes.append(
                .init(
                    reason: "FieldValueInvalid", message: "Invalid value: \(limit): must be greater than or equal to 0",
                    field: "spec.backoffLimit"))
        }
        causes += FakeJobValidation.completionCauses(spec)
        let pod = spec?.template.spec
        if pod?.containers.isEmpty ?? true {
            causes.append(
                .init(reason: "FieldValueRequired", message: "Required value", field: "spec.template.spec.containers"))
        }
        if !["Never", "OnFailure"].contains(pod?.restartPolicy ?? "") {
            causes.append(
                .init(
                    reason: "FieldValueRequired", message: "Required value: valid values: \"OnFailure\", \"Never\"",
                    field: "spec.template.spec.restartPolicy"))
        }
        if let pod { causes += FakePodValidation.causes(of: pod, at: "spec.template.spec") }
        return causes
    }
}

package enum FakeDefaults {
    package static func podSpec(_ spec: Kubernetes.PodSpec) -> Kubernetes.PodSpec {
        var spec = spec
        spec.containers = spec.containers.map(container)
        spec.terminationGracePeriodSeconds = spec.terminationGracePeriodSeconds ?? 30
        spec.dnsPolicy = spec.dnsPolicy ?? "ClusterFirst"
        spec.securityContext = spec.securityContext ?? Kubernetes.PodSecurityContext()
        spec.schedulerName = spec.schedulerName ?? "default-scheduler"
        return spec
    }

    package static func container(_ container: Kubernetes.Container) -> Kubernetes.Container {
        var container = container
        container.terminationMessagePath = container.terminationMessagePath ?? "/dev/termination-log"
        container.terminationMessagePolicy = container.terminationMessagePolicy ?? "File"
        let image = container.image ?? ""
        let tagged = image.split(separator: "/").last.map { $0.contains(":") && !$0.hasSuffix(":latest") } ?? false
        container.imagePullPolicy = container.imagePullPolicy ?? (tagged ? "IfNotPresent" : "Always")
        if var resources = container.resources {
            resources.limits = resources.limits?.mapValues(FakeValidation.canonicalQuantity)
            resources.requests = resources.requests?.mapValues(FakeValidation.canonicalQuantity)
            container.resources = resources
        }
        return container
    }
}
