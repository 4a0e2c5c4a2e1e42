import Foundation
import NotionSimulator
import Testing

@Suite("Writes and mutations")
struct WriteTests {
    @Test("PATCH of a dual relation updates both sides, as the bot, at the minute")
    func dualRelationWrite() async throws {
        let world = SizedWorkspace(sizes: [3, 0])
        let clock = ManualClock(testNow.addingTimeInterval(37.5))
        let engine = world.engine(clock: clock)
        let source = world.pages[3]!
        let (kept, dropped, added) = (world.targetIDs[0], world.targetIDs[1], world.targetIDs[4])
        let body: JSONValue = ["properties": [":xYz": ["relation": [["id": .string(dashed(added))], ["id": .string(dashed(kept))]]]]]
        let page = try await ok(engine, "PATCH", "/v1/pages/\(dashed(source))", body: body)
        #expect(page["properties"]?["Links"]?["relation"]?.ids == [added, kept])
        #expect(page["last_edited_by"]?["id"] == .string(dashed(world.spec.botUserID)))
        #expect(page["last_edited_time"] == "2026-06-01T12:00:00.000Z")

        let backID = world.dual.synced!.id
        let truth = await engine.groundTruth()
        #expect(truth.relation(world.targets.id, backID, added) == [source])
        #expect(truth.relation(world.targets.id, backID, dropped) == [])
        #expect(truth.relation(world.targets.id, backID, kept) == [source])
        let addedPage = try await ok(engine, "GET", "/v1/pages/\(dashed(added))")
        #expect(addedPage["properties"]?["Linked from"]?["relation"]?.ids == [source])
        #expect(addedPage["last_edited_time"] == "2026-06-01T12:00:00.000Z")
        // And back: writing the synced side updates the forward lists.
        let other = world.pages[0]!
        _ = try await ok(engine, "PATCH", "/v1/pages/\(dashed(added))",
                         body: ["properties": ["Linked from": ["relation": [["id": .string(dashed(other))]]]]])
        let truthAfter = await engine.groundTruth()
        #expect(truthAfter.relation(world.sources.id, world.dual.property.id, source) == [kept])
        #expect(truthAfter.relation(world.sources.id, world.dual.property.id, other) == [added])
    }

    @Test("rich text, title, number, select and checkbox writes replace the value")
    func otherWrites() async throws {
        var spec = WorkspaceSpec(seed: 11)
        let items = spec.addDataSource("Items")
        _ = spec.addProperty("Count", type: .number, to: items)
        _ = spec.addProperty("Done", type: .checkbox, to: items)
        _ = spec.addProperty("Stage", type: .select, to: items, options: ["A", "B"])
        _ = spec.addProperty("Text", type: .richText, to: items)
        let page = spec.addPage("before", to: items)
        let target = spec.addPage("Mentioned page", to: items)
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        let body: JSONValue = ["properties": [
            "Name": ["title": [["text": ["content": "after"]]]],
            "Count": ["number": 42], "Done": ["checkbox": true], "Stage": ["select": ["name": "C"]],
            "Text": ["rich_text": [
                ["type": "text", "text": ["content": "see ", "link": nil], "annotations": ["bold": true]],
                ["mention": ["page": ["id": .string(dashed(target))]]],
            ]],
        ]]
        let json = try await ok(engine, "PATCH", "/v1/pages/\(dashed(page))", body: body)
        let properties = try #require(json["properties"])
        #expect(properties["Name"]?["title"]?[0]?["plain_text"] == "after")
        #expect(properties["Count"]?["number"] == 42)
        #expect(properties["Done"]?["checkbox"] == true)
        #expect(properties["Stage"]?["select"]?["name"] == "C")
        #expect(properties["Text"]?["rich_text"]?[0]?["annotations"]?["bold"] == true)
        let mention = try #require(properties["Text"]?["rich_text"]?[1])
        #expect(mention["plain_text"] == "Mentioned page")
        #expect(mention["href"] == .string("https://www.notion.so/\(dashed(target).replacingOccurrences(of: "-", with: ""))"))
        // Mentions show the target's current title.
        try await engine.renamePage(target, to: "Renamed")
        let reread = try await ok(engine, "GET", "/v1/pages/\(dashed(page))")
        #expect(reread["properties"]?["Text"]?["rich_text"]?[1]?["plain_text"] == "Renamed")
        let schema = try await ok(engine, "GET", "/v1/data_sources/\(dashed(items.id))")
        #expect(schema["properties"]?["Stage"]?["select"]?["options"]?.arrayValue?.count == 3)
        let cleared = try await ok(engine, "PATCH", "/v1/pages/\(dashed(page))",
                                   body: ["properties": ["Text": ["rich_text": []], "Count": ["number": nil]]])
        #expect(cleared["properties"]?["Text"]?["rich_text"] == [])
        #expect(cleared["properties"]?["Count"]?["number"] == .null)
    }

    @Test("page objects show at most 25 page or person mentions; the property item shows all")
    func mentionLimit() async throws {
        var world = SizedWorkspace(sizes: [0, 30])
        let page = world.pages[0]!
        world.spec.setRichText(world.notes, of: page, to: world.targetIDs.prefix(30).flatMap { [.mention(page: $0), .text(", ")] })
        let engine = world.engine()
        let json = try await ok(engine, "GET", "/v1/pages/\(dashed(page))")
        let shown = try #require(json["properties"]?["Notes"]?["rich_text"]?.arrayValue)
        #expect(shown.filter { $0["type"] == "mention" }.count == 25)
        let items = try await ok(engine, "GET", "/v1/pages/\(dashed(page))/properties/\(world.notes.id)")
        #expect(items["results"]?.arrayValue?.count == 60)
    }

    @Test("trash and restore through PATCH; writes to a trashed page are refused")
    func trash() async throws {
        let world = SizedWorkspace(sizes: [1])
        let engine = world.engine()
        let path = "/v1/pages/\(dashed(world.pages[1]!))"
        let trashed = try await ok(engine, "PATCH", path, body: ["in_trash": true])
        #expect(trashed["in_trash"] == true)
        #expect(trashed["archived"] == true)
        let refused = await call(engine, "PATCH", path, body: ["properties": ["Notes": ["rich_text": []]]])
        _ = try notionError(refused, status: 400, code: "validation_error")
        let query = try await ok(engine, "POST", "/v1/data_sources/\(dashed(world.sources.id))/query", body: [:])
        #expect(query["results"]?.ids == [])
        #expect(await engine.groundTruth().trashedPages.contains(world.pages[1]!))
        let restored = try await ok(engine, "PATCH", path, body: ["in_trash": false, "properties": ["Notes": ["rich_text": []]]])
        #expect(restored["in_trash"] == false)
    }

    @Test("mutations bump last_edited_time and are attributed to a person")
    func mutations() async throws {
        let world = SizedWorkspace(sizes: [2, 5])
        let clock = ManualClock(testNow)
        let engine = world.engine(clock: clock)
        let page = world.pages[2]!
        func edited(_ id: UUID) async throws -> JSONValue { try await ok(engine, "GET", "/v1/pages/\(dashed(id))") }

        clock.advance(by: 125)
        try await engine.addRelationTarget(page: page, property: "Links", target: world.targetIDs[6])
        var json = try await edited(page)
        #expect(json["last_edited_time"] == "2026-06-01T12:02:00.000Z")
        #expect(json["last_edited_by"]?["id"] == .string(dashed(world.spec.personUserID)))
        #expect(json["properties"]?["Links"]?["relation"]?.ids == [world.targetIDs[0], world.targetIDs[1], world.targetIDs[6]])
        let back = try await edited(world.targetIDs[6])
        #expect(back["properties"]?["Linked from"]?["relation"]?.ids == [page])

        clock.advance(by: 60)
        try await engine.removeRelationTarget(page: page, property: world.dual.property.id, target: world.targetIDs[0])
        try await engine.setRichText(page: page, property: "Notes", text: "hello")
        json = try await edited(page)
        #expect(json["last_edited_time"] == "2026-06-01T12:03:00.000Z")
        #expect(json["properties"]?["Notes"]?["rich_text"]?[0]?["plain_text"] == "hello")

        try await engine.renameProperty(dataSource: world.sources.id, property: "Links", to: "Renamed links")
        try await engine.renameDataSource(world.sources.id, to: "Renamed sources")
        let schema = try await ok(engine, "GET", "/v1/data_sources/\(dashed(world.sources.id))")
        #expect(schema["properties"]?["Renamed links"]?["id"] == "%3AxYz")
        #expect(schema["title"]?[0]?["plain_text"] == "Renamed sources")
        let targets = try await ok(engine, "GET", "/v1/data_sources/\(dashed(world.targets.id))")
        #expect(targets["properties"]?["Linked from"]?["relation"]?["dual_property"]?["synced_property_name"] == "Renamed links")

        let created = try await engine.createPage(in: world.sources.id, title: "new")
        let newPage = try await edited(created)
        #expect(newPage["created_time"] == "2026-06-01T12:03:00.000Z")
        try await engine.trashPage(created)
        #expect(await engine.groundTruth().pages[world.sources.id]?.contains(created) == false)
        try await engine.restorePage(created)
        #expect(await engine.groundTruth().pages[world.sources.id]?.last == created)
        await #expect(throws: SimulatorError.self) {
            try await engine.addRelationTarget(page: page, property: "Nope", target: world.targetIDs[0])
        }
    }

    @Test("admin endpoints: manifest, journal, truth, mutate, config")
    func admin() async throws {
        let world = SizedWorkspace(sizes: [2])
        let engine = world.engine()
        _ = try await ok(engine, "GET", "/v1/users/me")
        let manifest = try await engine.handle(SimRequest(method: "GET", target: "/__sim/manifest")).json()
        #expect(manifest["bot_user_id"] == .string(dashed(world.spec.botUserID)))
        #expect(manifest["data_sources"]?[0]?["properties"]?[1]?["id"] == "%3AxYz")
        #expect(manifest["data_sources"]?[0]?["properties"]?[1]?["relation"]?["type"] == "dual_property")
        let journal = try await engine.handle(SimRequest(method: "GET", target: "/__sim/journal")).json()
        #expect(journal["total_requests"] == 1)
        #expect(journal["requests_by_endpoint"]?["GET /v1/users/me"] == 1)
        let mutate = await engine.handle(SimRequest(method: "POST", target: "/__sim/mutate", body: JSONValue.object([
            "action": "rename_page", "page_id": .string(dashed(world.pages[2]!)), "title": "via admin",
        ]).serialized()))
        #expect(mutate.status == 200)
        let truth = try await engine.handle(SimRequest(method: "GET", target: "/__sim/truth")).json()
        let sources = try #require(truth["data_sources"]?.arrayValue)
        #expect(sources[0]["pages"]?[0]?["title"] == "via admin")
        #expect(sources[0]["relations"]?[0]?["edges"]?[dashed(world.pages[2]!)] == .array(world.targetIDs.prefix(2).map { .string(dashed($0)) }))
        let config = await engine.handle(SimRequest(method: "POST", target: "/__sim/config",
                                                    body: JSONValue.object(["rate_limit": "window:1:60"]).serialized()))
        #expect(config.status == 200)
        _ = try await ok(engine, "GET", "/v1/users/me")
        #expect(await call(engine, "GET", "/v1/users/me").status == 429)
        _ = await engine.handle(SimRequest(method: "POST", target: "/__sim/journal/reset"))
        #expect(await engine.journal() == JournalSnapshot())
    }
}
