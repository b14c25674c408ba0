import Foundation

/// A launch's context as the history stores it: the JSON of ``Context``, read back leniently.
///
/// The history outlives mrun versions, and `Context` grows: a field added later with a default
/// value (`var modules: [String] = []`) is a key that old rows lack, and `Context`'s synthesized
/// decoder would reject every launch recorded before the upgrade. So the stored JSON is laid over
/// the JSON of a fresh context of the same name and type, which has every key at its default.
struct StoredContext: Codable, Sendable, Equatable {
    var value: Context

    init(_ value: Context) {
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
    }

    init(from decoder: any Decoder) throws {
        let stored: JSONValue
        // GRDB offers a JSON column as a single value first, and converts its text to whatever is
        // asked, as SQLite would (a Bool reads `false`): ask for the text, and parse it here.
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            stored = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } else {
            stored = try JSONValue(from: decoder)
        }
        guard case .object(let fields) = stored, case .string(let name)? = fields["name"],
            case .string(let typeName)? = fields["type"], let type = ContextType(rawValue: typeName)
        else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "a context needs a name and a known type"))
        }
        let defaults = try JSONDecoder().decode(
            JSONValue.self, from: JSONEncoder().encode(Context(name: name, type: type)))
        value = try JSONDecoder().decode(Context.self, from: JSONEncoder().encode(defaults.overlaid(with: stored)))
    }
}

/// Any JSON value, to merge documents without knowing their types.
enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
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

    func encode(to encoder: any Encoder) throws {
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
    func overlaid(with other: JSONValue) -> JSONValue {
        guard case .object(var fields) = self, case .object(let overlay) = other else { return other }
        for (key, value) in overlay {
            fields[key] = fields[key].map { $0.overlaid(with: value) } ?? value
        }
        return .object(fields)
    }
}
