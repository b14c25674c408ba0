import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// What a notification says: a Slack-compatible `text` and the same as fields, for programs.
public struct LaunchNotification: Codable, Sendable, Equatable {
    public var text: String
    public var event: String
    public var launch: String?
    public var name: String
    public var sweep: String?
    public var context: String
    public var state: String
    public var exitCode: Int32?
    public var durationSeconds: Double?
    /// The last lines of the output (20), for a launch.
    public var logTail: [String]?
    /// A sweep's points by state, when it notifies once for all of them.
    public var counts: [String: Int]?
    /// The command that shows everything about it.
    public var show: String

    enum CodingKeys: String, CodingKey {
        case text, event, launch, name, sweep, context, state, counts, show
        case exitCode = "exit_code"
        case durationSeconds = "duration_seconds"
        case logTail = "log_tail"
    }

    public init(
        event: NotifyTarget.Event, launch: LaunchRecord, durationSeconds: Double?, logTail: [String]
    ) {
        self.event = event.rawValue
        self.launch = launch.id
        name = launch.experimentName
        sweep = launch.sweepId
        context = launch.contextName
        state = launch.state.rawValue
        exitCode = launch.state.isFinal ? launch.exitCode : nil
        self.durationSeconds = durationSeconds
        self.logTail = logTail
        show = "mrun show \(launch.id)"
        let code = exitCode.map { ", exit code \($0)" } ?? ""
        text = "mrun: \(name) (launch \(launch.id), context \(context)) \(state.uppercased())\(code)"
    }

    /// One notification for a whole sweep: its points counted by state.
    public init(sweep: String, name: String, context: String, launches: [LaunchRecord]) {
        event = NotifyTarget.Event.end.rawValue
        self.sweep = sweep
        self.name = name
        self.context = context
        let byState = Dictionary(grouping: launches, by: \.state.rawValue).mapValues(\.count)
        counts = byState
        state = launches.allSatisfy { $0.state == .completed } ? JobState.completed.rawValue : JobState.failed.rawValue
        show = "mrun list --sweep \(sweep)"
        let summary = byState.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        text = "mrun: sweep \(name) (\(sweep), context \(context)) ended: \(summary)"
    }
}

/// Sends notifications: a webhook gets a JSON POST (10 s each try, retried three times with
/// backoff after a refusal, a timeout or a 4xx/5xx answer), a command gets the JSON on its
/// standard input. A target that cannot be told is a warning, never the launch's failure.
public struct Notifier: Sendable {
    public var runner: any InputProcessRunning
    public var timeout: Duration = .seconds(10)
    /// The pauses before the retries.
    public var backoff: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2)]

    public init(runner: any InputProcessRunning) {
        self.runner = runner
    }

    /// Tells every target; returns a warning per target that could not be told (its URL redacted).
    public func send(_ notification: LaunchNotification, to targets: [NotifyTarget]) async -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(notification) else { return ["cannot encode the notification"] }
        var warnings: [String] = []
        for target in targets {
            switch target {
            case .webhook(let url):
                if let failure = await post(body, to: url) {
                    warnings.append(
                        "could not notify \(NotifyTargets.redacted(url.absoluteString)) after \(backoff.count + 1) tries: \(failure)"
                    )
                }
            case .command(let argv):
                do {
                    let result = try await runner.run(argv, input: Array(body), environment: nil, workingDirectory: nil)
                    if result.status != .exited(0) {
                        warnings.append("notify command \(argv.joined(separator: " ")) failed: \(result.status)")
                    }
                } catch {
                    warnings.append("notify command \(argv.joined(separator: " ")): \(error)")
                }
            }
        }
        return warnings
    }

    /// POSTs `body`; nil once the receiver took it (2xx), else why the last try failed.
    func post(_ body: Data, to url: URL) async -> String? {
        var failure = "not tried"
        for attempt in 0...backoff.count {
            if attempt > 0 { try? await Task.sleep(for: backoff[attempt - 1]) }
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "mrun")
            request.body = .bytes(ByteBuffer(data: body))
            do {
                let seconds = timeout.components.seconds
                let response = try await Self.http.execute(request, timeout: .seconds(seconds))
                _ = try? await response.body.collect(upTo: 1 << 16)
                if (200..<300).contains(Int(response.status.code)) { return nil }
                failure = "HTTP \(response.status.code)"
            } catch {
                failure = "\(type(of: error))"
            }
        }
        return failure
    }

    /// One client for the process; a URL's query may hold its credential, so no redirect is
    /// followed (it would carry the body elsewhere).
    private static let http: HTTPClient = {
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = .disallow
        config.connectionPool.retryConnectionEstablishment = false
        config.timeout = .init(connect: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }()
}
