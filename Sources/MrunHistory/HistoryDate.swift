import Foundation
import GRDB
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan

/// Dates in the history: UTC text `YYYY-MM-DD HH:MM:SS.SSS`, which sorts in time order, reads well
/// in `sqlite3` and is what SQLite's date functions (and Python's `sqlite3` users) expect.
///
/// Written with integer arithmetic rather than a `DateFormatter`, which truncates fractions: a date
/// a hair under `.123` would be stored as `.122` and come back unequal to the one recorded.
package enum HistoryDate {
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The date rounded to what the history keeps.
    static func rounded(_ date: Date) -> Date {
        Self.date(milliseconds: milliseconds(date))
    }

    package static func text(_ date: Date) -> String {
        let total = milliseconds(date)
        let millis = Int(((total % 1000) + 1000) % 1000)
        var seconds = time_t((total - Int64(millis)) / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }

    /// Reads any date SQLite's functions accept (`YYYY-MM-DD[ HH:MM[:SS[.fff]]]`, numbers as Unix
    /// seconds), rounded to the millisecond.
    static func date(_ value: DatabaseValue) -> Date? {
        if case .string(let text) = value.storage, let date = parse(text) { return date }
        return Date.fromDatabaseValue(value).map(rounded)
    }

    private static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: " ") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var millis = 0
        if bytes.count > 20 {
            // Python writes microseconds: keep the first three digits, rounding by the fourth.
            let fraction = bytes[20...].prefix(4)
            guard bytes[19] == UInt8(ascii: "."), let digits = number(20..<(20 + fraction.count)) else { return nil }
            let scale = [1, 100, 10, 1, 1][fraction.count]
            millis = fraction.count == 4 ? (digits + 5) / 10 : digits * scale
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts))
        return date(milliseconds: seconds * 1000 + Int64(millis))
    }
}
