import CYaml
import MrunSupport

/// Reads a manifest into JSON straight from libyaml's events (the parser Yams is built on), for
/// the manifests made of plain mappings, lists and scalars that templates render.
///
/// Yams composes a tree of nodes first, each with its own tag object, and checks every mapping's
/// keys by hashing those nodes: that was three quarters of reading a sweep's Jobs. Anything this
/// reader does not handle the way Yams does (an anchor or alias, an explicit tag, a key that is
/// not a scalar, a key given twice, a second document, a syntax error) makes it give up, and the
/// caller reads the text with Yams, whose answer or error stays the one the user sees.
enum ManifestYAMLEvents {
    /// Why the events were not enough.
    struct Unsupported: Error {}

    /// The document as JSON (nil for none), or ``Unsupported``.
    static func json(_ text: String, quantityKeys: Set<String>) throws -> JSONValue? {
        var text = text
        text.makeContiguousUTF8()
        return try text.utf8.withContiguousStorageIfAvailable { bytes in
            var reader = Reader(quantityKeys: quantityKeys)
            return try reader.read(bytes)
        } ?? { throw Unsupported() }()
    }

    private struct Reader {
        var quantityKeys: Set<String>
        var parser = yaml_parser_t()
        var event = yaml_event_t()

        init(quantityKeys: Set<String>) {
            self.quantityKeys = quantityKeys
        }

        mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue? {
            guard yaml_parser_initialize(&parser) == 1 else { throw Unsupported() }
            defer {
                yaml_event_delete(&event)
                yaml_parser_delete(&parser)
            }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
            try expect(YAML_STREAM_START_EVENT)
            try next()
            if event.type == YAML_STREAM_END_EVENT { return nil }
            guard event.type == YAML_DOCUMENT_START_EVENT else { throw Unsupported() }
            try next()
            let document = try value(key: nil)
            try expect(YAML_DOCUMENT_END_EVENT)
            try expect(YAML_STREAM_END_EVENT)
            return document
        }

        /// Replaces the current event with the next one.
        private mutating func next() throws {
            yaml_event_delete(&event)
            guard yaml_parser_parse(&parser, &event) == 1 else { throw Unsupported() }
        }

        private mutating func expect(_ type: yaml_event_type_t) throws {
            try next()
            guard event.type == type else { throw Unsupported() }
        }

        /// The value starting at the current event, which is left on the value's last event.
        /// `key`: the mapping key the value is under, if any.
        private mutating func value(key: String?) throws -> JSONValue {
            switch event.type {
            case YAML_SCALAR_EVENT:
                guard event.data.scalar.anchor == nil, event.data.scalar.tag == nil else { throw Unsupported() }
                let text = scalarText()
                if event.data.scalar.quoted_implicit == 1 { return .string(text) }
                return try ManifestYAML.implicitScalar(text)
            case YAML_SEQUENCE_START_EVENT:
                guard event.data.sequence_start.anchor == nil, event.data.sequence_start.implicit == 1 else {
                    throw Unsupported()
                }
                var items: [JSONValue] = []
                try next()
                while event.type != YAML_SEQUENCE_END_EVENT {
                    items.append(try value(key: key))
                    try next()
                }
                return .array(items)
            case YAML_MAPPING_START_EVENT:
                guard event.data.mapping_start.anchor == nil, event.data.mapping_start.implicit == 1 else {
                    throw Unsupported()
                }
                let quantities = key.map(quantityKeys.contains) ?? false
                var fields: [String: JSONValue] = [:]
                try next()
                while event.type != YAML_MAPPING_END_EVENT {
                    guard event.type == YAML_SCALAR_EVENT, event.data.scalar.anchor == nil,
                        event.data.scalar.tag == nil
                    else { throw Unsupported() }
                    let name = scalarText()
                    try next()
                    let item = quantities ? ManifestYAML.quantity(try value(key: name)) : try value(key: name)
                    guard fields.updateValue(item, forKey: name) == nil else { throw Unsupported() }
                    try next()
                }
                return .object(fields)
            default:
                throw Unsupported()
            }
        }

        private func scalarText() -> String {
            String(
                decoding: UnsafeBufferPointer(start: event.data.scalar.value, count: event.data.scalar.length),
                as: UTF8.self)
        }
    }
}
