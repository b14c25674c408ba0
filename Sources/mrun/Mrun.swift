import ArgumentParser
import MrunKit

@main
struct Mrun: AsyncParsableCommand {
    mutating func run() async throws { print(MrunKitVersion.version) }
}
