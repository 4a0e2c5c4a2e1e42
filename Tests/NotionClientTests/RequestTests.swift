import Foundation
import NotionClient
import Testing
import TransportKit

@Suite("Request building")
struct RequestTests {
    private func relationPage(_ ids: [String], next: String?) -> HTTPResponse {
        jsonResponse([
            "object": "list",
            "results": .array(ids.map { ["object": "property_item", "id": "x", "type": "relation", "relation": ["id": .string($0)]] }),
            "next_cursor": next.map(JSONValue.string) ?? .null, "has_more": .bool(next != nil),
            "type": "property_item", "property_item": ["id": "x", "type": "relation", "relation": [:]],
        ])
    }

    @Test func propertyItemURLKeepsEncodedIDsAndAddsCursorOnlyAfterTheFirstPage() async throws {
        let transport = ScriptedTransport(responses: [
            relationPage([pageID(1)], next: "abc+/="), relationPage([pageID(2)], next: nil),
        ])
        let ids = try await makeClient(transport: transport)
            .relationTargets(pageID: "60BDC8BD388044B8A9CD8A145B3FFBD7", propertyID: "%3AxYz").collect()
        #expect(ids == [pageID(1), pageID(2)])
        let sent = transport.requests
        #expect(sent.count == 2)
        #expect(sent[0].url == "https://api.notion.test/v1/pages/60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7/properties/%3AxYz?page_size=100")
        #expect(sent[0].query("start_cursor") == nil)
        #expect(
            sent[1].url
                == "https://api.notion.test/v1/pages/60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7/properties/%3AxYz?page_size=100&start_cursor=abc%2B/%3D"
        )
        #expect(sent.allSatisfy { $0.method == "GET" && $0.request.body == nil })
    }

    @Test(arguments: [
        ("%3AxYz", "%3AxYz"),
        ("f%5C%5C%3Ap", "f%5C%5C%3Ap"),
        ("b%7D%3Ek", "b%7D%3Ek"),
        ("title", "title"),
        (":xYz", ":xYz"),
        ("a b/c%3A", "a%20b%2Fc%3A"),
        ("100%", "100%25"),
        ("q?#", "q%3F%23"),
        ("é", "%C3%A9"),
    ])
    func propertyIDsAreEncodedAtMostOnce(propertyID: String, expectedSegment: String) async throws {
        let transport = ScriptedTransport(responses: [relationPage([], next: nil)])
        _ = try await makeClient(transport: transport)
            .relationTargets(pageID: "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7", propertyID: propertyID).collect()
        #expect(transport.requests.first?.path == "/v1/pages/60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7/properties/\(expectedSegment)")
    }

    @Test func headersCarryTokenAndVersionAndContentTypeOnlyWithABody() async throws {
        let transport = ScriptedTransport { request, _ in
            if request.method == "PATCH" { return try Fixture.response("page_2026_03_11.json") }
            return try Fixture.response("users_me.json")
        }
        let client = makeClient(transport: transport)
        _ = try await client.me()
        _ = try await client.updatePage("60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7", properties: [:])
        let (get, patch) = (transport.requests[0].request, transport.requests[1].request)
        #expect(get.headers["Authorization"] == "Bearer \(testToken)")
        #expect(get.headers["Notion-Version"] == "2025-09-03")
        #expect(get.headers["Content-Type"] == nil)
        #expect(get.timeout == .seconds(75))
        #expect(patch.method == "PATCH")
        #expect(patch.headers["Content-Type"] == "application/json")
        #expect(patch.headers["Notion-Version"] == "2025-09-03")
    }

    @Test func patchBodyIsThePropertiesObjectWithSortedKeys() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("page_2026_03_11.json")])
        _ = try await makeClient(transport: transport).updatePage(
            "60bdc8bd388044b8a9cd8a145b3ffbd7",
            properties: [
                "text": ["rich_text": [["type": "text", "text": ["content": "A, B"]]]],
                "%3AxYz": ["relation": [["id": "dd456007-6c66-4bba-957e-ea501dcda3a6"]]],
            ])
        let sent = try #require(transport.requests.first)
        #expect(sent.url == "https://api.notion.test/v1/pages/60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7")
        #expect(
            String(decoding: try #require(sent.request.body), as: UTF8.self)
                == #"{"properties":{"%3AxYz":{"relation":[{"id":"dd456007-6c66-4bba-957e-ea501dcda3a6"}]},"text":{"rich_text":[{"text":{"content":"A, B"},"type":"text"}]}}}"#
        )
    }

    @Test func queryBodyAndFilterProperties() async throws {
        let page1 = jsonResponse([
            "object": "list", "results": [pageJSON(id: pageID(1), created: "2026-01-01T00:00:00.000Z")],
            "next_cursor": "c2", "has_more": true,
        ])
        let page2 = jsonResponse([
            "object": "list", "results": [pageJSON(id: pageID(2), created: "2026-01-01T00:01:00.000Z")],
            "next_cursor": nil, "has_more": false,
        ])
        let transport = ScriptedTransport(responses: [page1, page2])
        let filter: JSONValue = ["property": "Status", "status": ["equals": "Done"]]
        let pages = try await makeClient(transport: transport)
            .queryDataSource(
                "6c4240a9a3ce413e9fd08a51a4d0a49b", filter: filter, filterProperties: ["title", "%3AxYz", "Due date"]
            ).collect()
        #expect(pages.map(\.id) == [pageID(1), pageID(2)])
        let sent = transport.requests
        #expect(sent.count == 2)
        #expect(sent[0].method == "POST")
        #expect(sent[0].path == "/v1/data_sources/6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b/query")
        #expect(sent[0].target.hasSuffix("?filter_properties=title&filter_properties=%3AxYz&filter_properties=Due%20date"))
        #expect(sent[0].request.headers["Content-Type"] == "application/json")
        let sorts: JSONValue = [["direction": "ascending", "timestamp": "created_time"]]
        #expect(sent[0].body == ["filter": filter, "sorts": sorts, "page_size": 100])
        #expect(sent[1].body == ["filter": filter, "sorts": sorts, "page_size": 100, "start_cursor": "c2"])
        for request in sent {
            #expect(!String(decoding: request.request.body ?? Data(), as: UTF8.self).contains("null"))
        }
    }

    @Test func invalidIDsFailBeforeAnyRequest() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("users_me.json")])
        let client = makeClient(transport: transport)
        for call in [
            { _ = try await client.retrieveDatabase("not-an-id") },
            { _ = try await client.retrieveDataSource("https://notion.so/x") },
            { _ = try await client.updatePage("1234", properties: [:]) },
            { _ = try await client.queryDataSource("nope").collect() },
            { _ = try await client.relationTargets(pageID: "nope", propertyID: "title").collect() },
        ] as [@Sendable () async throws -> Void] {
            let error = try await #require(throws: NotionError.self) { try await call() }
            guard case .invalidID = error.kind else {
                Issue.record("expected invalidID, got \(error)")
                continue
            }
            #expect(error.isRetryable == false)
        }
        #expect(transport.count == 0)
    }

    @Test func statisticsCountRequestsByEndpointTemplate() async throws {
        let transport = ScriptedTransport { request, index in
            switch (request.method, index) {
            case ("GET", 0): return errorResponse(status: 502, code: "bad_gateway")
            case ("GET", _) where request.url.contains("/properties/"): return relationPage([], next: nil)
            case ("GET", _) where request.url.contains("/databases/"): return try Fixture.response("database.json")
            case ("GET", _) where request.url.contains("/data_sources/"): return try Fixture.response("data_source.json")
            case ("GET", _): return try Fixture.response("users_me.json")
            case ("POST", _): return try Fixture.response("query_legacy_type.json")
            default: return try Fixture.response("page_2026_03_11.json")
            }
        }
        let client = makeClient(transport: transport)
        _ = try await client.me()
        _ = try await client.retrieveDatabase("248104cd477e80fdb757e945d38000bd")
        _ = try await client.retrieveDataSource("6c4240a9a3ce413e9fd08a51a4d0a49b")
        _ = try await client.queryDataSource("6c4240a9a3ce413e9fd08a51a4d0a49b").collect()
        _ = try await client.relationTargets(pageID: pageID(1), propertyID: "%3AxYz").collect()
        _ = try await client.updatePage(pageID(1), properties: [:])
        let stats = client.statistics()
        #expect(
            stats.requestsByEndpoint == [
                "GET /v1/users/me": 2, "GET /v1/databases/{id}": 1, "GET /v1/data_sources/{id}": 1,
                "POST /v1/data_sources/{id}/query": 1, "GET /v1/pages/{id}/properties/{property_id}": 1,
                "PATCH /v1/pages/{id}": 1,
            ])
        #expect(stats.totalRequests == 7)
        #expect(stats.retries == 1)
        #expect(stats.serverErrors == 1)
        #expect(stats.rateLimited == 0)
        #expect(stats.transportErrors == 0)
    }
}
