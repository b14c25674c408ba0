import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates

/// mrun's stand-in for mrunner's Python package: what a specification imports
/// (`mrunner.helpers.specification_helper.create_experiments_helper`, `mrunner.experiment.Experiment`)
/// and what an experiment written for mrunner calls in the job
/// (`mrunner.helpers.client_helper.get_configuration()`, which returns its point's `MRUN_PARAMS`).
/// Its files come from templates (`mrunner-*.py.stencil`), so an installed mrun carries them.
public enum MrunnerCompat {
    /// The package's files: their path in the code, and the template of each (nil: a package marker).
    static let layout: [(path: String, template: TemplateSet.Name?)] = [
        ("mrunner/__init__.py", nil),
        ("mrunner/experiment.py", .mrunnerExperiment),
        ("mrunner/helpers/__init__.py", nil),
        ("mrunner/helpers/client_helper.py", .mrunnerClientHelper),
        ("mrunner/helpers/specification_helper.py", .mrunnerSpecificationHelper),
    ]

    static let marker = "# mrun's compatibility module for experiments and specifications written for mrunner.\n"

    /// The package's files, rendered.
    public static func files(templates: TemplateSet) throws -> [(path: String, content: String)] {
        let renderer = TemplateRenderer()
        return try layout.map { entry in
            guard let name = entry.template else { return (entry.path, marker) }
            return (entry.path, try renderer.render(templates.source(name), with: [:]))
        }
    }

    /// Writes the package under `directory` (which then goes on `PYTHONPATH`).
    public static func write(to directory: URL, templates: TemplateSet) throws {
        for file in try files(templates: templates) {
            try AtomicFile.write(file.content, to: directory.appendingPathComponent(file.path), mode: 0o644)
        }
    }

    /// Whether the project ships an `mrunner` of its own (`mrunner/` or `mrunner.py` at its top),
    /// which then wins: mrun adds nothing.
    public static func projectHasOwn(_ snapshot: CodeSnapshot) -> Bool {
        snapshot.files.contains { $0.path == "mrunner.py" || $0.path.hasPrefix("mrunner/") }
    }
}

/// What a launch from a Python spec keeps for its job (and records, for `rerun`): the spec's
/// `python_path`, the job's `PYTHONPATH`.
public struct MrunnerSpecSettings: Codable, Sendable, Equatable {
    public var pythonPath: String?

    public init(pythonPath: String? = nil) {
        self.pythonPath = pythonPath
    }
}
