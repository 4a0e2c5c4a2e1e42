import Foundation
import Logging
import NotionClient
import Synchronization
import Testing
import TransportKit

/// A clock whose `sleep` advances virtual time at once and records the wait.
final class VirtualClock: NotionClock {
    private struct State {
        var now: Duration = .zero
        var sleeps: [Duration] = []
    }
    private let state = Mutex(State())
    let wallOrigin: Date

    init(wallOrigin: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        self.wallOrigin = wallOrigin
    }

    func now() -> Duration { state.withLock { $0.now } }

    func sleep(until deadline: Duration) async throws {
        try Task.checkCancellation()
        state.withLock { state in
            if deadline > state.now {
                state.sleeps.append(deadline - state.now)
                state.now = deadline
            }
        }
        await Task.yield()
    }

    func wallTime() -> Date {
        wallOrigin.addingTimeInterval(now().seconds)
    }

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
    var totalSlept: Duration { sleeps.reduce(.zero, +) }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

/// One request as the fake transport saw it, with the virtual time it was sent at.
struct SentRequest: Sendable {
    var request: HTTPRequest
    var at: Duration

    var method: String { request.method }
    var url: String { request.url }
    /// The path and query after the host.
    var target: String {
        guard let range = url.range(of: "://") else { return url }
        let rest = url[range.upperBound...]
        return rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
    }
    var path: String { String(target.prefix { $0 != "?" }) }
    var queryItems: [(String, String)] {
        guard let q = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: q)...].split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }
    func query(_ name: String) -> String? { queryItems.first { $0.0 == name }?.1 }
    var body: JSONValue? {
        request.body.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
    }
}

/// A transport that answers from a script (a closure over the request and its 0-based index) and
/// records every request.
final class ScriptedTransport: HTTPTransport {
    typealias Handler = @Sendable (HTTPRequest, Int) async throws -> HTTPResponse
    private let handler: Handler
    private let clock: VirtualClock?
    private let log = Mutex<[SentRequest]>([])

    init(clock: VirtualClock? = nil, handler: @escaping Handler) {
        self.clock = clock
        self.handler = handler
    }

    /// Answers with `responses` in order; past the end, with the last one.
    convenience init(clock: VirtualClock? = nil, responses: [HTTPResponse]) {
        self.init(clock: clock) { _, index in responses[min(index, responses.count - 1)] }
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let index = log.withLock { log in
            log.append(SentRequest(request: request, at: clock?.now() ?? .zero))
            return log.count - 1
        }
        return try await handler(request, index)
    }

    var requests: [SentRequest] { log.withLock { $0 } }
    var count: Int { log.withLock { $0.count } }
}

enum Fixture {
    static func data(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
        return try Data(contentsOf: url)
    }

    static func response(_ name: String, status: Int = 200, headers: HTTPHeaders = [:]) throws -> HTTPResponse {
        var headers = headers
        if headers["Content-Type"] == nil {
            headers.add("Content-Type", name.hasSuffix(".html") ? "text/html" : "application/json")
        }
        return HTTPResponse(status: status, headers: headers, body: try data(name))
    }
}

func jsonResponse(_ value: JSONValue, status: Int = 200, headers: HTTPHeaders = [:]) -> HTTPResponse {
    var headers = headers
    headers.add("Content-Type", "application/json")
    return HTTPResponse(status: status, headers: headers, body: value.serialized())
}

func errorResponse(
    status: Int, code: String, message: String = "Something happened.", additionalData: JSONValue? = nil,
    headers: HTTPHeaders = [:]
) -> HTTPResponse {
    var body: [String: JSONValue] = [
        "object": "error", "status": .number(Double(status)), "code": .string(code), "message": .string(message),
    ]
    if let additionalData { body["additional_data"] = additionalData }
    return jsonResponse(.object(body), status: status, headers: headers)
}

/// A lowercase dashed page id built from a number, for generated data.
func pageID(_ n: Int, prefix: String = "aaaaaaaa") -> String {
    let hex = String(n, radix: 16)
    return "\(prefix)-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
}

/// A full page object as a query returns it.
func pageJSON(id: String, created: String, title: String = "Row") -> JSONValue {
    [
        "object": "page", "id": .string(id), "created_time": .string(created), "last_edited_time": .string(created),
        "in_trash": false, "url": .string("https://www.notion.so/\(id.replacingOccurrences(of: "-", with: ""))"),
        "parent": ["type": "data_source_id", "data_source_id": "6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b"],
        "properties": ["Name": ["id": "title", "type": "title", "title": [["type": "text", "plain_text": .string(title)]]]],
    ]
}

/// A log handler that keeps every message and its metadata, for assertions.
struct CapturingLogHandler: LogHandler {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
        /// Message and metadata as one searchable line.
        var rendered: String {
            "\(level) \(message) " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }
    final class Store: Sendable {
        private let entries = Mutex<[Entry]>([])
        func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }
        var all: [Entry] { entries.withLock { $0 } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        store.append(Entry(level: event.level, message: "\(event.message)", metadata: merged))
    }

    static func logger() -> (Logger, Store) {
        let store = Store()
        let logger = Logger(label: "relsync.test") { _ in CapturingLogHandler(store: store) }
        return (logger, store)
    }
}

let testToken = "ntn_SECRET_test_token_0123456789abcdef"

func makeClient(
    transport: any HTTPTransport, clock: VirtualClock = VirtualClock(), rateLimit: RateLimit = .unlimited,
    maxAttempts: Int = 10, maxConcurrent: Int = 3, logger: Logger? = nil
) -> NotionClient {
    var configuration = NotionConfiguration(token: testToken, baseURL: "https://api.notion.test/")
    configuration.rateLimit = rateLimit
    configuration.maxConcurrentRequests = maxConcurrent
    configuration.retry.maxAttempts = maxAttempts
    return NotionClient(
        configuration: configuration, transport: transport, logger: logger ?? Logger(label: "relsync.test") { _ in SwiftLogNoOpLogHandler() },
        clock: clock)
}

extension AsyncSequence {
    func collect() async throws -> [Element] {
        var out: [Element] = []
        for try await element in self { out.append(element) }
        return out
    }
}
