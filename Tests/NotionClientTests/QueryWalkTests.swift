import Foundation
import Logging
import NotionClient
import Synchronization
import Testing
import TransportKit

/// A data source as Notion serves it: sorted by created_time, `pageSize` rows per page, at most
/// `cap` rows per query, `request_status: incomplete` on every page of a capped query, cursors
/// that are offsets, and chosen cursors that expire (once each, or always).
final class FakeDataSource: Sendable {
    struct Row: Sendable {
        var id: String
        var created: String
    }
    let rows: [Row]
    let cap: Int
    let pageSize: Int
    let markEveryPage: Bool
    private let expiring: Mutex<[String: Int]>

    init(rows: [Row], cap: Int = 10_000, pageSize: Int = 100, markEveryPage: Bool = true, expiringCursors: [String: Int] = [:]) {
        self.rows = rows.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
        self.cap = cap
        self.pageSize = pageSize
        self.markEveryPage = markEveryPage
        self.expiring = Mutex(expiringCursors)
    }

    func respond(_ request: HTTPRequest) -> HTTPResponse {
        let body = request.body.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) } ?? [:]
        var lower: String?
        var conditions: [JSONValue] = []
        if let filter = body["filter"] {
            if case .array(let parts)? = filter["and"] { conditions = parts } else { conditions = [filter] }
        }
        for condition in conditions where condition["timestamp"] == "created_time" {
            lower = condition["created_time"]?["on_or_after"]?.stringValue
        }
        let matching = rows.filter { lower == nil || $0.created >= lower! }
        let capped = Array(matching.prefix(cap))
        let cursor = body["start_cursor"]?.stringValue
        if let cursor {
            let remaining = expiring.withLock { expiring -> Int in
                guard let left = expiring[cursor], left > 0 else { return 0 }
                expiring[cursor] = left - 1
                return left
            }
            if remaining > 0 {
                return errorResponse(status: 400, code: "validation_error", message: "The start_cursor provided is invalid: \(cursor)")
            }
        }
        let start = cursor.flatMap { Int($0) } ?? 0
        let slice = capped[min(start, capped.count)..<min(start + pageSize, capped.count)]
        let hasMore = start + pageSize < capped.count
        var response: [String: JSONValue] = [
            "object": "list", "type": "page_or_data_source", "page_or_data_source": [:],
            "results": .array(slice.map { pageJSON(id: $0.id, created: $0.created) }),
            "has_more": .bool(hasMore), "next_cursor": hasMore ? .string(String(start + pageSize)) : .null,
        ]
        let isCapped = matching.count > cap
        if isCapped && (markEveryPage || !hasMore) {
            response["request_status"] = ["type": "incomplete", "incomplete_reason": "query_result_limit_reached"]
        } else {
            response["request_status"] = ["type": "complete"]
        }
        return jsonResponse(.object(response))
    }

    /// Rows spread over minutes: `perMinute` rows share each created_time minute.
    static func rows(count: Int, perMinute: Int) -> [Row] {
        (0..<count).map { i in
            let minute = i / perMinute
            let created = String(format: "2026-01-01T%02d:%02d:00.000Z", minute / 60, minute % 60)
            return Row(id: pageID(i + 1), created: created)
        }
    }
}

@Suite("Query walk")
struct QueryWalkTests {
    let dataSourceID = "6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b"

    @Test func walksEveryPageLazily() async throws {
        let server = FakeDataSource(rows: FakeDataSource.rows(count: 250, perMinute: 7))
        let transport = ScriptedTransport { request, _ in server.respond(request) }
        let client = makeClient(transport: transport)

        var iterator = client.queryDataSource(dataSourceID).makeAsyncIterator()
        #expect(transport.count == 0)  // nothing is fetched before the first next()
        var ids: [String] = []
        if let first = try await iterator.next() { ids.append(first.id) }
        #expect(transport.count == 1)
        while let page = try await iterator.next() { ids.append(page.id) }

        #expect(ids == server.rows.map(\.id))
        #expect(transport.count == 3)
        #expect(transport.requests.map { $0.body?["start_cursor"] } == [nil, "100", "200"])
    }

    @Test(arguments: [true, false])
    func continuesPastTheResultCapWithCreatedTimeWindows(markEveryPage: Bool) async throws {
        // 47 rows, 3 per minute; the "cap" is 10 rows per query, 4 rows per page.
        let server = FakeDataSource(rows: FakeDataSource.rows(count: 47, perMinute: 3), cap: 10, pageSize: 4, markEveryPage: markEveryPage)
        let transport = ScriptedTransport { request, _ in server.respond(request) }
        let (logger, logs) = CapturingLogHandler.logger()
        let filter: JSONValue = ["property": "Status", "status": ["equals": "Done"]]
        let pages = try await makeClient(transport: transport, logger: logger)
            .queryDataSource(dataSourceID, filter: filter).collect()

        #expect(pages.map(\.id) == server.rows.map(\.id))  // complete, in order, no duplicates
        let bodies = transport.requests.compactMap(\.body)
        #expect(bodies.first?["filter"] == filter)
        let windows = bodies.compactMap { body -> String? in
            guard case .array(let parts)? = body["filter"]?["and"] else { return nil }
            #expect(parts.first == filter)
            #expect(parts.count == 2)
            return parts.last?["created_time"]?["on_or_after"]?.stringValue
        }
        #expect(!windows.isEmpty)
        #expect(windows.first == "2026-01-01T00:03:00.000Z")  // the 10th row's minute
        #expect(windows == windows.sorted())
        #expect(logs.all.contains { $0.message.contains("result cap") })
    }

    @Test func windowWithoutCallerFilterUsesOnlyTheTimestampFilter() async throws {
        let server = FakeDataSource(rows: FakeDataSource.rows(count: 15, perMinute: 2), cap: 10, pageSize: 100)
        let transport = ScriptedTransport { request, _ in server.respond(request) }
        let pages = try await makeClient(transport: transport).queryDataSource(dataSourceID).collect()
        #expect(pages.map(\.id) == server.rows.map(\.id))
        #expect(transport.requests.count == 2)
        #expect(transport.requests[0].body?["filter"] == nil)
        #expect(
            transport.requests[1].body?["filter"]
                == ["timestamp": "created_time", "created_time": ["on_or_after": "2026-01-01T00:04:00.000Z"]])
    }

    @Test func oneMinuteHoldingMoreThanTheCapThrows() async throws {
        // 3 rows in minute 0, then 12 rows in minute 1: the window from minute 1 cannot progress.
        let rows = FakeDataSource.rows(count: 3, perMinute: 3)
            + (0..<12).map { FakeDataSource.Row(id: pageID(100 + $0), created: "2026-01-01T00:01:00.000Z") }
        let server = FakeDataSource(rows: rows, cap: 10, pageSize: 5)
        let transport = ScriptedTransport { request, _ in server.respond(request) }
        var yielded: [String] = []
        let error = try await #require(throws: NotionError.self) {
            for try await page in makeClient(transport: transport).queryDataSource(dataSourceID) { yielded.append(page.id) }
        }
        guard case .queryCapExceeded(let id, let created) = error.kind else {
            Issue.record("expected queryCapExceeded, got \(error)")
            return
        }
        #expect(id == dataSourceID)
        #expect(created == Date(timeIntervalSince1970: 1_767_225_660))  // 2026-01-01T00:01:00Z
        #expect(Set(yielded).count == yielded.count)
        #expect(yielded.count == 10)
        #expect(error.isRetryable == false)
    }

    @Test func expiredCursorRestartsTheWindowAndSkipsYieldedRows() async throws {
        let server = FakeDataSource(rows: FakeDataSource.rows(count: 250, perMinute: 5), expiringCursors: ["200": 1])
        let transport = ScriptedTransport { request, _ in server.respond(request) }
        let (logger, logs) = CapturingLogHandler.logger()
        let pages = try await makeClient(transport: transport, logger: logger).queryDataSource(dataSourceID).collect()
        #expect(pages.map(\.id) == server.rows.map(\.id))
        #expect(transport.requests.map { $0.body?["start_cursor"] } == [nil, "100", "200", nil, "100", "200"])
        #expect(logs.all.contains { $0.message.contains("cursor expired") })
    }

    @Test func expiredCursorInsideACappedWindowRestartsThatWindow() async throws {
        let server = FakeDataSource(
            rows: FakeDataSource.rows(count: 30, perMinute: 2), cap: 10, pageSize: 4, expiringCursors: ["8": 1])
        let transport = ScriptedTransport { request, _ in server.respond(request) }
        let pages = try await makeClient(transport: transport).queryDataSource(dataSourceID).collect()
        #expect(pages.map(\.id) == server.rows.map(\.id))
    }

    @Test func cursorThatKeepsExpiringWithoutProgressFails() async throws {
        let server = FakeDataSource(rows: FakeDataSource.rows(count: 250, perMinute: 5), expiringCursors: ["100": 99])
        let transport = ScriptedTransport { request, _ in server.respond(request) }
        let error = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: transport).queryDataSource(dataSourceID).collect()
        }
        #expect(error.status == 400)
        #expect(error.code == "validation_error")
        #expect(transport.count == 4)  // 0, 100 (expired), restart 0, 100 (expired again): give up
    }
}

@Suite("Query walk over recorded pages")
struct RecordedQueryWalkTests {
    @Test func cappedPageStartsACreatedTimeWindowFromTheLastRow() async throws {
        let transport = ScriptedTransport(responses: [
            try Fixture.response("query_capped.json"), try Fixture.response("query_legacy_type.json"),
        ])
        let pages = try await makeClient(transport: transport).queryDataSource("6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b").collect()
        #expect(
            pages.map(\.id) == [
                "33333333-4444-4555-8666-000000000001", "33333333-4444-4555-8666-777777777777",
                "44444444-5555-4666-8777-888888888888",
            ])
        #expect(transport.count == 2)
        #expect(
            transport.requests[1].body?["filter"]
                == ["timestamp": "created_time", "created_time": ["on_or_after": "2026-09-02T10:00:00.000Z"]])
        #expect(transport.requests[1].body?["start_cursor"] == nil)
    }
}
