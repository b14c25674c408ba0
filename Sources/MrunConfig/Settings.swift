import Yams
import MrunSupport

/// mrun's own settings, stored in `$MRUN_HOME/config.yaml`.
public struct Settings: Codable, Sendable, Equatable {
    /// Context used when `--context` is not given.
    public var currentContext: String?
    /// Editor command for `context edit`, before `$VISUAL` and `$EDITOR`.
    public var editor: String?

    public init(currentContext: String? = nil, editor: String? = nil) {
        self.currentContext = currentContext
        self.editor = editor
    }

    public enum Key: String, CaseIterable, Sendable {
        case currentContext = "current_context"
        case editor

        public var summary: String {
            switch self {
            case .currentContext: return "Context used when --context is not given (default: the built-in 'local')."
            case .editor: return "Editor for 'mrun context edit' (default: $VISUAL, then $EDITOR, then vi)."
            }
        }
    }

    public static var knownKeys: [String] { Key.allCases.map(\.rawValue) }

    public subscript(key: Key) -> String? {
        get {
            switch key {
            case .currentContext: return currentContext
            case .editor: return editor
            }
        }
        set {
            switch key {
            case .currentContext: currentContext = newValue
            case .editor: editor = newValue
            }
        }
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> Settings {
        if text.allSatisfy(\.isWhitespace) { return Settings() }
        let document = try YAMLDocument.configMapping(text, file: file, what: "settings")
        var settings = Settings()
        for (keyNode, valueNode) in document.pairs {
            let name = keyNode.scalar?.string ?? ""
            guard let key = Key(rawValue: name) else {
                throw document.failure(
                    at: keyNode,
                    "unknown setting \(quoted: name)\(Suggestion.hint(for: name, in: knownKeys));"
                        + " known settings: \(knownKeys.joined(separator: ", "))")
            }
            guard let value = valueNode.scalar?.string else {
                throw document.failure(at: valueNode, "\(name) must be a string")
            }
            settings[key] = value
        }
        return settings
    }

    public var yaml: String {
        var pairs: [(Node, Node)] = []
        for key in Key.allCases {
            if let value = self[key] { pairs.append((Node(key.rawValue), Node(value, Tag(.str), .doubleQuoted))) }
        }
        if pairs.isEmpty { return "" }
        return (try? Yams.serialize(node: Node(pairs), sortKeys: false)) ?? ""
    }
}
