import Stencil
import MrunSupport

/// A mapping of template variables that Stencil reads through ``DynamicMemberLookup``.
///
/// Stencil on Linux asks every plain dictionary whether it is a `Context` before reading a key,
/// a cast that bridges the whole dictionary to an `NSDictionary`: that was half of the time spent
/// planning a sweep. A class answers the cast at once.
final class TemplateObject: DynamicMemberLookup, CustomStringConvertible, Sendable {
    let fields: [String: any Sendable]

    init(_ fields: [String: any Sendable]) {
        self.fields = fields
    }

    /// A field, or `count` for the number of fields, as Stencil gives a dictionary's.
    subscript(dynamicMember member: String) -> Any? {
        if let value = fields[member] { return value }
        return member == "count" ? fields.count : nil
    }

    /// What Stencil prints for `{{ experiment }}`: the fields as JSON.
    var description: String { TemplateFilters.json(fields) }
}
