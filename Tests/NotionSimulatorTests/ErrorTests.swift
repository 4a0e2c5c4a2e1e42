import Foundation
import NotionSimulator
import Testing
import TransportKit

@Suite("Error objects")
struct ErrorTests {
    let world = SizedWorkspace(sizes: [2])

    @Test("401 for a missing or wrong token")
    func unauthorized() async throws {
        let engine = world.engine()
        for auth in [nil, "wrong"] as [String?] {
            let response = await call(engine, "GET", "/v1/users/me", auth: auth)
            let json = try notionError(response, status: 401, code: "unauthorized")
            #expect(json["message"] == "API token is invalid.")
        }
    }

    @Test("400 missing_version without Notion-Version; unsupported versions are refused")
    func versions() async throws {
        let engine = world.engine()
        _ = try notionError(await call(engine, "GET", "/v1/users/me", version: nil), status: 400, code: "missing_version")
        _ = try notionError(await call(engine, "GET", "/v1/users/me", version: "2021-05-13"), status: 400, code: "validation_error")
        for version in ["2022-06-28", "2025-09-03", "2026-03-11"] {
            let me = try await ok(engine, "GET", "/v1/users/me", version: version)
            #expect(me["type"] == "bot")
            #expect(me["id"] == .string(dashed(world.spec.botUserID)))
        }
    }

    @Test("404 for unknown ids, with a hint when a database id meets the data-source endpoint")
    func notFound() async throws {
        let engine = world.engine()
        let unknown = dashed(UUID())
        for path in ["/v1/data_sources/\(unknown)", "/v1/databases/\(unknown)", "/v1/pages/\(unknown)",
                     "/v1/pages/\(unknown)/properties/title"] {
            _ = try notionError(await call(engine, "GET", path), status: 404, code: "object_not_found")
        }
        let crossed = try notionError(await call(engine, "GET", "/v1/data_sources/\(dashed(world.sources.databaseID))"),
                                      status: 404, code: "object_not_found")
        #expect(crossed["message"]?.stringValue?.contains("is a database ID") == true)
        let reverse = try notionError(await call(engine, "GET", "/v1/databases/\(dashed(world.sources.id))"),
                                      status: 404, code: "object_not_found")
        #expect(reverse["message"]?.stringValue?.contains("is a data source ID") == true)
        // The 32-hex form of an id works like the dashed one.
        let compact = dashed(world.sources.id).replacingOccurrences(of: "-", with: "")
        _ = try await ok(engine, "GET", "/v1/data_sources/\(compact)")
        _ = try notionError(await call(engine, "GET", "/v1/data_sources/not-a-uuid"), status: 400, code: "validation_error")
        _ = try notionError(await call(engine, "GET", "/v1/nowhere"), status: 400, code: "invalid_request_url")
        _ = try notionError(await call(engine, "DELETE", "/v1/users/me"), status: 400, code: "invalid_request_url")
    }

    @Test("unshared databases are invisible")
    func unshared() async throws {
        var spec = WorkspaceSpec(seed: 5)
        let hidden = spec.addDataSource("Hidden", shared: false)
        let visible = spec.addDataSource("Visible")
        let link = spec.addRelation("Hidden links", from: visible, to: hidden)
        let secret = spec.addPage("secret", to: hidden)
        let page = spec.addPage("open", to: visible)
        spec.setRelation(link.property, of: page, to: [secret])
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        _ = try notionError(await call(engine, "GET", "/v1/data_sources/\(dashed(hidden.id))"), status: 404, code: "object_not_found")
        _ = try notionError(await call(engine, "GET", "/v1/pages/\(dashed(secret))"), status: 404, code: "object_not_found")
        let shown = try await ok(engine, "GET", "/v1/pages/\(dashed(page))")
        #expect(shown["properties"]?["Hidden links"]?["relation"] == [])
        #expect(await engine.groundTruth().relation(visible.id, link.property.id, page) == [])
    }

    @Test("query validation: page_size, unknown keys, start_cursor null, filters")
    func queryValidation() async throws {
        let engine = world.engine()
        let path = "/v1/data_sources/\(dashed(world.sources.id))/query"
        let cases: [(JSONValue, String)] = [
            (["page_size": 101], "body.page_size should be ≤ `100`, instead was `101`."),
            (["page_size": 0], "body.page_size should be ≥ `1`, instead was `0`."),
            (["page_size": .number(2.5)], "body.page_size should be an integer"),
            (["limit": 10], "body.limit should be not present"),
            (["start_cursor": nil], "body.start_cursor should be a string or `undefined`, instead was `null`."),
            (["start_cursor": "bogus"], "The start_cursor provided is invalid"),
            (["filter": ["property": "Nope", "relation": ["is_empty": true]]], "Could not find property"),
            (["filter": ["property": "Links", "rich_text": ["equals": "x"]]], "does not match the type"),
            (["filter": ["timestamp": "created_time", "created_time": ["after": "yesterday-ish"]]], "ISO 8601"),
            (["filter": ["or": .array(Array(repeating: ["property": "Links", "relation": ["is_empty": true]], count: 101))]],
             "body.filter.or.length should be ≤ 100"),
            (["sorts": [["property": "Name", "direction": "up"]]], "direction"),
        ]
        for (body, message) in cases {
            let json = try notionError(await call(engine, "POST", path, body: body), status: 400, code: "validation_error")
            #expect(json["message"]?.stringValue?.contains(message) == true, "\(body.serializedString()): \(json["message"]?.stringValue ?? "")")
        }
        let broken = await engine.handle(SimRequest(method: "POST", target: path,
                                                    headers: ["Authorization": "Bearer \(token)", "Notion-Version": "2025-09-03"],
                                                    body: Data("{\"page_size\":".utf8)))
        _ = try notionError(broken, status: 400, code: "invalid_json")
        let archived = await call(engine, "POST", path, body: ["archived": false], version: "2026-03-11")
        _ = try notionError(archived, status: 400, code: "validation_error")
    }

    @Test("write validation: text length, array sizes, unknown properties, response-only fields")
    func writeValidation() async throws {
        let engine = world.engine()
        let path = "/v1/pages/\(dashed(world.pages[2]!))"
        let long = String(repeating: "x", count: 2_001)
        let fits = String(repeating: "x", count: 2_000)
        let hundredOne = JSONValue.array(Array(repeating: ["text": ["content": "a"]], count: 101))
        let cases: [(JSONValue, String)] = [
            (["properties": ["Notes": ["rich_text": [["text": ["content": .string(long)]]]]]],
             "body.properties.Notes.rich_text[0].text.content.length should be ≤ `2000`, instead was `2001`."),
            // Counted like JavaScript: an emoji is two UTF-16 units.
            (["properties": ["Notes": ["rich_text": [["text": ["content": .string(String(repeating: "🎉", count: 1_001))]]]]]],
             "instead was `2002`"),
            (["properties": ["Notes": ["rich_text": hundredOne]]], "rich_text.length should be ≤ `100`"),
            (["properties": ["Links": ["relation": .array(world.targetIDs.prefix(1).map { ["id": .string(dashed($0))] } + Array(repeating: ["id": .string(dashed(UUID()))], count: 100))]]],
             "relation.length should be ≤ `100`, instead was `101`"),
            (["properties": ["Nope": ["rich_text": []]]], "Nope is not a property that exists."),
            (["properties": ["Notes": ["title": []]]], "Notes is expected to be rich_text."),
            (["properties": ["Notes": ["rich_text": [["text": ["content": "a"], "plain_text": "a"]]]]], "response-only"),
            (["properties": ["Links": ["relation": [], "has_more": false]]], "response-only"),
            (["properties": ["Links": ["relation": [["id": .string(dashed(world.pages[2]!))]]]]], "is not a page of the related data source"),
            (["icon": nil], "body.icon should be not present"),
        ]
        for (body, message) in cases {
            let json = try notionError(await call(engine, "PATCH", path, body: body), status: 400, code: "validation_error")
            #expect(json["message"]?.stringValue?.contains(message) == true, "\(json["message"]?.stringValue ?? "")")
        }
        let page = try await ok(engine, "PATCH", path, body: ["properties": ["Notes": ["rich_text": [["text": ["content": .string(fits)]]]]]])
        #expect(page["properties"]?["Notes"]?["rich_text"]?[0]?["plain_text"]?.stringValue?.count == 2_000)
        let huge = JSONValue.object(["properties": ["Notes": ["rich_text": [["text": ["content": .string(String(repeating: "y", count: 600_000))]]]]]])
        _ = try notionError(await call(engine, "PATCH", path, body: huge), status: 400, code: "validation_error")
    }
}
