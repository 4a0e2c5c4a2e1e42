import Foundation
import NotionClient
import Testing
import TransportKit

/// `GET /v1/pages/{id}`: how relsync reads a page back after a write whose answer said it may
/// or may not have been saved (409, 503 with `retry_guidance`), and confirms a page that a
/// property-item call said is gone (404).
@Suite("Retrieve a page")
struct RetrievePageTests {
    @Test func sendsAGetWithEncodedFilterPropertiesAndCountsIt() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("page_2026_03_11.json")])
        let client = makeClient(transport: transport)
        let page = try await client.retrievePage("60BDC8BD388044B8A9CD8A145B3FFBD7", filterProperties: ["n|t@", "%3AxYz"])
        #expect(!page.id.isEmpty)
        let sent = try #require(transport.requests.first)
        #expect(sent.method == "GET" && sent.request.body == nil)
        #expect(sent.path == "/v1/pages/60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7")
        // A raw id is encoded; an id that arrived URL-encoded goes out as it is (never encoded twice).
        let values = sent.queryItems.filter { $0.0 == "filter_properties" }.map(\.1)
        #expect(values.map { $0.removingPercentEncoding } == ["n|t@", ":xYz"])
        #expect(values[1] == "%3AxYz")
        #expect(client.statistics().requestsByEndpoint["GET /v1/pages/{id}"] == 1)
    }

    @Test func isAReadRetriedAfterServerErrors() async throws {
        let transport = ScriptedTransport(responses: [
            errorResponse(status: 503, code: "service_unavailable"), try Fixture.response("page_2026_03_11.json"),
        ])
        _ = try await makeClient(transport: transport).retrievePage("60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7")
        #expect(transport.count == 2)
    }

    @Test func aMissingPageIsA404ForTheCaller() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("error_404.json", status: 404)])
        let error = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: transport).retrievePage("60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7")
        }
        #expect(error.status == 404)
        #expect(transport.count == 1)
    }
}
