import Foundation

/// Encodes a value straight into the dictionaries, arrays and scalars that templates read: what
/// `JSONEncoder` (snake_case keys), `JSONSerialization` and ``TemplateRenderer`` unbridging made of
/// it, without the JSON text between them, which was most of the time a sweep's point spent on its
/// variables.
///
/// As `JSONEncoder` does: a `Dictionary`'s keys stay as they are, a `URL` is its absolute string, a
/// `Date` its seconds since 2001; a whole number, even a `Double`, reads as an `Int`.
enum TemplateValueEncoder {
    static func encode(_ value: some Encodable) throws -> any Sendable {
        let box = Box()
        try encode(value, into: box, codingPath: [])
        return box.value
    }

    fileprivate static func encode(_ value: some Encodable, into box: Box, codingPath: [any CodingKey]) throws {
        switch value {
        case let text as String: box.scalar = text
        case let flag as Bool: box.scalar = flag
        case let url as URL: box.scalar = url.absoluteString
        case let date as Date: box.scalar = number(date.timeIntervalSinceReferenceDate)
        case let fields as [String: any Encodable]:
            box.kind = .object
            for (key, field) in fields {
                let child = Box()
                try encode(field, into: child, codingPath: codingPath)
                box.fields[key] = child
            }
        default:
            if let scalar = scalar(value) {
                box.scalar = scalar
            } else {
                try value.encode(to: ValueEncoder(box: box, codingPath: codingPath))
            }
        }
    }

    /// Numbers as JSONSerialization hands them back once unbridged.
    private static func scalar(_ value: Any) -> (any Sendable)? {
        switch value {
        case let integer as Int: integer
        case let integer as Int8: Int(integer)
        case let integer as Int16: Int(integer)
        case let integer as Int32: Int(integer)
        case let integer as Int64: Int(integer)
        case let integer as UInt: Int(exactly: integer) ?? Double(integer)
        case let integer as UInt8: Int(integer)
        case let integer as UInt16: Int(integer)
        case let integer as UInt32: Int(integer)
        case let integer as UInt64: Int(exactly: integer) ?? Double(integer)
        case let double as Double: number(double)
        // JSONEncoder writes a Float's shortest text, which reads back as that Double.
        case let float as Float: number(Double("\(float)") ?? Double(float))
        default: nil
        }
    }

    fileprivate static func number(_ double: Double) -> any Sendable {
        if double.isFinite, abs(double) < 9.0e18, double == double.rounded() { return Int(double) }
        return double
    }

    /// JSONEncoder's `convertToSnakeCase`, step by step: a word ends before a capital; a capital
    /// not followed at once by a lower case letter is a word up to the character before the next
    /// lower case one (`myURLValue` → `my_url_value`, `x1Y2z` → `x1_y_2z`).
    static func snakeCase(_ key: String) -> String {
        // Most keys are one lower case word already.
        if key.utf8.allSatisfy({ $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) { return key }
        let characters = Array(key)
        guard !characters.isEmpty else { return key }
        var words: [Range<Int>] = []
        var wordStart = 0
        var searchStart = 1
        while searchStart < characters.count,
            let upper = (searchStart..<characters.count).first(where: { characters[$0].isUppercase })
        {
            words.append(wordStart..<upper)
            guard let lower = (upper..<characters.count).first(where: { characters[$0].isLowercase }) else {
                wordStart = upper
                break
            }
            if lower == upper + 1 {
                wordStart = upper
            } else {
                words.append(upper..<(lower - 1))
                wordStart = lower - 1
            }
            searchStart = lower + 1
        }
        words.append(wordStart..<characters.count)
        return words.map { String(characters[$0]).lowercased() }.joined(separator: "_")
    }
}

/// One value being encoded; a container writes into its box, which its parent holds already.
private final class Box {
    enum Kind {
        case unset, null, scalar, object, array
    }

    var kind = Kind.unset
    var fields: [String: Box] = [:]
    var items: [Box] = []
    var scalar: (any Sendable)? {
        didSet { kind = .scalar }
    }

    var value: any Sendable {
        switch kind {
        case .scalar: return scalar ?? String?.none
        case .null: return String?.none
        case .object, .unset: return fields.mapValues(\.value) as [String: any Sendable]
        case .array: return items.map(\.value) as [any Sendable]
        }
    }
}

private struct ValueEncoder: Encoder {
    let box: Box
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        box.kind = .object
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        box.kind = .array
        return UnkeyedContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(box: box, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: Box
    var codingPath: [any CodingKey]

    private func child(_ key: Key) -> Box {
        let child = Box()
        box.fields[TemplateValueEncoder.snakeCase(key.stringValue)] = child
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).kind = .null }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try TemplateValueEncoder.encode(value, into: child(key), codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        ValueEncoder(box: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(box: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    /// Under `super`, as JSONEncoder puts it.
    mutating func superEncoder() -> any Encoder {
        let parent = Box()
        box.fields["super"] = parent
        return ValueEncoder(box: parent, codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(box: child(key), codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: Box
    var codingPath: [any CodingKey]
    var count: Int { box.items.count }

    private func next() -> Box {
        let child = Box()
        box.items.append(child)
        return child
    }

    mutating func encodeNil() throws { next().kind = .null }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try TemplateValueEncoder.encode(value, into: next(), codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        ValueEncoder(box: next(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        ValueEncoder(box: next(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { ValueEncoder(box: next(), codingPath: codingPath) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let box: Box
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { box.kind = .null }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try TemplateValueEncoder.encode(value, into: box, codingPath: codingPath)
    }
}
