import Synchronization

/// What the fake's clients did on the wire: connections by protocol, HTTP/2 streams, and how
/// many requests were in flight at once, overall and on one connection. Tests read it to see how
/// a client really talks (one HTTP/2 connection with many streams, or many TLS connections); the
/// bench's fake process prints it on request.
package final class FakeTraffic: Sendable {
    package struct Counts: Codable, Sendable, Equatable, CustomStringConvertible {
        package var http1Connections = 0
        package var http2Connections = 0
        package var http2Streams = 0
        package var requests = 0
        /// The most requests handled at once, over every connection.
        package var peakInFlight = 0
        /// The most requests handled at once on one connection (above 1 only on HTTP/2).
        package var peakInFlightPerConnection = 0

        package var description: String {
            "\(http1Connections) HTTP/1.1 and \(http2Connections) HTTP/2 connections, \(http2Streams) streams,"
                + " \(requests) requests, at most \(peakInFlight) in flight"
                + " (\(peakInFlightPerConnection) on one connection)"
        }
    }

    /// One connection's share of the counts.
    package final class Connection: Sendable {
        private let traffic: FakeTraffic
        private let inFlight = Mutex(0)

        fileprivate init(traffic: FakeTraffic) {
            self.traffic = traffic
        }

        package func streamOpened() {
            traffic.counts.withLock { $0.http2Streams += 1 }
        }

        package func requestStarted() {
            let here = inFlight.withLock {
                $0 += 1
                return $0
            }
            traffic.counts.withLock {
                $0.requests += 1
                $0.peakInFlightPerConnection = max($0.peakInFlightPerConnection, here)
            }
            let all = traffic.inFlight.withLock {
                $0 += 1
                return $0
            }
            traffic.counts.withLock { $0.peakInFlight = max($0.peakInFlight, all) }
        }

        package func requestEnded() {
            inFlight.withLock { $0 -= 1 }
            traffic.inFlight.withLock { $0 -= 1 }
        }
    }

    private let counts = Mutex(Counts())
    private let inFlight = Mutex(0)

    package init() {}

    package var current: Counts { counts.withLock { $0 } }

    /// Starts counting afresh (between the phases of a test or the rounds of a bench).
    package func reset() {
        counts.withLock { $0 = Counts() }
    }

    func opened(http2: Bool) -> Connection {
        counts.withLock {
            if http2 { $0.http2Connections += 1 } else { $0.http1Connections += 1 }
        }
        return Connection(traffic: self)
    }
}
