import Foundation
@preconcurrency import Stencil
import MrunSupport

/// Renders templates with Stencil, configured to match Jinja2's output (no whitespace trimming
/// except where a template asks with `{%-`), plus the filters the templates need.
public struct TemplateRenderer: Sendable {
    public init() {}

    public func render(_ source: TemplateSet.Source, with variables: [String: any Sendable]) throws -> String {
        try render(prepare(source), with: variables)
    }

    /// A template parsed once, for rendering many times (the Jobs of a sweep's points): Stencil's
    /// own `Template.render` parses its tokens again on every call.
    package struct Prepared {
        package var source: TemplateSet.Source
        fileprivate var environment: Environment
        /// The parsed nodes, or the syntax error that `render` reports.
        fileprivate var nodes: Result<[NodeType], any Error>
        /// The nodes as parts rendered again only when what they read changed; nil when the
        /// template cannot be split.
        fileprivate var segments: TemplateSegments?

        /// Whether renders after the first reuse the parts whose variables did not change.
        package var reusesParts: Bool { segments != nil }
    }

    package func prepare(_ source: TemplateSet.Source) -> Prepared {
        let environment = Environment(extensions: [Self.filters], trimBehaviour: .nothing)
        if let problem = TemplateLint.problem(in: source.text) {
            let error = TemplateError.syntax(source: source.origin, line: problem.line, message: problem.message)
            return Prepared(source: source, environment: environment, nodes: .failure(error))
        }
        let template = environment.templateClass.init(templateString: source.text, environment: environment)
        let tokens = TemplateTrimming.trimmed(template.tokens)
        let nodes = Result { try TokenParser(tokens: tokens, environment: environment).parse() }
        let segments = (try? nodes.get()).flatMap { TemplateSegments(tokens: tokens, nodes: $0) }
        return Prepared(source: source, environment: environment, nodes: nodes, segments: segments)
    }

    package func render(_ prepared: Prepared, with variables: [String: any Sendable]) throws -> String {
        let source = prepared.source
        do {
            let context = Stencil.Context(dictionary: Self.objects(variables), environment: prepared.environment)
            let nodes = try prepared.nodes.get()
            if let segments = prepared.segments { return try segments.render(variables, context: context) }
            return try renderNodes(nodes, context)
        } catch let error as TemplateError {
            throw error
        } catch let error as TemplateSyntaxError {
            throw TemplateError.render(source: source.origin, message: error.description)
        } catch {
            throw TemplateError.render(source: source.origin, message: "\(error)")
        }
    }

    /// Turns a Codable value into the dictionaries, arrays and scalars Stencil looks into.
    public static func variables(_ value: some Encodable) throws -> [String: any Sendable] {
        try TemplateValueEncoder.encode(value) as? [String: any Sendable] ?? [:]
    }

    /// What ``variables(_:)`` makes, the long way (JSON text and back): the reference it is tested against.
    package static func variablesThroughJSON(_ value: some Encodable) throws -> [String: any Sendable] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(value)
        let object = try JSONSerialization.jsonObject(with: data)
        return unbridged(object) as? [String: any Sendable] ?? [:]
    }

    /// JSONSerialization hands back NSNumber for booleans and numbers; Stencil's `if` needs Bool and
    /// Int to judge truth the way Jinja2 does (false and 0 are false).
    private static func unbridged(_ object: Any) -> any Sendable {
        switch object {
        case let dictionary as [String: Any]: return dictionary.mapValues(unbridged)
        case let array as [Any]: return array.map(unbridged)
        case let number as NSNumber:
            // Booleans decode as a distinct NSNumber subclass whose type code is "c" (char).
            if String(cString: number.objCType) == "c" { return number.boolValue }
            if number.doubleValue == Double(number.intValue) { return number.intValue }
            return number.doubleValue
        case let string as String: return string
        default: return Optional<String>.none
        }
    }

    /// The top-level mappings (`experiment`, `kubernetes`…) and those in top-level lists
    /// (`environment`'s items) as ``TemplateObject``s; mappings below them stay dictionaries, to be
    /// iterated (`{% for name, value in sweep.point %}`).
    static func objects(_ variables: [String: any Sendable]) -> [String: Any] {
        variables.mapValues { value -> Any in
            switch value {
            case let fields as [String: any Sendable]: return TemplateObject(fields)
            case let items as [any Sendable]:
                return items.map { item -> Any in
                    if let fields = item as? [String: any Sendable] { return TemplateObject(fields) }
                    return item
                }
            default: return value
            }
        }
    }

    static var filters: Extension {
        let filters = Extension()
        filters.registerFilter("tojson") { value in TemplateFilters.json(value) }
        filters.registerFilter("shellquote") { value in
            TemplateFilters.shellQuote(value.map { "\($0)" } ?? "")
        }
        filters.registerFilter("shelljoin") { value in
            guard let items = value as? [Any] else { return TemplateFilters.shellQuote(value.map { "\($0)" } ?? "") }
            return items.map { TemplateFilters.shellQuote("\($0)") }.joined(separator: " ")
        }
        return filters
    }
}

/// The template filters, usable from Swift too.
public enum TemplateFilters {
    /// JSON text of a value; JSON strings and arrays are also valid YAML, which makes this the safe way
    /// to put any string into a manifest.
    public static func json(_ value: Any?) -> String {
        guard let value else { return "null" }
        if let string = value as? String { return jsonString(string) }
        if let bool = value as? Bool { return bool ? "true" : "false" }
        if let int = value as? Int { return String(int) }
        if let double = value as? Double { return String(double) }
        if let object = value as? TemplateObject { return json(object.fields) }
        if let array = value as? [Any] { return "[" + array.map { json($0) }.joined(separator: ", ") + "]" }
        if let dictionary = value as? [String: Any] {
            let items = dictionary.keys.sorted().map { "\(jsonString($0)): \(json(dictionary[$0]))" }
            return "{" + items.joined(separator: ", ") + "}"
        }
        return jsonString("\(value)")
    }

    public static func jsonString(_ string: String) -> String { JSONText.string(string) }

    /// Quotes a word for a POSIX shell; words made only of safe characters stay as they are.
    public static func shellQuote(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
