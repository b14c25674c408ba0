import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// Why the launch history could not be read or written. Each message is one line naming the
/// history file or the reference at fault and what to do about it.
public enum HistoryError: UserFacingError, Equatable {
    /// The file is not an SQLite database, or SQLite found it malformed.
    case corrupt(file: String, detail: String)
    /// A valid SQLite database that mrun did not create (it has tables but no mrun schema).
    case foreign(file: String)
    /// The schema has migrations this mrun does not know: a newer mrun wrote it.
    case newerSchema(file: String)
    /// SQLite could not open, read or write the file.
    case unavailable(file: String, detail: String)
    /// Another process held the database locked for longer than the busy timeout.
    case busy(file: String, seconds: Int)
    /// Two launches drew the same random id (40 bits: about once in a trillion pairs).
    case duplicateID(String)
    case notFound(reference: String)
    /// The reference matches several launches; `candidates` are `id name` lines, newest first.
    case ambiguous(reference: String, candidates: [String], more: Int)

    public var description: String {
        switch self {
        case .corrupt(let file, let detail):
            return "history database \(file) is corrupt or not an SQLite database (\(detail));"
                + " move it aside (mv \(file) \(file).broken) and mrun starts a new history"
        case .foreign(let file):
            return "\(file) is an SQLite database that mrun did not create;"
                + " move it aside (mv \(file) \(file).other) and mrun starts a new history"
        case .newerSchema(let file):
            return "history database \(file) was written by a newer mrun; upgrade mrun or move the file away"
        case .unavailable(let file, let detail):
            return "cannot use the history database \(file): \(detail); check its permissions and free disk space"
        case .busy(let file, let seconds):
            return "history database \(file) stayed locked by another process for \(seconds)s; try again"
        case .duplicateID(let id):
            return "launch id \(id) is already in the history; launch again, which draws a new id"
        case .notFound(let reference):
            return "no launch matches \(quoted: reference); use an id, an id prefix, an experiment or job name,"
                + " or a name pattern such as 'train-*'"
        case .ambiguous(let reference, let candidates, let more):
            let extra = more > 0 ? " and \(more) more" : ""
            return "\(quoted: reference) matches several launches: \(candidates.joined(separator: ", "))\(extra);"
                + " name one of them by its id"
        }
    }
}
