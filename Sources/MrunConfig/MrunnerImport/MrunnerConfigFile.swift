import Foundation
import Yams
import MrunSupport

/// mrunner's config file as written, before any of it is mapped: its contexts with their keys (and
/// the YAML nodes, for messages naming the line) and its `current_context`.
///
/// Two formats are read. The later one, which `mrunner context add` writes:
///
/// ```yaml
/// contexts:
///   plgrid.agents: {backend_type: slurm, context_name: plgrid.agents, storage_dir: /net/scratch, ...}
/// current_context: plgrid.agents
/// ```
///
/// and the earlier one of mrunner's README, where a context says `name` and `type` (and `storage`):
/// a `contexts:` list of such mappings, or a file that is one context.
public struct MrunnerConfigFile {
    public struct Entry {
        /// The context's key in `contexts:` (later format) or its `name`/`context_name`.
        public var name: String
        /// Where the context starts, for messages.
        var node: Node
        /// Its keys, in file order.
        var pairs: [(key: String, keyNode: Node, value: Node)]
    }

    public var file: String
    public var entries: [Entry]
    public var currentContext: String?
    var document: YAMLDocument

    /// mrunner's own file: `$XDG_CONFIG_HOME/mrunner/config.yaml`, else `~/.config/mrunner/config.yaml`
    /// (click's application directory on Linux).
    public static func defaultPath(host: HostEnvironment) -> URL {
        if let xdg = host.variables["XDG_CONFIG_HOME"], !xdg.isEmpty {
            return host.resolve(xdg).appendingPathComponent("mrunner/config.yaml")
        }
        return host.homeDirectory.appendingPathComponent(".config/mrunner/config.yaml")
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> MrunnerConfigFile {
        let document = try YAMLDocument.configMapping(text, file: file, what: "mrunner's contexts")
        var config = MrunnerConfigFile(file: file, entries: [], currentContext: nil, document: document)
        let topKeys = document.pairs.compactMap { $0.0.scalar?.string }
        // The README's single context: its own keys at the top.
        if !topKeys.contains("contexts") {
            guard topKeys.contains(where: { ["type", "backend_type"].contains($0) }) else {
                throw document.failure(
                    at: nil,
                    "holds no mrunner contexts: expected 'contexts:' (mrunner's config.yaml) or a context's"
                        + " 'name' and 'type'")
            }
            config.entries = [try entry(document.root, name: nil, document: document)]
            return config
        }
        for (keyNode, valueNode) in document.pairs {
            switch keyNode.scalar?.string {
            case "contexts":
                if let mapping = valueNode.mapping {
                    for (nameNode, contextNode) in mapping {
                        let name = try document.configScalar(nameNode, key: "contexts")
                        config.entries.append(try entry(contextNode, name: name, document: document))
                    }
                } else if let sequence = valueNode.sequence {
                    for contextNode in sequence {
                        config.entries.append(try entry(contextNode, name: nil, document: document))
                    }
                } else if !isNull(valueNode) {
                    throw document.failure(at: valueNode, "contexts: must map context names to their keys")
                }
            case "current_context":
                let name = isNull(valueNode) ? "" : try document.configScalar(valueNode, key: "current_context")
                config.currentContext = name.isEmpty ? nil : name
            default:
                // mrunner's Config has only these two; anything else it would refuse to load.
                let key = keyNode.scalar?.string ?? ""
                throw document.failure(
                    at: keyNode, "unknown key \(quoted: key); mrunner's config holds 'contexts' and 'current_context'")
            }
        }
        var seen: Set<String> = []
        for entry in config.entries {
            if !seen.insert(entry.name).inserted {
                throw document.failure(at: entry.node, "context \(quoted: entry.name) is defined twice; keep one")
            }
        }
        return config
    }

    private static func entry(_ node: Node, name: String?, document: YAMLDocument) throws(ConfigError) -> Entry {
        guard let mapping = node.mapping else {
            throw document.failure(at: node, "a context must be a mapping of 'key: value' lines")
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else { throw document.failure(at: keyNode, "keys must be names") }
            pairs.append((key, keyNode, valueNode))
        }
        // mrunner finds a context by its key in `contexts:`; the README's form by its `name`.
        let own = pairs.first { $0.key == "context_name" || $0.key == "name" }
        var resolved = name
        if resolved == nil, let own { resolved = try document.configScalar(own.value, key: own.key) }
        guard let resolved, !resolved.isEmpty else {
            throw document.failure(at: node, "a context without a name; give it 'name:' (or 'context_name:')")
        }
        return Entry(name: resolved, node: node, pairs: pairs)
    }

    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}

extension YAMLDocument {
    /// ``scalar(_:key:)`` with this layer's error.
    func configScalar(_ node: Node, key: String) throws(ConfigError) -> String {
        do {
            return try scalar(node, key: key)
        } catch {
            throw ConfigError(error)
        }
    }
}
