import Foundation
import NotionSimulator
import Testing

@Suite("Relation values and property items")
struct RelationTests {
    @Test("page objects carry the first 25 references and has_more past that", arguments: [0, 1, 24, 25, 26, 101])
    func truncationAt25(size: Int) async throws {
        let world = SizedWorkspace(sizes: [size])
        let engine = world.engine()
        let page = try await ok(engine, "GET", "/v1/pages/\(dashed(world.pages[size]!))")
        for (name, expected) in [("Links", Array(world.targetIDs.prefix(size))),
                                 ("Refs", Array(world.targetIDs.suffix(size).reversed()))] {
            let value = try #require(page["properties"]?[name])
            #expect(value["type"] == "relation")
            #expect(value["relation"]?.ids == Array(expected.prefix(25)))
            #expect(value["has_more"] == .bool(size > 25))
        }
    }

    @Test("query results truncate relations the same way")
    func truncationInQuery() async throws {
        let world = SizedWorkspace(sizes: [24, 25, 26])
        let engine = world.engine()
        let json = try await ok(engine, "POST", "/v1/data_sources/\(dashed(world.sources.id))/query", body: [:])
        let results = try #require(json["results"]?.arrayValue)
        #expect(results.count == 3)
        for result in results {
            let title = result["properties"]?["Name"]?["title"]?[0]?["plain_text"]?.stringValue ?? ""
            let size = Int(title.dropFirst("size ".count))!
            #expect(result["properties"]?["Links"]?["relation"]?.arrayValue?.count == min(size, 25))
            #expect(result["properties"]?["Links"]?["has_more"] == .bool(size > 25))
        }
    }

    @Test("property items paginate the whole list in order", arguments: [0, 1, 100, 101, 1_003])
    func propertyItemPagination(size: Int) async throws {
        let world = SizedWorkspace(sizes: [size])
        let engine = world.engine()
        let page = world.pages[size]!
        let (ids, calls) = try await readAllPropertyItems(engine, page: page, propertyID: world.dual.property.id)
        #expect(ids == Array(world.targetIDs.prefix(size)))
        #expect(calls == max(1, (size + 99) / 100))
        let single = try await readAllPropertyItems(engine, page: page, propertyID: world.single.property.id, pageSize: 37)
        #expect(single.ids == Array(world.targetIDs.suffix(size).reversed()))
        #expect(single.calls == max(1, (size + 36) / 37))
    }

    @Test("a property-item page has the documented shape; the last has null cursor and next_url")
    func propertyItemShape() async throws {
        let world = SizedWorkspace(sizes: [101])
        let engine = world.engine()
        let page = world.pages[101]!
        let propertyID = world.dual.property.id
        let first = try await ok(engine, "GET", "/v1/pages/\(dashed(page))/properties/\(propertyID)?page_size=100")
        #expect(first["object"] == "list")
        #expect(first["type"] == "property_item")
        #expect(first["has_more"] == true)
        let cursor = try #require(first["next_cursor"]?.stringValue)
        let item = try #require(first["results"]?[0])
        #expect(item == .object(["object": "property_item", "id": .string(propertyID), "type": "relation",
                                 "relation": .object(["id": .string(dashed(world.targetIDs[0]))])]))
        let meta = try #require(first["property_item"]?.objectValue)
        #expect(meta.keys == ["id", "next_url", "type", "relation"])
        #expect(meta["id"] == .string(propertyID))
        #expect(meta["relation"] == .object([:]))
        #expect(meta["next_url"] == .string("https://api.notion.com/v1/pages/\(dashed(page))/properties/\(propertyID)?start_cursor=\(cursor)&page_size=100"))

        let last = try await ok(engine, "GET", "/v1/pages/\(dashed(page))/properties/\(propertyID)?start_cursor=\(cursor)")
        #expect(last["results"]?.ids == [world.targetIDs[100]])
        #expect(last["has_more"] == false)
        #expect(last["next_cursor"] == .null)
        #expect(last["property_item"]?["next_url"] == .null)
    }

    @Test("title and rich_text property items are lists of single rich-text objects")
    func textPropertyItems() async throws {
        var world = SizedWorkspace(sizes: [0])
        let page = world.pages[0]!
        world.spec.setRichText(world.notes, of: page, to: [.text("a"), .text("b"), .mention(page: world.targetIDs[0])])
        let engine = world.engine()
        let json = try await ok(engine, "GET", "/v1/pages/\(dashed(page))/properties/\(world.notes.id)?page_size=2")
        #expect(json["results"]?.arrayValue?.count == 2)
        #expect(json["results"]?[0]?["rich_text"]?["plain_text"] == "a")
        #expect(json["property_item"]?["type"] == "rich_text")
        let cursor = try #require(json["next_cursor"]?.stringValue)
        let rest = try await ok(engine, "GET", "/v1/pages/\(dashed(page))/properties/\(world.notes.id)?start_cursor=\(cursor)")
        let mention = try #require(rest["results"]?[0]?["rich_text"])
        #expect(mention["plain_text"] == "Target 0")
        #expect(mention["href"] == .string("https://www.notion.so/\(dashed(world.targetIDs[0]).replacingOccurrences(of: "-", with: ""))"))
        let title = try await ok(engine, "GET", "/v1/pages/\(dashed(page))/properties/title")
        #expect(title["results"]?[0] == .object([
            "object": "property_item", "id": "title", "type": "title",
            "title": try #require(title["results"]?[0]?["title"]),
        ]))
        #expect(title["results"]?[0]?["title"]?["plain_text"] == "size 0")
    }

    @Test("property ids: the encoded id and the raw id work, a double-encoded id is 404")
    func encodedPropertyIDs() async throws {
        let world = SizedWorkspace(sizes: [3], dualRawID: ":xYz", singleRawID: #"f\\:p%"#)
        let engine = world.engine()
        let page = dashed(world.pages[3]!)
        #expect(world.dual.property.id == "%3AxYz")
        #expect(world.single.property.id == "f%5C%5C%3Ap%25")
        for id in ["%3AxYz", ":xYz", "%3axYz"] {
            let json = try await ok(engine, "GET", "/v1/pages/\(page)/properties/\(id)")
            #expect(json["results"]?.arrayValue?.count == 3)
            #expect(json["results"]?[0]?["id"] == "%3AxYz")
        }
        _ = try await ok(engine, "GET", "/v1/pages/\(page)/properties/f%5C%5C%3Ap%25")
        for id in ["%253AxYz", "f%255C%255C%253Ap%2525", "xYz", "%3AxYZ"] {
            let response = await call(engine, "GET", "/v1/pages/\(page)/properties/\(id)")
            _ = try notionError(response, status: 404, code: "object_not_found")
        }
    }

    @Test("the schema reports relation targets, dual back-references and encoded ids")
    func relationSchema() async throws {
        let world = SizedWorkspace(sizes: [1])
        let engine = world.engine()
        let schema = try await ok(engine, "GET", "/v1/data_sources/\(dashed(world.sources.id))")
        #expect(schema["object"] == "data_source")
        let properties = try #require(schema["properties"]?.objectValue)
        #expect(properties.keys == ["Name", "Links", "Refs", "Notes"])
        #expect(properties["Name"] == .object(["id": "title", "name": "Name", "description": nil, "type": "title", "title": .object([:])]))
        let links = try #require(properties["Links"])
        #expect(links["id"] == "%3AxYz")
        #expect(links["relation"] == .object([
            "database_id": .string(dashed(world.targets.databaseID)),
            "data_source_id": .string(dashed(world.targets.id)),
            "type": "dual_property",
            "dual_property": .object(["synced_property_id": .string(world.dual.synced!.id), "synced_property_name": "Linked from"]),
        ]))
        #expect(properties["Refs"]?["relation"]?["type"] == "single_property")
        #expect(properties["Refs"]?["relation"]?["single_property"] == .object([:]))
        let back = try await ok(engine, "GET", "/v1/data_sources/\(dashed(world.targets.id))")
        #expect(back["properties"]?["Linked from"]?["relation"]?["dual_property"]?["synced_property_id"] == "%3AxYz")
        let database = try await ok(engine, "GET", "/v1/databases/\(dashed(world.sources.databaseID))")
        #expect(database["data_sources"] == .array([.object(["id": .string(dashed(world.sources.id)), "name": "Sources"])]))
        #expect(database["properties"] == nil)
    }
}
