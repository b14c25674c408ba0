import FakeKubernetes
import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// Specific values of the recorded objects, read through mrun's types.
@Suite struct KubernetesObjectTests {
    typealias K = Kubernetes

    @Test func versionNamesTheServer() throws {
        let version = try Fixtures.named("01").body(as: K.VersionInfo.self)
        #expect(version.major == "1")
        #expect(version.minor == "25")
        #expect(version.gitVersion == "v1.25.0-k3s1")
        #expect(version.platform == "linux/amd64")
    }

    @Test func namespaceCarriesTheServersAdditions() throws {
        let namespace = try Fixtures.named("03").body(as: K.Namespace.self)
        #expect(namespace.metadata.name == "mrun-fixtures")
        #expect(namespace.metadata.labels?["kubernetes.io/metadata.name"] == "mrun-fixtures")
        #expect(namespace.metadata.uid == "e2b8b55c-397f-4446-9051-63fa646c21ec")
        #expect(namespace.spec?.finalizers == ["kubernetes"])
        #expect(namespace.status?.phase == "Active")
    }

    @Test func claimIsPendingWithItsRequestedSize() throws {
        let claim = try Fixtures.named("08").body(as: K.PersistentVolumeClaim.self)
        #expect(claim.spec?.accessModes == ["ReadWriteOnce"])
        #expect(claim.spec?.resources?.requests == ["storage": "40Gi"])
        #expect(claim.spec?.volumeMode == "Filesystem")
        #expect(claim.status?.phase == "Pending")
        #expect(claim.metadata.finalizers == ["kubernetes.io/pvc-protection"])
    }

    @Test func secretDataIsDecodedFromBase64AndStringDataIsWriteOnly() throws {
        let created = try Fixtures.named("11")
        let sent = try Kubernetes.decode(K.Secret.self, from: try #require(created.request.body).data())
        #expect(sent.stringData?["NEPTUNE_PROJECT"] == "team/lr-sweep")
        #expect(sent.data == nil)
        let secret = try created.body(as: K.Secret.self)
        #expect(secret.stringData == nil)
        #expect(secret.type == "Opaque")
        #expect(secret.data?["NEPTUNE_API_TOKEN"] == "RkFLRS1uZXB0dW5lLXRva2VuLWZvci1maXh0dXJlcw==")
        #expect(secret.stringValue(forKey: "NEPTUNE_API_TOKEN") == "FAKE-neptune-token-for-fixtures")
        #expect(secret.value(forKey: "NEPTUNE_PROJECT") == Data("team/lr-sweep".utf8))
        #expect(secret.decodedData.keys.sorted() == ["NEPTUNE_API_TOKEN", "NEPTUNE_PROJECT"])
        #expect(secret.value(forKey: "missing") == nil)

        var broken = secret
        broken.data?["NEPTUNE_PROJECT"] = "not base64!"
        #expect(broken.value(forKey: "NEPTUNE_PROJECT") == nil)
        #expect(broken.decodedData.keys.sorted() == ["NEPTUNE_API_TOKEN"])
        broken.setData(["K": Data([0, 255])])
        #expect(broken.data == ["K": "AP8="])
    }

    @Test func replacingASecretBumpsItsResourceVersion() throws {
        #expect(try Fixtures.named("13").body(as: K.Secret.self).metadata.resourceVersion == "684")
        let replaced = try Fixtures.named("14").body(as: K.Secret.self)
        #expect(replaced.metadata.resourceVersion == "685")
        #expect(replaced.stringValue(forKey: "NEPTUNE_PROJECT") == "team/lr-sweep-v2")
    }

    @Test func createdJobShowsTheServersDefaults() throws {
        let job = try Fixtures.named("17").body(as: K.Job.self)
        let uid = try #require(job.metadata.uid)
        #expect(uid == "f33657d4-d834-436f-9415-a8618854b5c8")
        #expect(job.metadata.generation == 1)
        #expect(job.metadata.annotations?["batch.kubernetes.io/job-tracking"] == "")
        let spec = try #require(job.spec)
        #expect(spec.parallelism == 1 && spec.completions == 1 && spec.backoffLimit == 0)
        #expect(spec.completionMode == "NonIndexed")
        #expect(spec.suspend == false)
        #expect(spec.selector?.matchLabels == ["controller-uid": uid])
        #expect(spec.template.metadata?.labels?["job-name"] == "exp-lr-0-01-a1b2c")
        #expect(spec.template.metadata?.creationTimestamp == nil)
        let pod = try #require(spec.template.spec)
        #expect(pod.restartPolicy == "Never")
        #expect(pod.terminationGracePeriodSeconds == 30)
        #expect(pod.securityContext == K.PodSecurityContext())
        let container = try #require(pod.containers.first)
        #expect(container.command == ["python", "train.py"])
        #expect(container.args == ["--lr", "0.01"])
        #expect(container.workingDir == "/workspace")
        #expect(container.resources?.requests == ["cpu": "1500m", "memory": "4Gi"])
        #expect(container.resources?.limits == ["cpu": "2", "memory": "8Gi"])
        #expect(container.volumeMounts == [K.VolumeMount(name: "storage", mountPath: "/storage")])
        #expect(container.env?.first?.valueFrom?.secretKeyRef == .init(name: "mrun-neptune", key: "NEPTUNE_API_TOKEN"))
        #expect(container.env?.last == K.EnvVar(name: "MRUN_EXPERIMENT", value: "exp-lr-0-01-a1b2c"))
        #expect(pod.volumes?.first?.persistentVolumeClaim?.claimName == "mrun-storage")
        #expect(job.status == K.JobStatus())
        #expect(job.phase == .pending)
    }

    /// A Job built in code encodes to exactly the body the recorder sent, so mrun's requests are
    /// the ones the real server was seen to accept.
    @Test func jobBuiltInCodeEncodesAsTheRecordedRequest() throws {
        let labels = [
            "app.kubernetes.io/managed-by": "mrun", "mrun/experiment": "exp-lr-0-01-a1b2c", "mrun/project": "lr-sweep",
        ]
        let secret = { (key: String) in
            K.EnvVar(name: key, valueFrom: .init(secretKeyRef: .init(name: "mrun-neptune", key: key)))
        }
        let container = K.Container(
            name: "main", image: "127.0.0.1:5000/proj/exp:abc123", command: ["python", "train.py"],
            args: ["--lr", "0.01"], workingDir: "/workspace",
            env: [
                secret("NEPTUNE_API_TOKEN"), secret("NEPTUNE_PROJECT"),
                .init(name: "MRUN_EXPERIMENT", value: "exp-lr-0-01-a1b2c"),
            ],
            resources: .init(limits: ["cpu": "2", "memory": "8Gi"], requests: ["cpu": "1500m", "memory": "4096Mi"]),
            volumeMounts: [.init(name: "storage", mountPath: "/storage")], imagePullPolicy: "IfNotPresent")
        let job = K.Job(
            metadata: .init(
                name: "exp-lr-0-01-a1b2c", labels: labels, annotations: ["mrun/command": "python train.py --lr 0.01"]),
            spec: .init(
                backoffLimit: 0,
                template: .init(
                    metadata: .init(labels: labels),
                    spec: .init(
                        containers: [container],
                        volumes: [.init(name: "storage", persistentVolumeClaim: .init(claimName: "mrun-storage"))],
                        restartPolicy: "Never"))))
        let recorded = try #require(try Fixtures.named("17").request.body)
        #expect(try JSONValue(encoding: job) == recorded)
        let text = String(decoding: try Kubernetes.encode(job), as: UTF8.self)
        #expect(text.contains(#""app.kubernetes.io/managed-by":"mrun""#), "slashes stay unescaped")
        #expect(!text.contains("null"))
        #expect(
            try JSONValue(encoding: K.DeleteOptions(propagationPolicy: .background))
                == Fixtures.named("46").request.body)
    }

    @Test func jobStatusFollowsTheControllerToCompletion() throws {
        let created = try Fixtures.named("23").body(as: K.Job.self)
        #expect(created.status?.active == 1)
        #expect(created.status?.ready == 0)
        #expect(created.status?.startTime == "2026-11-21T20:35:42Z")
        #expect(created.phase == .active)

        let complete = try Fixtures.named("56").body(as: K.Job.self)
        let condition = try #require(complete.status?.condition("Complete"))
        #expect(condition.status == "True")
        #expect(condition.lastTransitionTime == "2026-11-21T20:35:52Z")
        #expect(complete.status?.succeeded == 1)
        #expect(complete.status?.active == nil)
        #expect(complete.phase == .succeeded)
        let start = try #require(complete.status?.startTime.flatMap(Kubernetes.date(from:)))
        let end = try #require(complete.status?.completionTime.flatMap(Kubernetes.date(from:)))
        #expect(end.timeIntervalSince(start) == 7)
    }

    @Test func failedJobSaysWhyAndHasNoCompletionTime() throws {
        let job = try Fixtures.named("63").body(as: K.Job.self)
        let condition = try #require(job.status?.condition("Failed"))
        #expect(condition.reason == "BackoffLimitExceeded")
        #expect(condition.message == "Job has reached the specified backoff limit")
        #expect(job.status?.failed == 1)
        #expect(job.status?.completionTime == nil)
        #expect(job.status?.condition("Complete") == nil)
        #expect(job.phase == .failed)
    }

    @Test func listsHaveTheirItemsAndResourceVersion() throws {
        let list = try Fixtures.named("24").body(as: K.List<K.Job>.self)
        #expect(list.kind == "JobList")
        #expect(list.metadata.resourceVersion == "690")
        #expect(list.items.map(\.metadata.name) == ["exp-lr-0-01-a1b2c"])
        #expect(list.items.first?.kind == nil, "list items carry no kind")
        #expect(try Fixtures.named("26").body(as: K.List<K.Job>.self).items.isEmpty)
        #expect(try Fixtures.named("50").body(as: K.List<K.Job>.self).metadata.resourceVersion == "711")
        let mixed = try Fixtures.named("66").body(as: K.List<K.Job>.self)
        #expect(mixed.items.map(\.phase) == [.succeeded, .failed])
        #expect(throws: DecodingError.self) { try Fixtures.named("24").body(as: K.List<K.Pod>.self) }
        let empty = try Kubernetes.decode(K.List<K.Pod>.self, from: Data(#"{"kind":"PodList","items":null}"#.utf8))
        #expect(empty.items.isEmpty)
    }

    @Test func generateNameGetsFiveRandomCharacters() throws {
        let job = try Fixtures.named("40").body(as: K.Job.self)
        let generateName = try #require(job.metadata.generateName)
        let name = try #require(job.metadata.name)
        #expect(generateName == "exp-lr-0-07-")
        #expect(name.hasPrefix(generateName))
        #expect(name.dropFirst(generateName.count).allSatisfy("bcdfghjklmnpqrstvwxz2456789".contains))
        #expect(name.count == generateName.count + 5)
        #expect(try Fixtures.named("36").body(as: K.Job.self).metadata.resourceVersion == nil, "dry run")
    }

    @Test func podsReportTheirContainersState() throws {
        let unscheduled = try Fixtures.named("31").body(as: K.Pod.self)
        #expect(unscheduled.status?.phase == .pending)
        #expect(unscheduled.containerStatus() == nil)
        #expect(unscheduled.metadata.ownerReferences?.first?.kind == "Job")
        #expect(unscheduled.metadata.ownerReferences?.first?.controller == true)

        let running = try #require(try Fixtures.named("53").body(as: K.List<K.Pod>.self).items.first)
        #expect(running.status?.phase == .running)
        #expect(running.containerStatus("main")?.state?.running?.startedAt == "2026-11-21T20:35:45Z")
        #expect(running.containerStatus("main")?.lastState == K.ContainerState())

        let succeeded = try #require(try Fixtures.named("57").body(as: K.List<K.Pod>.self).items.first)
        #expect(succeeded.status?.phase == .succeeded)
        #expect(succeeded.containerStatus()?.state?.terminated?.exitCode == 0)
        #expect(succeeded.containerStatus()?.state?.terminated?.reason == "Completed")
        #expect(succeeded.metadata.finalizers == nil, "the job-tracking finalizer is gone")

        let failed = try #require(try Fixtures.named("64").body(as: K.List<K.Pod>.self).items.first)
        #expect(failed.status?.phase == .failed)
        let terminated = try #require(failed.containerStatus("main")?.state?.terminated)
        #expect(terminated.exitCode == 1)
        #expect(terminated.reason == "Error")
        #expect(terminated.finishedAt == "2026-11-21T20:36:00Z")

        let waiting = try #require(try Fixtures.named("73").body(as: K.List<K.Pod>.self).items.first)
        #expect(waiting.status?.phase == .pending)
        #expect(waiting.containerStatus()?.state?.waiting?.reason == "ContainerCreating")
        #expect(waiting.containerStatus("nope") == nil)
    }

    @Test func deletionsReturnStatusOrTheObjectBeingDeleted() throws {
        let background = try Fixtures.named("46").body(as: K.Status.self)
        #expect(background.status == "Success")
        #expect(background.code == nil && background.reason == nil)
        #expect(background.details?.kind == "jobs")
        #expect(background.details?.uid == "f33657d4-d834-436f-9415-a8618854b5c8")

        let orphaning = try Fixtures.named("68")
        #expect(try orphaning.body(as: K.Job.self).metadata.finalizers == ["orphan"])
        #expect(try orphaning.body(as: K.Job.self).metadata.deletionTimestamp == "2026-11-21T20:36:00Z")
        #expect(orphaning.warnings.first?.contains("child pods are preserved by default") == true)
        #expect(try Fixtures.named("70").body(as: K.Job.self).metadata.finalizers == ["foregroundDeletion"])
        let pod = try Fixtures.named("71").body(as: K.Pod.self)
        #expect(pod.metadata.deletionGracePeriodSeconds == 0)
        #expect(pod.metadata.deletionTimestamp == "2026-11-21T20:36:03Z")
        let orphan = try #require(try Fixtures.named("69").body(as: K.List<K.Pod>.self).items.first)
        #expect(orphan.metadata.ownerReferences == nil)
    }

    @Test func watchFollowsTheJobThroughItsIntermediateState() throws {
        let fixture = try Fixtures.named("61")
        var decoder = K.WatchStreamDecoder<K.Job>()
        let events = try decoder.decode(Data(try #require(fixture.text).utf8)) + decoder.finish()
        #expect(events.map(\.type) == [.added, .modified, .modified, .modified, .modified])
        #expect(events.compactMap(\.object?.metadata.resourceVersion) == ["712", "715", "718", "720", "722"])
        #expect(events.compactMap(\.object?.phase) == [.pending, .active, .active, .active, .succeeded])
        let finishing = try #require(events[3].object?.status)
        #expect(finishing.active == nil && finishing.succeeded == nil && finishing.conditions == nil)
        #expect(finishing.uncountedTerminatedPods?.succeeded == ["e316827e-e6be-4b45-953e-e4fd08d55c08"])
        #expect(events.first?.object?.kind == "Job", "watch objects carry their kind")
    }

    @Test func tooOldWatchEndsWithAnExpiredStatus() throws {
        var decoder = K.WatchStreamDecoder<K.Job>()
        let events = try decoder.decode(Data(try #require(try Fixtures.named("67").text).utf8))
        #expect(events.count == 1)
        guard case .error(let status) = events.first else {
            Issue.record("expected an ERROR event, got \(events)")
            return
        }
        #expect(status.code == 410)
        #expect(status.reason == .expired)
        #expect(status.message == "too old resource version: 1 (317)")
        #expect(events.first?.object == nil)
        let encoded = try JSONValue(encoding: events[0])
        #expect(encoded["type"] == .string("ERROR"))
        #expect(encoded["object"]?["code"] == .integer(410))
    }

    /// Phases and reasons are open sets: a value this version does not know still decodes, and
    /// both encode as plain strings.
    @Test func openSetsDecodeUnknownValuesAndEncodeAsStrings() throws {
        let status = try Kubernetes.decode(K.PodStatus.self, from: Data(#"{"phase":"Hibernating"}"#.utf8))
        #expect(status.phase == K.PodPhase(rawValue: "Hibernating"))
        #expect(try JSONValue(encoding: K.PodStatus(phase: .running)) == .object(["phase": .string("Running")]))
        let error = try Kubernetes.decode(K.Status.self, from: Data(#"{"kind":"Status","reason":"NewReason"}"#.utf8))
        #expect(error.reason?.rawValue == "NewReason")
        #expect(
            try JSONValue(encoding: K.Status(status: "Failure", reason: .notFound, code: 404))
                == .object([
                    "apiVersion": .string("v1"), "kind": .string("Status"), "metadata": .object([:]),
                    "status": .string("Failure"), "reason": .string("NotFound"), "code": .integer(404),
                ]))
    }

    @Test func logsAreTextWithOptionalTimestamps() throws {
        #expect(try Fixtures.named("58").text?.split(separator: "\n").count == 9)
        #expect(try Fixtures.named("65").text?.hasSuffix("line 3/3 from main\n") == true)
        #expect(try Fixtures.named("32").text == "")
        for number in ["55", "60"] {
            for line in try #require(try Fixtures.named(number).text).split(separator: "\n") {
                let timestamp = String(line.prefix { $0 != " " })
                #expect(Kubernetes.date(from: timestamp) != nil, "\(number): \(timestamp)")
            }
        }
        let precise = try #require(Kubernetes.date(from: "2026-11-21T20:35:47.857823Z"))
        let whole = try #require(Kubernetes.date(from: "2026-11-21T20:35:47Z"))
        #expect(abs(precise.timeIntervalSince(whole) - 0.857823) < 0.001)
        #expect(Kubernetes.date(from: "yesterday") == nil)
    }
}
