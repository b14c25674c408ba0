import ArgumentParser
import Foundation
import Testing

@testable import mrun

/// Help as an 80-column terminal shows it. ArgumentParser wraps a long line at the left margin, so
/// an example command that does not fit is printed in two pieces neither of which can be pasted.
@Suite struct HelpWidthTests {
    /// Every command under `command`, with the words that invoke it (`["context", "add"]`).
    static func commands(under command: any ParsableCommand.Type, path: [String] = []) -> [(
        path: [String], command: any ParsableCommand.Type
    )] {
        [(path, command)]
            + command.configuration.subcommands.flatMap { subcommand in
                commands(
                    under: subcommand, path: path + [subcommand.configuration.commandName ?? "\(subcommand)"])
            }
    }

    /// The lines of a discussion that are example commands.
    static func examples(_ command: any ParsableCommand.Type) -> [String] {
        command.configuration.discussion.split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("mrun ") || $0.hasPrefix("$ mrun ") }
    }

    @Test func everyHelpFitsEightyColumnsWithItsExamplesWhole() {
        let all = Self.commands(under: Mrun.self)
        #expect(all.count >= 22, "the walk found \(all.map { $0.path.joined(separator: " ") })")
        var exampleCount = 0
        for (path, command) in all {
            let name = (["mrun"] + path).joined(separator: " ")
            let lines = Mrun.helpMessage(for: command, columns: 80).split(separator: "\n").map(String.init)
            for line in lines {
                let columns = line.count
                #expect(columns <= 80, "\(name) --help: a line of \(columns) columns: \(line)")
            }
            let shown = Set(lines.map { $0.trimmingCharacters(in: .whitespaces) })
            for example in Self.examples(command) {
                exampleCount += 1
                let whole = shown.contains(example)
                #expect(whole, "\(name) --help splits the example '\(example)'")
            }
        }
        #expect(exampleCount >= 10, "found only \(exampleCount) examples: did the help lose them?")
    }

    /// The binary renders what the command types do, at the width COLUMNS gives.
    @Test func theBinaryHonoursColumns() async throws {
        let sandbox = try Sandbox()
        for path in [[], ["run"], ["context", "add"], ["config"]] {
            let result = try await CLI.run(path + ["--help"], sandbox: sandbox, environment: ["COLUMNS": "80"])
            #expect(result.status == 0, "\(result.standardError)")
            let command = Self.commands(under: Mrun.self).first { $0.path == path }?.command ?? Mrun.self
            #expect(
                result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
                    == Mrun.helpMessage(for: command, columns: 80).trimmingCharacters(in: .whitespacesAndNewlines),
                "mrun \(path.joined(separator: " ")) --help")
        }
    }

    @Test func listsWrapUnderTheirOwnText() {
        let text = String(repeating: "word ", count: 40).trimmingCharacters(in: .whitespaces)
        let list = HelpText.list([(term: "--key", text: text), (term: "--short", text: "One line.")])
        let lines = list.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.count <= HelpText.width })
        #expect(lines.first?.hasPrefix("  --key: word word") == true)
        #expect(lines.dropFirst().dropLast().allSatisfy { $0.hasPrefix("      word") })
        #expect(lines.last == "  --short: One line.")
        let words = lines.dropLast().flatMap { $0.split(separator: " ") }.dropFirst()
        #expect(words.count == 40 && words.allSatisfy { $0 == "word" }, "no word lost or split")
        let long = String(repeating: "x", count: 100)
        #expect(HelpText.wrap("  a \(long) b", indent: 4) == "  a\n    \(long)\n    b")
    }
}
