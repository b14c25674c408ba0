import Foundation

/// Reads user files with messages that say which file and what is wrong with it.
public enum FileText {
    /// The file's text, or nil when it does not exist.
    public static func readIfPresent(_ url: URL) throws(FileError) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return nil }
        return try read(url)
    }

    /// The file's text; a missing file, a directory or unreadable bytes are one-line errors.
    public static func read(_ url: URL, role: String = "file") throws(FileError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw FileError("\(url.path): no such \(role); check the path")
        }
        if isDirectory.boolValue {
            throw FileError("\(url.path): is a directory, not a \(role); give the path of a file")
        }
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw FileError("\(url.path): permission denied; make the \(role) readable (chmod u+r)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw FileError("\(url.path): cannot read the \(role): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileError("\(url.path): is not UTF-8 text")
        }
        return text
    }
}
