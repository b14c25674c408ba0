import FakeKubernetes
import Foundation
import Testing

@testable import KubernetesAPI
@testable import MrunSupport

/// The objects a gang is made of (an Indexed Job, its headless Service, the owner reference that
/// ties them) and the scheduling fields of a pod, as they go over the wire.
@Suite struct KubernetesGangObjectTests {
    typealias K = Kubernetes

    @Test func anIndexedJobsPodTemplateEncodesItsSchedulingAndDNSFields() throws {
        var job = Sample.job("gang")
        job.spec?.completionMode = K.CompletionMode.indexed
        job.spec?.completions = 3
        job.spec?.parallelism = 3
        job.spec?.template.spec?.subdomain = "gang"
        job.spec?.template.spec?.priorityClassName = "high-priority"
        job.spec?.template.spec?.nodeSelector = ["cloud.google.com/gke-nodepool": "a100"]
        job.spec?.template.spec?.tolerations = [
            .init(key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule"),
            .init(key: "spot", operator: "Equal", value: "true", effect: "NoExecute", tolerationSeconds: 300),
        ]
        let json = try JSONValue(encoding: job)
        let spec = try #require(json["spec"])
        #expect(spec["completionMode"] == .string("Indexed"))
        #expect(spec["completions"] == .integer(3) && spec["parallelism"] == .integer(3))
        let pod = try #require(spec["template"]?["spec"])
        #expect(pod["subdomain"] == .string("gang"))
        #expect(pod["hostname"] == nil, "the controller sets each pod's hostname, not the template")
        #expect(pod["priorityClassName"] == .string("high-priority"))
        #expect(pod["nodeSelector"] == .object(["cloud.google.com/gke-nodepool": .string("a100")]))
        let tolerations = String(decoding: try Kubernetes.encode(pod["tolerations"]), as: UTF8.self)
        #expect(
            tolerations
                == #"[{"effect":"NoSchedule","key":"nvidia.com/gpu","operator":"Exists"},"#
                + #"{"effect":"NoExecute","key":"spot","operator":"Equal","tolerationSeconds":300,"value":"true"}]"#)
        let decoded = try Kubernetes.decode(K.Job.self, from: try Kubernetes.encode(job))
        #expect(decoded == job)
        #expect(decoded.isIndexed && !Sample.job("plain").isIndexed)
    }

    @Test func aHeadlessServiceIsOwnedByItsJob() throws {
        var job = Sample.job("gang")
        #expect(K.OwnerReference(controller: job) == nil, "a Job not yet created has no uid to point at")
        job.metadata.uid = "0b9f7a52-6f3e-4a8e-9d55-2a1b0c9d8e7f"
        let owner = try #require(K.OwnerReference(controller: job))
        #expect(
            owner
                == K.OwnerReference(
                    apiVersion: "batch/v1", kind: "Job", name: "gang", uid: "0b9f7a52-6f3e-4a8e-9d55-2a1b0c9d8e7f",
                    controller: true, blockOwnerDeletion: true))
        let service = K.Service.headless(
            name: "gang", selector: ["job-name": "gang"], ports: [.init(name: "rdzv", port: 29500)], owner: owner)
        #expect(service.isHeadless)
        #expect(
            String(decoding: try Kubernetes.encode(service), as: UTF8.self)
                == #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"gang","ownerReferences":[{"apiVersion":"batch/v1","#
                + #""blockOwnerDeletion":true,"controller":true,"kind":"Job","name":"gang","#
                + #""uid":"0b9f7a52-6f3e-4a8e-9d55-2a1b0c9d8e7f"}]},"spec":{"clusterIP":"None","ports":[{"name":"rdzv","#
                + #""port":29500}],"publishNotReadyAddresses":true,"selector":{"job-name":"gang"}}}"#)
        #expect(K.Service.headless(name: "x", selector: [:]).spec?.ports == nil, "no ports: none sent")
        #expect(!K.Service(metadata: .init(name: "y"), spec: .init(clusterIP: "10.43.0.9")).isHeadless)
    }

    @Test func portsAreNumbersOrNames() throws {
        let ports = try Kubernetes.decode(
            [K.ServicePort].self, from: Data(#"[{"port":80,"targetPort":8080},{"port":81,"targetPort":"web"}]"#.utf8))
        #expect(ports.map(\.targetPort) == [.int(8080), .string("web")])
        #expect(String(decoding: try Kubernetes.encode(ports), as: UTF8.self).contains(#""targetPort":"web""#))
        #expect(throws: DecodingError.self) {
            try Kubernetes.decode(K.ServicePort.self, from: Data(#"{"port":80,"targetPort":1.5}"#.utf8))
        }
    }

    @Test(arguments: [
        ([Int](), ""), ([0], "0"), ([0, 1], "0,1"), ([0, 1, 2], "0-2"), ([7, 1, 3, 4, 5], "1,3-5,7"),
        ([2, 2, 3], "2,3"),
    ])
    func completedIndexesAreWrittenAsTheServerDoes(indexes: [Int], text: String) {
        #expect(K.CompletionIndexes.format(indexes) == text)
        #expect(K.CompletionIndexes.parse(text) == Set(indexes))
    }

    @Test func malformedCompletedIndexesAreRefused() {
        for text in ["a", "3-1", "1,,2", "-1", "1-", "0-2000000", "1-2-3"] {
            #expect(K.CompletionIndexes.parse(text) == nil, "\(text)")
        }
        #expect(K.JobStatus(completedIndexes: "nonsense").completedIndexSet.isEmpty)
        #expect(K.JobStatus(completedIndexes: "0,2-3").completedIndexSet == [0, 2, 3])
    }

    @Test func aPodsCompletionIndexComesFromItsAnnotationOrLabel() {
        let key = K.CompletionIndex.annotation
        #expect(key == "batch.kubernetes.io/job-completion-index")
        #expect(K.CompletionIndex.of(K.Pod(metadata: .init(annotations: [key: "2"]))) == 2)
        #expect(K.CompletionIndex.of(K.Pod(metadata: .init(labels: [key: "5"]))) == 5)
        #expect(K.CompletionIndex.of(K.Pod(metadata: .init(name: "plain"))) == nil)
        #expect(K.CompletionIndex.hostname(job: "gang", index: 0) == "gang-0")
    }
}
