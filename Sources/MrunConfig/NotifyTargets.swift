import Foundation
import MrunSupport

/// Where mrun says that a launch ended: an `http://` or `https://` webhook URL (sent a JSON POST)
/// or `command: ARGV` (run on this machine with the JSON on its standard input). The URLs are
/// secrets, so every encoded form of a context shows them as ``redacted(_:)`` does.
public enum NotifyTarget: Sendable, Equatable {
    case webhook(URL)
    case command([String])

    /// The events a context may name in `notify_on`.
    public enum Event: String, CaseIterable, Sendable {
        case end, fail, start
    }
}

public enum NotifyTargets {
    /// Reads one `notify` item; nil (and the reason) when it is neither form.
    public static func parse(_ text: String) -> Result<NotifyTarget, NotifyTargetProblem> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("command:") {
            let words = trimmed.dropFirst("command:".count).split(whereSeparator: \.isWhitespace).map(String.init)
            return words.isEmpty ? .failure(.emptyCommand) : .success(.command(words))
        }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else { return .failure(.notATarget(MessageQuoting.quoted(redacted(text)))) }
        return .success(.webhook(url))
    }

    /// A webhook URL as mrun shows it: its scheme and host, the rest (where the credential is)
    /// `<redacted>`; a command as written.
    public static func redacted(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("command:") { return trimmed }
        guard let url = URL(string: trimmed), let scheme = url.scheme, let host = url.host else {
            return "<redacted>"
        }
        return "\(scheme)://\(host)/<redacted>"
    }
}

public enum NotifyTargetProblem: Error, Sendable, Equatable {
    case emptyCommand
    case notATarget(String)

    public var message: String {
        switch self {
        case .emptyCommand: return "'command:' names no program; write e.g. 'command: notify-send mrun'"
        case .notATarget(let text):
            return "\(text) is neither an http(s) webhook URL nor 'command: ARGV'"
        }
    }
}

extension Context {
    /// The first problem with the notification keys.
    func notifyProblem() -> Problem? {
        for (index, item) in notify.enumerated() {
            if case .failure(let problem) = NotifyTargets.parse(item) {
                return Problem(key: .notify, place: .item(index), message: "notify: \(problem.message)")
            }
        }
        let events = NotifyTarget.Event.allCases.map(\.rawValue)
        for (index, item) in notifyOn.enumerated() where !events.contains(item) {
            return Problem(
                key: .notifyOn, place: .item(index),
                message: "notify_on: \(quoted: item) is not an event; use \(events.joined(separator: ", "))")
        }
        if let from = notifyFrom, !["job", "here"].contains(from) {
            return Problem(key: .notifyFrom, message: "notify_from must be job or here, got \(quoted: from)")
        }
        return nil
    }

    /// The parsed `notify` targets (the context was checked, so every item reads).
    public var notifyTargets: [NotifyTarget] {
        // A recorded context's URLs are redacted: they name no receiver any more.
        notify.filter { !$0.hasSuffix("/<redacted>") }.compactMap { try? NotifyTargets.parse($0).get() }
    }

    /// The events to notify: `notify_on`, else `end`.
    public var notifyEvents: Set<NotifyTarget.Event> {
        let events = Set(notifyOn.compactMap(NotifyTarget.Event.init(rawValue:)))
        return events.isEmpty ? [.end] : events
    }
}
