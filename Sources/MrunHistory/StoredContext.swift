import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// A launch's context as the history stores it: the JSON of ``Context``, read back leniently.
///
/// The history outlives mrun versions, and `Context` grows: a field added later with a default
/// value (`var modules: [String] = []`) is a key that old rows lack, and `Context`'s synthesized
/// decoder would reject every launch recorded before the upgrade. So the stored JSON is laid over
/// the JSON of a fresh context of the same name and type, which has every key at its default.
struct StoredContext: Codable, Sendable, Equatable {
    var value: Context
    /// `value`'s JSON text, when it was written once for the many launches of a sweep.
    var encoded: String?

    init(_ value: Context) {
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        guard let encoded else { return try value.encode(to: encoder) }
        var container = encoder.singleValueContainer()
        try container.encode(encoded)
    }

    static func == (lhs: StoredContext, rhs: StoredContext) -> Bool { lhs.value == rhs.value }

    /// `contexts` with the JSON text of each distinct one written once.
    static func encodingOnce(_ contexts: [StoredContext]) throws -> [StoredContext] {
        var written: [(value: Context, text: String)] = []
        return try contexts.map { context in
            var context = context
            if let known = written.first(where: { $0.value == context.value }) {
                context.encoded = known.text
            } else {
                // The encoder GRDB would use for the column, so the text is what it would write.
                let encoder = LaunchRecord.databaseJSONEncoder(for: LaunchRecord.CodingKeys.storedContext.rawValue)
                let text = String(decoding: try encoder.encode(context.value), as: UTF8.self)
                written.append((context.value, text))
                context.encoded = text
            }
            return context
        }
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
        value = try JSONDecoder().decode(
            Context.self, from: JSONEncoder().encode(defaults.overlaid(with: Self.moved(stored))))
    }

    /// Keys that moved since older rows were written: `nodes` was Slurm's before every backend's
    /// gang had it.
    static func moved(_ stored: JSONValue) -> JSONValue {
        guard case .object(var fields) = stored, case .object(var slurm)? = fields["slurm"],
            let nodes = slurm.removeValue(forKey: "nodes")
        else { return stored }
        fields["slurm"] = .object(slurm)
        if case .object(var gang)? = fields["gang"] {
            gang["nodes"] = gang["nodes"] ?? nodes
            fields["gang"] = .object(gang)
        } else {
            fields["gang"] = .object(["nodes": nodes])
        }
        return .object(fields)
    }
}
