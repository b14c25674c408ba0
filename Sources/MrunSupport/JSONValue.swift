import Foundation

/// Any JSON value, to merge documents without knowing their types.
package enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Most specific first: JSON `1` must stay an integer for `Int` fields to decode again.
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([JSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let integer): try container.encode(integer)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let fields): try container.encode(fields)
        }
    }

    /// This value with `other` laid over it: objects merge key by key, anything else is replaced.
    package func overlaid(with other: JSONValue) -> JSONValue {
        guard case .object(var fields) = self, case .object(let overlay) = other else { return other }
        for (key, value) in overlay {
            fields[key] = fields[key].map { $0.overlaid(with: value) } ?? value
        }
        return .object(fields)
    }
}

extension JSONValue {
    /// Compact JSON text, written directly: a sweep converts each point's manifest this way, and
    /// `JSONEncoder` took several times longer for the same bytes.
    package var jsonText: String {
        var text = ""
        write(into: &text)
        return text
    }

    private func write(into text: inout String) {
        switch self {
        case .null: text += "null"
        case .bool(let flag): text += flag ? "true" : "false"
        case .integer(let integer): text += String(integer)
        case .number(let number): text += number.isFinite ? "\(number)" : "null"
        case .string(let string): text += JSONText.string(string)
        case .array(let items):
            text += "["
            for (index, item) in items.enumerated() {
                if index > 0 { text += "," }
                item.write(into: &text)
            }
            text += "]"
        case .object(let fields):
            text += "{"
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                text += JSONText.string(key)
                text += ":"
                fields[key]?.write(into: &text)
            }
            text += "}"
        }
    }
}

extension JSONValue {
    /// One step into a document: a field of an object, or an item of an array.
    package enum Step: Hashable, Sendable {
        case field(String)
        case item(Int)
    }

    package var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value `path` leads to; nil where it leads nowhere.
    package subscript(path: [Step]) -> JSONValue? {
        var value = self
        for step in path {
            switch (step, value) {
            case (.field(let name), .object(let fields)):
                guard let next = fields[name] else { return nil }
                value = next
            case (.item(let index), .array(let items)) where items.indices.contains(index):
                value = items[index]
            default: return nil
            }
        }
        return value
    }

    /// Changes the value at `path`, making the objects on the way that are missing; an item out
    /// of range, or a step through a value of another kind, changes nothing.
    package mutating func update(_ path: ArraySlice<Step>, _ change: (inout JSONValue) -> Void) {
        guard let step = path.first else { return change(&self) }
        switch (step, self) {
        case (.field(let name), .object(var fields)):
            var next = fields.removeValue(forKey: name) ?? .object([:])
            self = .null  // the fields are no longer shared, so the update below copies nothing
            next.update(path.dropFirst(), change)
            fields[name] = next
            self = .object(fields)
        case (.item(let index), .array(var items)) where items.indices.contains(index):
            self = .null
            items[index].update(path.dropFirst(), change)
            self = .array(items)
        default: return
        }
    }

    /// Removes the field or item at `path`, if it is there.
    package mutating func remove(_ path: ArraySlice<Step>) {
        guard let last = path.last, self[Array(path.dropLast())] != nil else { return }
        update(path.dropLast()) { parent in
            switch (last, parent) {
            case (.field(let name), .object(var fields)):
                parent = .null
                fields[name] = nil
                parent = .object(fields)
            case (.item(let index), .array(var items)) where items.indices.contains(index):
                parent = .null
                items.remove(at: index)
                parent = .array(items)
            default: break
            }
        }
    }
}
