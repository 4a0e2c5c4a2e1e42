import Foundation
import Logging
import NotionClient
import Synchronization
import Testing
import TransportKit

/// A relation property served 100 items per page, with offset cursors and chosen expiring cursors.
final class FakeRelation: Sendable {
    let targets: [String]
    private let expiring: Mutex<[String: Int]>

    init(count: Int, expiringCursors: [String: Int] = [:]) {
        targets = (0..<count).map { pageID($0, prefix: "bbbbbbbb") }
        expiring = Mutex(expiringCursors)
    }

    func respond(_ request: HTTPRequest) -> HTTPResponse {
        let sent = SentRequest(request: request, at: .zero)
        let cursor = sent.query("start_cursor")
        if let cursor {
            let expired = expiring.withLock { expiring -> Bool in
                guard let left = expiring[cursor], left > 0 else { return false }
                expiring[cursor] = left - 1
                return true
            }
            if expired {
                return errorResponse(status: 400, code: "validation_error", message: "The start_cursor provided is invalid: \(cursor)")
            }
        }
        let pageSize = Int(sent.query("page_size") ?? "") ?? 100
        let start = cursor.flatMap { Int($0) } ?? 0
        let slice = targets[min(start, targets.count)..<min(start + pageSize, targets.count)]
        let hasMore = start + pageSize < targets.count
        return jsonResponse([
            "object": "list",
            "results": .array(slice.map { ["object": "property_item", "id": "%3AxYz", "type": "relation", "relation": ["id": .string($0)]] }),
            "next_cursor": hasMore ? .string(String(start + pageSize)) : .null,
            "has_more": .bool(hasMore), "type": "property_item",
            "property_item": [
                "id": "%3AxYz", "type": "relation", "relation": [:],
                "next_url": hasMore ? .string("https://api.notion.com/v1/pages/x/properties/%3AxYz?start_cursor=\(start + pageSize)") : .null,
            ],
        ])
    }
}

@Suite("Relation walk")
struct RelationWalkTests {
    let page = "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7"

    @Test(arguments: [(0, 1), (1, 1), (25, 1), (100, 1), (101, 2), (1_003, 11)])
    func walksCompleteRelations(count: Int, expectedRequests: Int) async throws {
        let relation = FakeRelation(count: count)
        let transport = ScriptedTransport { request, _ in relation.respond(request) }
        let ids = try await makeClient(transport: transport).relationTargets(pageID: page, propertyID: "%3AxYz").collect()
        #expect(ids == relation.targets)
        #expect(transport.count == expectedRequests)
        #expect(transport.requests.allSatisfy { $0.query("page_size") == "100" })
        #expect(transport.requests.first?.query("start_cursor") == nil)
    }

    @Test func expiredCursorRestartsFromTheBeginningAndSkipsByPosition() async throws {
        let relation = FakeRelation(count: 350, expiringCursors: ["300": 1])
        let transport = ScriptedTransport { request, _ in relation.respond(request) }
        let (logger, logs) = CapturingLogHandler.logger()
        let ids = try await makeClient(transport: transport, logger: logger)
            .relationTargets(pageID: page, propertyID: "%3AxYz").collect()
        #expect(ids == relation.targets)
        #expect(transport.requests.map { $0.query("start_cursor") } == [nil, "100", "200", "300", nil, "100", "200", "300"])
        #expect(logs.all.contains { $0.level == .notice && $0.message.contains("cursor expired") })
    }

    @Test func cursorThatKeepsExpiringFails() async throws {
        let relation = FakeRelation(count: 350, expiringCursors: ["100": 5])
        let transport = ScriptedTransport { request, _ in relation.respond(request) }
        let error = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: transport).relationTargets(pageID: page, propertyID: "%3AxYz").collect()
        }
        #expect(error.code == "validation_error")
        #expect(transport.count == 4)
    }

    @Test func missingPageIsA404ForTheCaller() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("error_404.json", status: 404)])
        let error = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: transport).relationTargets(pageID: page, propertyID: "%3AxYz").collect()
        }
        #expect(error.status == 404)
        #expect(error.code == "object_not_found")
        #expect(transport.count == 1)
    }
}

@Suite("Relation walk over recorded pages")
struct RecordedRelationWalkTests {
    @Test func recordedCursorErrorRestartsTheWalk() async throws {
        let transport = ScriptedTransport(responses: [
            try Fixture.response("property_item_relation.json"),
            try Fixture.response("error_400_cursor.json", status: 400),
            try Fixture.response("property_item_relation.json"),
            try Fixture.response("property_item_relation_last.json"),
        ])
        let ids = try await makeClient(transport: transport)
            .relationTargets(pageID: "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7", propertyID: "proj").collect()
        #expect(
            ids == [
                "dd456007-6c66-4bba-957e-ea501dcda3a6", "dd456007-6c66-4bba-957e-000000000002",
                "dd456007-6c66-4bba-957e-000000000003",
            ])
        #expect(transport.requests.map { $0.query("start_cursor") } == [nil, "opaque-cursor", nil, "opaque-cursor"])
    }
}
