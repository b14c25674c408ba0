import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// A private temporary directory for one `docker build`: the build context, holding exactly the
/// snapshot's files, and beside it (outside the context) the rendered Dockerfile and the image-ID file.
///
/// The Dockerfile stays out of the context so that a project's own `Dockerfile` cannot collide with
/// it and `COPY . WORKDIR` does not ship it; docker sends it separately under a name it ignores.
struct BuildDirectory {
    let root: URL
    var context: URL { root.appendingPathComponent("context", isDirectory: true) }
    var dockerfile: URL { root.appendingPathComponent("Dockerfile") }
    var imageIDFile: URL { root.appendingPathComponent("image-id") }

    /// Links (or, across file systems, copies) every snapshot file into a fresh context.
    static func assemble(snapshot: CodeSnapshot, dockerfile: String, host: HostEnvironment) throws -> BuildDirectory {
        let temporary = host.variables["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let directory = BuildDirectory(
            root: URL(fileURLWithPath: temporary).appendingPathComponent("mrun-image-\(UUID().uuidString)"))
        let files = FileManager.default
        var current = directory.root
        do {
            try files.createDirectory(at: directory.root, withIntermediateDirectories: true)
            try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.root.path)
            try files.createDirectory(at: directory.context, withIntermediateDirectories: false)
            current = directory.dockerfile
            try Data(dockerfile.utf8).write(to: directory.dockerfile)
            let source = URL(fileURLWithPath: snapshot.root)
            for file in snapshot.files {
                current = source.appendingPathComponent(file.path)
                let target = directory.context.appendingPathComponent(file.path)
                try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if let content = file.content {
                    try Data(content.utf8).write(to: target)
                    continue
                }
                // A symlinked file ships as its target's content, as the snapshot hashed it.
                let original = current.resolvingSymlinksInPath()
                do {
                    try files.linkItem(at: original, to: target)
                } catch {
                    try files.copyItem(at: original, to: target)
                }
            }
        } catch {
            directory.remove()
            throw ImageError.contextUnwritable(path: current.path, reason: error.localizedDescription)
        }
        return directory
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}
