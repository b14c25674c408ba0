import Foundation
import MrunSupport

extension Kubernetes {
    public enum WatchEventType: String, Codable, Sendable, Equatable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// The object is a Status; a 410 Expired one means "list again", yet the HTTP status was 200.
        case error = "ERROR"
        /// Only `metadata.resourceVersion` is meaningful: where to resume the watch.
        case bookmark = "BOOKMARK"
    }

    /// One line of a `watch=true` response: `{"type":…,"object":{…}}`.
    public enum WatchEvent<Object: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
        case added(Object)
        case modified(Object)
        case deleted(Object)
        case bookmark(Object)
        case error(Status)

        enum CodingKeys: String, CodingKey {
            case type, object
        }

        public var type: WatchEventType {
            switch self {
            case .added: return .added
            case .modified: return .modified
            case .deleted: return .deleted
            case .bookmark: return .bookmark
            case .error: return .error
            }
        }

        /// The object of every event but `ERROR`.
        public var object: Object? {
            switch self {
            case .added(let object), .modified(let object), .deleted(let object), .bookmark(let object):
                return object
            case .error:
                return nil
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            switch try container.decode(WatchEventType.self, forKey: .type) {
            case .added: self = .added(try container.decode(Object.self, forKey: .object))
            case .modified: self = .modified(try container.decode(Object.self, forKey: .object))
            case .deleted: self = .deleted(try container.decode(Object.self, forKey: .object))
            case .bookmark: self = .bookmark(try container.decode(Object.self, forKey: .object))
            case .error: self = .error(try container.decode(Status.self, forKey: .object))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            switch self {
            case .added(let object), .modified(let object), .deleted(let object), .bookmark(let object):
                try container.encode(object, forKey: .object)
            case .error(let status):
                try container.encode(status, forKey: .object)
            }
        }
    }

    /// Splits a watch response body into events. The server writes one JSON object per line but
    /// the transport may split a line across reads (a 4100-byte event arrived as 4096 + 4 bytes),
    /// so bytes are held until their newline arrives.
    public struct WatchStreamDecoder<Object: Codable & Sendable & Equatable>: Sendable {
        private var pending = Data()

        public init() {}

        /// The events completed by `chunk`, in order.
        public mutating func decode(_ chunk: Data) throws -> [WatchEvent<Object>] {
            pending.append(chunk)
            var events: [WatchEvent<Object>] = []
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[pending.index(after: newline)...])
                if line.allSatisfy(Self.isWhitespace) { continue }
                events.append(try JSONDecoder().decode(WatchEvent<Object>.self, from: Data(line)))
            }
            return events
        }

        /// Call at end of stream: a last event without its newline is still delivered, while a
        /// cut-off one is an error rather than silently lost.
        public mutating func finish() throws -> [WatchEvent<Object>] {
            let rest = pending
            pending = Data()
            if rest.allSatisfy(Self.isWhitespace) { return [] }
            return [try JSONDecoder().decode(WatchEvent<Object>.self, from: rest)]
        }

        private static func isWhitespace(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
                || byte == UInt8(ascii: "\n")
        }
    }
}
