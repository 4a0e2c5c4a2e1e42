import Foundation
import NotionSimulator
import Testing

@Suite("Query a data source")
struct QueryTests {
    /// One data source of `count` plain pages.
    static func bigSource(_ count: Int, seed: UInt64 = 3) -> (WorkspaceSpec, DataSourceHandle, [UUID]) {
        var spec = WorkspaceSpec(seed: seed)
        let rows = spec.addDataSource("Rows")
        let ids = spec.addPages(count, to: rows) { "Row \($0)" }
        return (spec, rows, ids)
    }

    @Test("timestamps are rounded down to the minute; list shape and default order")
    func shapeAndRounding() async throws {
        let (spec, rows, ids) = Self.bigSource(5)
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        let json = try await ok(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query", body: [:])
        #expect(json["object"] == "list")
        #expect(json["type"] == "page_or_data_source")
        #expect(json["page_or_data_source"] == .object([:]))
        #expect(json["request_status"] == .object(["type": "complete"]))
        #expect(json["has_more"] == false)
        #expect(json["next_cursor"] == .null)
        #expect(json["results"]?.ids == ids, "default order is creation order")
        let page = try #require(json["results"]?[0]?.objectValue)
        #expect(page.keys == ["object", "id", "created_time", "last_edited_time", "created_by", "last_edited_by", "cover",
                              "icon", "parent", "archived", "in_trash", "is_archived", "is_locked", "properties", "url", "public_url"])
        for key in ["created_time", "last_edited_time"] {
            let text = try #require(page[key]?.stringValue)
            #expect(text.hasSuffix(":00.000Z"), "\(key) = \(text)")
        }
        #expect(page["parent"] == .object(["type": "data_source_id", "data_source_id": .string(dashed(rows.id)),
                                          "database_id": .string(dashed(rows.databaseID))]))
        #expect(page["url"]?.stringValue?.hasPrefix("https://www.notion.so/Row-0-") == true)
        // The exact created time is not a whole minute; the API shows the minute.
        let exact = try #require(spec.createdTime(of: ids[1]))
        #expect(exact.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) != 0)
        let rounded = Date(timeIntervalSince1970: (exact.timeIntervalSince1970 / 60).rounded(.down) * 60)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(json["results"]?[1]?["created_time"]?.stringValue == formatter.string(from: rounded))
    }

    @Test("2026-03-11 drops `archived`; 2022-06-28 uses the old list type and parent")
    func versionedShapes() async throws {
        let (spec, rows, _) = Self.bigSource(1)
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        let newest = try await ok(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query", body: [:], version: "2026-03-11")
        #expect(newest["results"]?[0]?["archived"] == nil)
        #expect(newest["results"]?[0]?["in_trash"] == false)
        let oldest = try await ok(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query", body: [:], version: "2022-06-28")
        #expect(oldest["type"] == "page_or_database")
        #expect(oldest["results"]?[0]?["parent"] == .object(["type": "database_id", "database_id": .string(dashed(rows.databaseID))]))
        #expect(oldest["results"]?[0]?["archived"] == false)
        let old = try await ok(engine, "POST", "/v1/databases/\(dashed(rows.databaseID))/query", body: [:], version: "2022-06-28")
        #expect(old["results"]?.arrayValue?.count == 1)
        let gone = await call(engine, "POST", "/v1/databases/\(dashed(rows.databaseID))/query", body: [:])
        _ = try notionError(gone, status: 400, code: "invalid_request_url")
    }

    @Test("the 10,000-row cap ends a walk as incomplete; a created_time window continues it")
    func resultCap() async throws {
        let (spec, rows, ids) = Self.bigSource(10_050)
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        let sorts: JSONValue = [["timestamp": "created_time", "direction": "ascending"]]
        let first = try await walkQuery(engine, dataSource: rows.id, body: ["sorts": sorts])
        #expect(first.ids == Array(ids.prefix(10_000)))
        #expect(first.calls == 100)
        #expect(first.last["has_more"] == false)
        #expect(first.last["next_cursor"] == .null)
        #expect(first.last["request_status"] == .object(["type": "incomplete", "incomplete_reason": "query_result_limit_reached"]))

        let lastSeen = try #require(first.last["results"]?.arrayValue?.last?["created_time"]?.stringValue)
        let window: JSONValue = ["timestamp": "created_time", "created_time": ["on_or_after": .string(lastSeen)]]
        let second = try await walkQuery(engine, dataSource: rows.id, body: ["sorts": sorts, "filter": window])
        #expect(second.last["request_status"] == .object(["type": "complete"]))
        var seen = Set(first.ids)
        let fresh = second.ids.filter { seen.insert($0).inserted }
        #expect(fresh == Array(ids.suffix(50)))
        #expect(second.ids.count - fresh.count <= 5, "only the rows of the boundary minute repeat")
    }

    @Test("the cap is a configuration value; an exact fit stays complete")
    func configurableCap() async throws {
        let (spec, rows, ids) = Self.bigSource(30)
        var configuration = SimulatorConfiguration()
        configuration.queryResultCap = 20
        let engine = SimulatorEngine(workspace: spec, configuration: configuration, clock: ManualClock(testNow))
        let capped = try await walkQuery(engine, dataSource: rows.id, body: ["page_size": 7])
        #expect(capped.ids == Array(ids.prefix(20)))
        #expect(capped.last["results"]?.arrayValue?.count == 6)
        #expect(capped.last["request_status"]?["type"] == "incomplete")
        let filter: JSONValue = ["timestamp": "created_time", "created_time": ["on_or_after": "2020-01-01"]]
        configuration.queryResultCap = 30
        await engine.setConfiguration(configuration)
        let exact = try await walkQuery(engine, dataSource: rows.id, body: ["page_size": 10, "filter": filter])
        #expect(exact.ids == ids)
        #expect(exact.last["request_status"] == .object(["type": "complete"]))
    }

    @Test("timestamp filters compare minute-rounded values with millisecond precision")
    func timestampFilters() async throws {
        let (spec, rows, _) = Self.bigSource(40)
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        let all = try await ok(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query", body: [:])
        let shown = (all["results"]?.arrayValue ?? []).map { $0["created_time"]!.stringValue! }
        let pivot = shown[20]
        func count(_ op: String, _ value: String) async throws -> Int {
            let filter: JSONValue = ["timestamp": "created_time", "created_time": .object([op: .string(value)])]
            let json = try await ok(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query", body: ["filter": filter])
            return json["results"]?.arrayValue?.count ?? -1
        }
        let sameMinute = shown.filter { $0 == pivot }.count
        #expect(try await count("equals", pivot) == sameMinute)
        #expect(try await count("on_or_after", pivot) == shown.filter { $0 >= pivot }.count)
        #expect(try await count("after", pivot) == shown.filter { $0 > pivot }.count)
        #expect(try await count("before", pivot) == shown.filter { $0 < pivot }.count)
        #expect(try await count("on_or_before", pivot) == shown.filter { $0 <= pivot }.count)
        // One millisecond past the minute: `after` the exact minute excludes that minute's rows.
        let plusOne = pivot.replacingOccurrences(of: ":00.000Z", with: ":00.001Z")
        #expect(try await count("on_or_after", plusOne) == shown.filter { $0 > pivot }.count)
    }

    @Test("relation filters by name or id, compound filters, property sorts")
    func relationFilters() async throws {
        let world = SizedWorkspace(sizes: [0, 1, 3, 30])
        let engine = world.engine()
        let path = "/v1/data_sources/\(dashed(world.sources.id))/query"
        let target = dashed(world.targetIDs[2])
        func ids(_ filter: JSONValue) async throws -> Set<UUID> {
            Set(try await ok(engine, "POST", path, body: ["filter": filter])["results"]?.ids ?? [])
        }
        let p = world.pages
        #expect(try await ids(["property": "Links", "relation": ["contains": .string(target)]]) == [p[3]!, p[30]!])
        #expect(try await ids(["property": "%3AxYz", "relation": ["contains": .string(target)]]) == [p[3]!, p[30]!])
        #expect(try await ids(["property": ":xYz", "relation": ["does_not_contain": .string(target)]]) == [p[0]!, p[1]!])
        #expect(try await ids(["property": "Links", "relation": ["is_empty": true]]) == [p[0]!])
        #expect(try await ids(["property": "Refs", "relation": ["is_not_empty": true]]) == [p[1]!, p[3]!, p[30]!])
        // Past the 25 shown in page objects: contains sees the whole list.
        let deep = dashed(world.targetIDs[28])
        #expect(try await ids(["property": "Links", "relation": ["contains": .string(deep)]]) == [p[30]!])
        let compound: JSONValue = ["or": [
            ["property": "Links", "relation": ["is_empty": true]],
            ["and": [["property": "Links", "relation": ["contains": .string(target)]],
                     ["property": "Name", "title": ["equals": "size 30"]]]],
        ]]
        #expect(try await ids(compound) == [p[0]!, p[30]!])
        let sorted = try await ok(engine, "POST", path, body: ["sorts": [["property": "Name", "direction": "descending"]]])
        #expect(sorted["results"]?.ids == [p[30]!, p[3]!, p[1]!, p[0]!])
    }

    @Test("filter_properties trims page properties in both query-string forms, by id or name")
    func filterProperties() async throws {
        let world = SizedWorkspace(sizes: [2])
        let engine = world.engine()
        let base = "/v1/data_sources/\(dashed(world.sources.id))/query"
        for query in ["filter_properties[]=%3AxYz&filter_properties[]=title",
                      "filter_properties=%253AxYz&filter_properties=Name",
                      "filter_properties%5B%5D=Links&filter_properties=title"] {
            let json = try await ok(engine, "POST", "\(base)?\(query)", body: [:])
            #expect(json["results"]?[0]?["properties"]?.objectValue?.keys == ["Name", "Links"], "\(query)")
        }
        // The JS SDK decodes the id as returned and encodes it again: `%253AxYz` decodes once to `%3AxYz`.
        let sdk = try await ok(engine, "POST", "\(base)?filter_properties=%253AxYz", body: [:])
        #expect(sdk["results"]?[0]?["properties"]?.objectValue?.keys == ["Links"])
        let unknown = await call(engine, "POST", "\(base)?filter_properties=nope", body: [:])
        _ = try notionError(unknown, status: 400, code: "validation_error")
        let stray = await call(engine, "POST", "\(base)?page_size=3", body: [:])
        _ = try notionError(stray, status: 400, code: "validation_error")
    }

    @Test("trashed pages are excluded unless asked for; cursors are bound to their query")
    func trashAndCursors() async throws {
        let (spec, rows, ids) = Self.bigSource(12)
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        try await engine.trashPage(ids[3])
        let live = try await walkQuery(engine, dataSource: rows.id, body: ["page_size": 5])
        #expect(live.ids == ids.filter { $0 != ids[3] })
        let trashed = try await ok(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query", body: ["in_trash": true])
        #expect(trashed["results"]?.ids == [ids[3]])

        let first = try await ok(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query", body: ["page_size": 5])
        let cursor = try #require(first["next_cursor"]?.stringValue)
        let other = await call(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query",
                               body: ["start_cursor": .string(cursor), "sorts": [["timestamp": "created_time", "direction": "descending"]]])
        let error = try notionError(other, status: 400, code: "validation_error")
        #expect(error["message"]?.stringValue?.hasPrefix("The start_cursor provided is invalid") == true)
        // Keyset cursors: trashing a row behind the cursor does not shift the walk.
        try await engine.trashPage(ids[0])
        let next = try await ok(engine, "POST", "/v1/data_sources/\(dashed(rows.id))/query",
                                body: ["page_size": 5, "start_cursor": .string(cursor)])
        #expect(next["results"]?.ids == Array(ids[6..<11]))
    }

    @Test("cursors expire after the TTL")
    func cursorTTL() async throws {
        let (spec, rows, _) = Self.bigSource(3)
        let clock = ManualClock(testNow)
        var configuration = SimulatorConfiguration()
        configuration.cursorTTL = .seconds(60)
        let engine = SimulatorEngine(workspace: spec, configuration: configuration, clock: clock)
        let path = "/v1/data_sources/\(dashed(rows.id))/query"
        let first = try await ok(engine, "POST", path, body: ["page_size": 1])
        let cursor = try #require(first["next_cursor"]?.stringValue)
        clock.advance(by: 59)
        _ = try await ok(engine, "POST", path, body: ["page_size": 1, "start_cursor": .string(cursor)])
        clock.advance(by: 2)
        let expired = await call(engine, "POST", path, body: ["page_size": 1, "start_cursor": .string(cursor)])
        let error = try notionError(expired, status: 400, code: "validation_error")
        #expect(error["message"]?.stringValue?.hasPrefix("The start_cursor provided is invalid") == true)
    }
}
