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

/// Every recorded exchange, decoded into mrun's types: responses by kind, request bodies
/// re-encoded exactly as the real client sent them.
@Suite struct KubernetesFixtureTests {
    /// What a response body decoded into; the test of each kind is in `decodeResponse`.
    enum Decoded {
        case empty, log(String), version, status(Kubernetes.Status), watch([Kubernetes.WatchEvent<Kubernetes.Job>])
        case namespace, persistentVolumeClaim, secret, job, pod, jobList, podList
    }

    @Test func allSeventyFiveExchangesArePresent() throws {
        let fixtures = try Fixtures.all()
        #expect(fixtures.count == Fixtures.count)
        #expect(fixtures.map(\.number) == (1...Fixtures.count).map { String(format: "%02d", $0) })
    }

    @Test func everyResponseBodyDecodesIntoItsType() throws {
        var decodedKinds: [String: Int] = [:]
        for fixture in try Fixtures.all() {
            let decoded = try decodeResponse(fixture)
            decodedKinds[String(describing: decoded).prefix { $0 != "(" }.description, default: 0] += 1
            if !(200..<300).contains(fixture.response.status) {
                guard case .status(let status) = decoded else {
                    Issue.record("\(fixture.name): an error response must be a Status, got \(decoded)")
                    continue
                }
                #expect(status.code == fixture.response.status, "\(fixture.name)")
                #expect(status.status == "Failure", "\(fixture.name)")
            }
        }
        // Each kind was met at least once, so none of the branches below went untested.
        #expect(
            decodedKinds == [
                "empty": 2, "log": 6, "version": 1, "status": 25, "watch": 2, "namespace": 2,
                "persistentVolumeClaim": 2, "secret": 4, "job": 14, "pod": 2, "jobList": 8, "podList": 7,
            ])
    }

    /// Decodes the body by what the exchange was, and checks that re-encoding it says nothing the
    /// server did not: no invented fields, no altered values, no lost timestamps.
    func decodeResponse(_ fixture: Fixture) throws -> Decoded {
        let body = fixture.response.body
        if fixture.response.status == 204 {
            #expect(fixture.text == "", "\(fixture.name): a 204 has no body")
            return .empty
        }
        if (200..<300).contains(fixture.response.status), fixture.request.path.hasSuffix("/log") {
            let text = try #require(fixture.text, "\(fixture.name): a log is text")
            #expect(text.hasSuffix("\n"), "\(fixture.name)")
            return .log(text)
        }
        if fixture.request.query["watch"] == "true" {
            let text = try #require(fixture.text, "\(fixture.name): a watch is newline-delimited JSON")
            var events: [Kubernetes.WatchEvent<Kubernetes.Job>] = []
            for line in text.split(separator: "\n") {
                events.append(
                    try roundTrip(Kubernetes.WatchEvent<Kubernetes.Job>.self, JSONValue(json: Data(line.utf8)), fixture)
                )
            }
            return .watch(events)
        }
        if fixture.request.path == "/version" {
            _ = try roundTrip(Kubernetes.VersionInfo.self, body, fixture)
            return .version
        }
        switch body["kind"]?.string {
        case "Status": return .status(try roundTrip(Kubernetes.Status.self, body, fixture))
        case "Namespace": _ = try roundTrip(Kubernetes.Namespace.self, body, fixture); return .namespace
        case "PersistentVolumeClaim":
            _ = try roundTrip(Kubernetes.PersistentVolumeClaim.self, body, fixture)
            return .persistentVolumeClaim
        case "Secret": _ = try roundTrip(Kubernetes.Secret.self, body, fixture); return .secret
        case "Job": _ = try roundTrip(Kubernetes.Job.self, body, fixture); return .job
        case "Pod": _ = try roundTrip(Kubernetes.Pod.self, body, fixture); return .pod
        case "JobList": _ = try roundTrip(Kubernetes.List<Kubernetes.Job>.self, body, fixture); return .jobList
        case "PodList": _ = try roundTrip(Kubernetes.List<Kubernetes.Pod>.self, body, fixture); return .podList
        default: throw FixtureError(description: "\(fixture.name): no type for this response body")
        }
    }

    private func roundTrip<Value: Codable>(_ type: Value.Type, _ json: JSONValue, _ fixture: Fixture) throws -> Value {
        let value = try Kubernetes.decode(type, from: try json.data())
        let reencoded = try JSONValue(encoding: value)
        let deviation = reencoded.firstDeviation(from: json)
        #expect(deviation == nil, "\(fixture.name): \(Value.self) re-encodes differently: \(deviation ?? "")")
        return value
    }

    /// What mrun sends must be what a real client sent: each recorded request body, decoded and
    /// re-encoded, is the same JSON. Only fields the server itself reported as unknown (38, 39)
    /// are dropped, because mrun's types do not have them.
    @Test func everyRequestBodyReencodesToTheSameJSON() throws {
        var checked = 0
        var droppedUnknownFields: [String: [String]] = [:]
        for fixture in try Fixtures.all() {
            guard let body = fixture.request.body, body != .null else { continue }
            let reencoded: JSONValue
            switch body["kind"]?.string {
            case "Namespace": reencoded = try reencode(Kubernetes.Namespace.self, body)
            case "PersistentVolumeClaim": reencoded = try reencode(Kubernetes.PersistentVolumeClaim.self, body)
            case "Secret": reencoded = try reencode(Kubernetes.Secret.self, body)
            case "Job": reencoded = try reencode(Kubernetes.Job.self, body)
            case "DeleteOptions": reencoded = try reencode(Kubernetes.DeleteOptions.self, body)
            default:
                Issue.record("\(fixture.name): no type for the request body")
                continue
            }
            // mrun's Job has backoffLimitPerIndex, which servers from v1.29 know and this v1.25 did not.
            let unknown = unknownFields(reportedFor: fixture).filter { $0 != "spec.backoffLimitPerIndex" }
            if !unknown.isEmpty { droppedUnknownFields[fixture.number] = unknown }
            let expected = unknown.reduce(body) { $0.removing(path: $1) }
            #expect(reencoded == expected, "\(fixture.name): the request body does not survive decoding")
            checked += 1
        }
        #expect(checked == 26)
        let dropped = ["spec.template.spec.containers[0].gpuCount"]
        #expect(droppedUnknownFields == ["38": dropped, "39": dropped])
    }

    private func reencode<Value: Codable>(_ type: Value.Type, _ json: JSONValue) throws -> JSONValue {
        try JSONValue(encoding: try Kubernetes.decode(type, from: try json.data()))
    }

    /// The paths in `unknown field "…"` of the Warning headers (default validation) or of the
    /// Status message (Strict validation).
    private func unknownFields(reportedFor fixture: Fixture) -> [String] {
        let texts = fixture.warnings + [fixture.response.body["message"]?.string].compactMap { $0 }
        var fields: Set<String> = []
        for text in texts {
            for match in text.matches(of: #/unknown field \\?"(?<path>[^"\\]+)\\?"/#) {
                fields.insert(String(match.path))
            }
        }
        return fields.sorted()
    }

    /// The server's watch framing survives any split into reads, like the recorded 4096 + 4.
    @Test func watchStreamDecodesAcrossArbitraryReads() throws {
        let fixture = try Fixtures.named("61")
        let body = Data(try #require(fixture.text).utf8)
        var whole = Kubernetes.WatchStreamDecoder<Kubernetes.Job>()
        let expected = try whole.decode(body) + whole.finish()
        #expect(expected.map(\.type) == [.added, .modified, .modified, .modified, .modified])
        for size in [1, 7, 4096, 4100] {
            var decoder = Kubernetes.WatchStreamDecoder<Kubernetes.Job>()
            var events: [Kubernetes.WatchEvent<Kubernetes.Job>] = []
            var offset = 0
            while offset < body.count {
                let end = min(offset + size, body.count)
                events += try decoder.decode(body.subdata(in: offset..<end))
                offset = end
            }
            events += try decoder.finish()
            #expect(events == expected, "reads of \(size) bytes")
        }
    }

    @Test func watchStreamRefusesACutOffEvent() throws {
        let fixture = try Fixtures.named("61")
        let body = Data(try #require(fixture.text).utf8)
        var decoder = Kubernetes.WatchStreamDecoder<Kubernetes.Job>()
        let events = try decoder.decode(body.prefix(body.count - 10))
        #expect(events.count == 4)
        #expect(throws: DecodingError.self) { try decoder.finish() }

        var unterminated = Kubernetes.WatchStreamDecoder<Kubernetes.Job>()
        #expect(try unterminated.decode(body.dropLast()).count == 4)
        #expect(try unterminated.finish().map(\.type) == [.modified])
    }
}
