/// Where a launch writes what it wants back (`MRUN_OUTPUT_DIR`, what `mrun fetch` copies):
/// `BASE/PROJECT/outputs/NAME`, BASE the storage the experiment sees (`STORAGE_DIR`), or on a
/// cluster without one the remote workdir (relative to the remote home, which the job's script
/// puts in front).
public enum OutputDirectory {
    public static let variable = "MRUN_OUTPUT_DIR"

    public static func path(base: String, project: String, name: String) -> String {
        "\(base.hasSuffix("/") && base.count > 1 ? String(base.dropLast()) : base)/\(subPath(project: project, name: name))"
    }

    /// The part under the base: `PROJECT/outputs/NAME`.
    public static func subPath(project: String, name: String) -> String {
        "\(project)/outputs/\(name)"
    }

    /// `path` with the launch's name in place of the last component: a sweep's point.
    static func renamed(_ path: String, to name: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return name }
        return String(path[...slash]) + name
    }
}
