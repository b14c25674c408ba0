import Foundation

import KubernetesAPI
import MrunSupport

package struct FakeWatchEvent: Sendable {
    package var revision: Int
    package var key: FakeKey
    package var labels: [String: String]
    /// `{"type":…,"object":{…}}\n`, as kube-apiserver writes it.
    package var line: Data
}

package struct FakeWatcher: Sendable {
    package var resource: String
    package var namespace: String?
    package var selector: Kubernetes.LabelSelector
    package var continuation: AsyncStream<Data>.Continuation

    package func wants(_ event: FakeWatchEvent) -> Bool {
        event.key.resource == resource && (namespace == nil || namespace == event.key.namespace)
            && selector.matches(event.labels)
    }
}

package struct FakeLogLine: Sendable {
    /// RFC 3339 with microseconds, as the kubelet prefixes lines with `timestamps=true`.
    package var timestamp: String
    /// One line with its newline.
    package var text: String

    package func rendered(timestamps: Bool) -> String { timestamps ? "\(timestamp) \(text)" : text }
}

package struct FakeLogFollower: Sendable {
    package var key: FakeKey
    package var container: String
    package var timestamps: Bool
    package var continuation: AsyncStream<Data>.Continuation
}

package enum FakeLogAnswer: Sendable {
    /// The pod is not scheduled: 204 with no body.
    case noContent
    case text(Data)
    case stream(AsyncStream<Data>)
}

/// Watches and logs.
extension FakeKubernetesCluster {
    package static func eventLine(type: Kubernetes.WatchEventType, object: some Encodable) -> Data {
        var line = Data(#"{"type":"\#(type.rawValue)","object":"#.utf8)
        line.append((try? Kubernetes.encode(object)) ?? Data("{}".utf8))
        line.append(Data("}\n".utf8))
        return line
    }

    package func record<Object: FakeStorable>(_ type: Kubernetes.WatchEventType, _ object: Object) {
        let key = key(Object.self, namespace: object.metadata.namespace, name: object.metadata.name ?? "")
        let event = FakeWatchEvent(
            revision: Int(object.metadata.resourceVersion ?? "") ?? resourceVersion, key: key,
            labels: object.metadata.labels ?? [:], line: Self.eventLine(type: type, object: object))
        events.append(event)
        for watcher in watchers.values where watcher.wants(event) {
            watcher.continuation.yield(event.line)
        }
    }

    /// Forgets the history before the current resourceVersion, as etcd compaction does: watches
    /// from before it get 410 Expired.
    package func compact() {
        oldestWatchable = resourceVersion
        events.removeAll()
    }

    package func watch(
        resource: String, namespace: String?, selector: Kubernetes.LabelSelector, from resourceVersion: String?,
        timeout: Duration?
    ) -> AsyncStream<Data> {
        let (stream, continuation) = AsyncStream<Data>.makeStream()
        let watcher = FakeWatcher(
            resource: resource, namespace: namespace, selector: selector, continuation: continuation)
        if let resourceVersion, let start = Int(resourceVersion), start != 0 {
            if start < oldestWatchable {
                let status = FakeAPIError.expired(requested: start, oldest: oldestWatchable).status
                continuation.yield(Self.eventLine(type: .error, object: status))
                continuation.finish()
                return stream
            }
            for event in events where event.revision > start && watcher.wants(event) {
                continuation.yield(event.line)
            }
        } else {
            // Without a resourceVersion a watch starts with the current state as ADDED events.
            for (key, object) in objects.sorted(by: { $0.key < $1.key }) {
                let event = FakeWatchEvent(
                    revision: self.resourceVersion, key: key, labels: object.metadata.labels ?? [:],
                    line: Self.eventLine(type: .added, object: object))
                if watcher.wants(event) { continuation.yield(event.line) }
            }
        }
        let id = UUID()
        watchers[id] = watcher
        continuation.onTermination = { _ in Task { await self.endWatch(id) } }
        if let timeout {
            Task {
                try? await Task.sleep(for: timeout)
                self.endWatch(id)
            }
        }
        return stream
    }

    package func endWatch(_ id: UUID) {
        watchers.removeValue(forKey: id)?.continuation.finish()
    }

    // MARK: - Logs

    package func podLog(
        name: String, namespace: String, container: String?, follow: Bool, tailLines: Int?, timestamps: Bool
    ) throws(FakeAPIError) -> FakeLogAnswer {
        let pod = try get(Kubernetes.Pod.self, namespace: namespace, name: name)
        let containers = pod.spec?.containers.map(\.name) ?? []
        let chosen: String
        if let container {
            guard containers.contains(container) else {
                throw .badRequest("container \(container) is not valid for pod \(name)")
            }
            chosen = container
        } else {
            guard containers.count == 1, let only = containers.first else {
                throw .badRequest(
                    "a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]"
                )
            }
            chosen = only
        }
        guard let state = pod.containerStatus(chosen)?.state else { return .noContent }
        if let waiting = state.waiting {
            throw .badRequest(
                "container \"\(chosen)\" in pod \"\(name)\" is waiting to start: \(waiting.reason ?? "PodInitializing")"
            )
        }
        let key = key(Kubernetes.Pod.self, namespace: namespace, name: name)
        var lines = logs[key]?[chosen] ?? []
        if let tailLines { lines = Array(lines.suffix(max(0, tailLines))) }
        let text = Data(lines.map { $0.rendered(timestamps: timestamps) }.joined().utf8)
        guard follow, state.running != nil else { return .text(text) }
        let (stream, continuation) = AsyncStream<Data>.makeStream()
        if !text.isEmpty { continuation.yield(text) }
        let id = UUID()
        followers[id] = FakeLogFollower(key: key, container: chosen, timestamps: timestamps, continuation: continuation)
        continuation.onTermination = { _ in Task { await self.endFollow(id) } }
        return .stream(stream)
    }

    /// `2026-11-21T20:35:47.857823Z`.
    package static func microsecondTimestamp(_ date: Date = Date()) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        let micros = Int((date.timeIntervalSince1970 - whole) * 1_000_000)
        return timestamp(Date(timeIntervalSince1970: whole)).dropLast() + String(format: ".%06dZ", micros)
    }

    package func endFollow(_ id: UUID) {
        followers.removeValue(forKey: id)?.continuation.finish()
    }

    /// Appends `text` (split into lines) to the container's log; followers get it as one chunk.
    package func appendLog(pod name: String, namespace: String, container: String, _ text: String) {
        let key = key(Kubernetes.Pod.self, namespace: namespace, name: name)
        let stamp = Self.microsecondTimestamp()
        var lines: [FakeLogLine] = []
        var rest = Substring(text)
        while let newline = rest.firstIndex(of: "\n") {
            lines.append(FakeLogLine(timestamp: stamp, text: String(rest[...newline])))
            rest = rest[rest.index(after: newline)...]
        }
        if !rest.isEmpty { lines.append(FakeLogLine(timestamp: stamp, text: String(rest))) }
        logs[key, default: [:]][container, default: []].append(contentsOf: lines)
        for follower in followers.values where follower.key == key && follower.container == container {
            follower.continuation.yield(Data(lines.map { $0.rendered(timestamps: follower.timestamps) }.joined().utf8))
        }
    }

    /// Ends the follow streams of a container that stopped.
    package func endFollowers(pod name: String, namespace: String, container: String) {
        let key = key(Kubernetes.Pod.self, namespace: namespace, name: name)
        for (id, follower) in followers where follower.key == key && follower.container == container {
            followers[id] = nil
            follower.continuation.finish()
        }
    }
}
