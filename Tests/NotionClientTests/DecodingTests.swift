import Foundation
import NotionClient
import Testing
import TransportKit

@Suite("Decoding recorded responses")
struct DecodingTests {
    @Test func dataSourceWithSingleDualAndUnknownProperties() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("data_source.json")])
        let source = try await makeClient(transport: transport).retrieveDataSource("6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b")

        #expect(source.id == "6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b")
        #expect(source.databaseID == "668d797c-76fa-4934-9b05-ad288df2d136")
        #expect(source.title == "Projects")
        #expect(source.inTrash == false)
        #expect(source.properties.map(\.name) == ["Mood", "Name", "Owners", "Projects", "Status", "Summary", "Tasks"])
        #expect(source.titlePropertyID == "title")

        let projects = try #require(source.property(named: "Projects"))
        #expect(projects.id == "proj")
        #expect(projects.type == "relation")
        #expect(
            projects.relation
                == RelationSchema(
                    dataSourceID: "6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b", databaseID: "668d797c-76fa-4934-9b05-ad288df2d136",
                    kind: .single))

        let tasks = try #require(source.property(named: "Tasks"))
        #expect(tasks.id == "%3AxYz")
        #expect(tasks.relation?.kind == .dual(syncedPropertyID: "b%7D%3Ek", syncedPropertyName: "Project"))
        #expect(tasks.relation?.dataSourceID == "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9")

        // `type` missing on the dual variant: the dual_property key decides.
        let owners = try #require(source.property(named: "Owners"))
        #expect(owners.id == "f%5C%5C%3Ap")
        #expect(owners.relation?.kind == .dual(syncedPropertyID: "Q%40xz", syncedPropertyName: "Owned"))

        let mood = try #require(source.property(named: "Mood"))
        #expect(mood.type == "vibe_meter")
        #expect(mood.relation == nil)
        #expect(source.property(id: "%3axYz")?.name == "Tasks")
        #expect(source.relationProperties.map(\.name) == ["Owners", "Projects", "Tasks"])
    }

    @Test func databaseAndPartialDatabase() async throws {
        let transport = ScriptedTransport(responses: [
            try Fixture.response("database.json"), try Fixture.response("database_partial.json"),
        ])
        let client = makeClient(transport: transport)
        let database = try await client.retrieveDatabase("248104cd477e80fdb757e945d38000bd")
        #expect(database.id == "248104cd-477e-80fd-b757-e945d38000bd")
        #expect(database.title == "Project tracker")
        #expect(
            database.dataSources == [
                .init(id: "6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b", name: "Projects"),
                .init(id: "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", name: "Tasks"),
            ])
        #expect(database.inTrash == false)

        let partial = try await client.retrieveDatabase("248104cd-477e-80fd-b757-e945d38000bd")
        #expect(partial == NotionDatabase(id: "248104cd-477e-80fd-b757-e945d38000bd", title: "", dataSources: []))
    }

    @Test func botUser() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("users_me.json")])
        let user = try await makeClient(transport: transport).me()
        #expect(user == NotionUser(id: "7f1e5a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", name: "My Sync", type: "bot"))
        #expect(transport.requests.first?.path == "/v1/users/me")
    }

    @Test func queryPagesSkipPartialAndNonPageResultsAndAcceptBothListTypes() async throws {
        let transport = ScriptedTransport(responses: [
            try Fixture.response("query_page.json"), try Fixture.response("query_legacy_type.json"),
        ])
        let pages = try await makeClient(transport: transport)
            .queryDataSource("6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b").collect()
        #expect(
            pages.map(\.id) == [
                "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7", "7a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9",
                "44444444-5555-4666-8777-888888888888",
            ])
        #expect(transport.count == 2)

        let first = pages[0]
        #expect(first.title == "Launch checklist")
        #expect(first.createdTime == Date(timeIntervalSince1970: 1_788_253_200))  // 2026-09-01T09:00:00Z
        #expect(first.lastEditedByID == "7f1e5a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
        #expect(first.inTrash == false)
        #expect(first.isArchived == false)
        #expect(first.url == "https://www.notion.so/Launch-checklist-60bdc8bd388044b8a9cd8a145b3ffbd7")
        #expect(first.parentDataSourceID == "6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b")
        #expect(first.parentDatabaseID == "668d797c-76fa-4934-9b05-ad288df2d136")

        let tasks = try #require(first.property(id: "%3AxYz"))
        #expect(tasks.type == "relation")
        #expect(tasks.hasMore == true)
        #expect(tasks.relationIDs?.count == 25)
        #expect(tasks.relationIDs?.first == "dd456007-6c66-4bba-957e-000000000001")
        let projects = try #require(first.properties["Projects"])
        #expect(projects.relationIDs == ["dd456007-6c66-4bba-957e-ea501dcda3a6"])
        #expect(projects.hasMore == false)

        let summary = try #require(first.properties["Summary"]?.richText)
        #expect(summary.map(\.plainText).joined() == "Linked to: Website")
        #expect(summary[1].type == "mention")
        #expect(summary[1].mentionPageID == "dd456007-6c66-4bba-957e-ea501dcda3a6")
        #expect(summary[1].href == "https://www.notion.so/dd4560076c664bba957eea501dcda3a6")

        let mood = try #require(first.properties["Mood"])
        #expect(mood.type == "vibe_meter")
        #expect(mood.relationIDs == nil && mood.richText == nil && mood.hasMore == false)

        // `archived: true` alone means trashed under 2025-09-03; a missing has_more is false.
        let second = pages[1]
        #expect(second.inTrash == true)
        #expect(second.isArchived == false)
        #expect(second.title == "")
        #expect(second.properties["Tasks"]?.relationIDs == [])
        #expect(second.properties["Tasks"]?.hasMore == false)
    }

    @Test func pageOfVersion20260311WithoutArchivedAndWithoutFractionalSeconds() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("page_2026_03_11.json")])
        let page = try await makeClient(transport: transport)
            .updatePage("60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7", properties: ["Summary": ["rich_text": []]])
        #expect(page.inTrash == true)
        #expect(page.isArchived == true)
        #expect(page.createdTime == Date(timeIntervalSince1970: 1_788_253_200))
        #expect(page.lastEditedTime == Date(timeIntervalSince1970: 1_788_532_200))  // 2026-09-04T14:30:00Z
        #expect(page.title == "Retro")
        #expect(page.properties["Brand new"]?.type == "hologram")
        #expect(page.property(id: "n%40w")?.type == "hologram")
    }

    @Test func relationPropertyItemsAreNormalized() async throws {
        let transport = ScriptedTransport(responses: [
            try Fixture.response("property_item_relation.json"), try Fixture.response("property_item_relation_last.json"),
        ])
        let ids = try await makeClient(transport: transport)
            .relationTargets(pageID: "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7", propertyID: "proj").collect()
        #expect(
            ids == [
                "dd456007-6c66-4bba-957e-ea501dcda3a6", "dd456007-6c66-4bba-957e-000000000002",
                "dd456007-6c66-4bba-957e-000000000003",
            ])
    }

    @Test func nonRelationPropertyItemIsADecodingError() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("property_item_not_list.json")])
        let client = makeClient(transport: transport)
        let error = try await #require(throws: NotionError.self) {
            _ = try await client.relationTargets(pageID: "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7", propertyID: "title").collect()
        }
        guard case .decoding(let endpoint, _) = error.kind else {
            Issue.record("expected a decoding error, got \(error)")
            return
        }
        #expect(endpoint == "GET /v1/pages/{id}/properties/{property_id}")
        #expect(transport.count == 1)
    }

    @Test(arguments: [
        ("error_400_validation.json", 400, "validation_error", "a1b2c3d4-0000-4000-8000-000000000400"),
        ("error_401.json", 401, "unauthorized", "a1b2c3d4-0000-4000-8000-000000000410"),
        ("error_404.json", 404, "object_not_found", "a1b2c3d4-0000-4000-8000-000000000404"),
        ("error_409.json", 409, "conflict_error", "a1b2c3d4-0000-4000-8000-000000000409"),
    ])
    func errorBodiesAreThrownAtOnce(fixture: String, status: Int, code: String, requestID: String) async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response(fixture, status: status)])
        let client = makeClient(transport: transport)
        let error = try await #require(throws: NotionError.self) {
            _ = try await client.retrieveDataSource("6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b")
        }
        #expect(error.status == status)
        #expect(error.code == code)
        #expect(error.requestID == requestID)
        #expect(error.isRetryable == false)
        #expect(error.endpoint == "GET /v1/data_sources/{id}")
        #expect(error.description.contains("\(status) \(code)"))
        #expect(transport.count == 1)
    }

    @Test func requestIDFallsBackToTheHeader() async throws {
        let transport = ScriptedTransport(responses: [
            try Fixture.response("error_429_blocked.json", status: 429, headers: ["x-notion-request-id": "hdr-123"])
        ])
        let error = try await #require(throws: NotionError.self) { _ = try await makeClient(transport: transport).me() }
        #expect(error.requestID == "hdr-123")
    }

    @Test func truncatedJSONOfAWriteIsADecodingError() async throws {
        let full = try Fixture.data("page_2026_03_11.json")
        let transport = ScriptedTransport(responses: [HTTPResponse(status: 200, body: full.prefix(full.count / 2))])
        let error = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: transport)
                .updatePage("60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7", properties: [:])
        }
        guard case .decoding(let endpoint, _) = error.kind else {
            Issue.record("expected a decoding error, got \(error)")
            return
        }
        #expect(endpoint == "PATCH /v1/pages/{id}")
        #expect(transport.count == 1)
    }
}

@Suite("Ids, timestamps and JSON values")
struct ValueTests {
    @Test(arguments: [
        ("60bdc8bd388044b8a9cd8a145b3ffbd7", "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7"),
        ("60BDC8BD-3880-44B8-A9CD-8A145B3FFBD7", "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7"),
        (" 60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7\n", "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7"),
    ])
    func normalizesIDs(input: String, expected: String) {
        #expect(NotionID.normalize(input) == expected)
    }

    @Test(arguments: [
        "", "60bdc8bd388044b8a9cd8a145b3ffbd", "60bdc8bd388044b8a9cd8a145b3ffbdz", "60bdc8bd-388044b8-a9cd-8a145b3ffbd7x",
        "60bdc8bd_3880_44b8_a9cd_8a145b3ffbd7", "https://www.notion.so/60bdc8bd388044b8a9cd8a145b3ffbd7",
        "60bdc8bd-3880-44b8-a9cd8-a145b3ffbd7",
    ])
    func rejectsNonIDs(input: String) {
        #expect(NotionID.normalize(input) == nil)
    }

    @Test func jsonValueSerializesDeterministically() throws {
        let value: JSONValue = [
            "b": [1, 2.5, -3, true, nil], "a": "quote \" slash \\ newline \n tab \t ctl \u{01} é",
            "c": ["z": 1, "y": ["x": false]],
        ]
        #expect(
            value.jsonString
                == #"{"a":"quote \" slash \\ newline \n tab \t ctl \u0001 é","b":[1,2.5,-3,true,null],"c":{"y":{"x":false},"z":1}}"#
        )
        let decoded = try JSONDecoder().decode(JSONValue.self, from: value.serialized())
        #expect(decoded == value)
        #expect(value["c"]?["z"] == 1)
        #expect(value["a"]?.stringValue?.hasPrefix("quote") == true)
    }

    @Test func configurationDescriptionRedactsTheToken() {
        let configuration = NotionConfiguration(token: testToken)
        #expect(!configuration.description.contains(testToken))
        #expect(!"\(configuration)".contains(testToken))
        #expect(!String(reflecting: configuration).contains(testToken))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains(testToken))
        #expect(configuration.description.contains("<redacted>"))
    }

    @Test func defaults() {
        let configuration = NotionConfiguration(token: "t")
        #expect(configuration.baseURL == "https://api.notion.com")
        #expect(configuration.version == "2025-09-03")
        #expect(configuration.rateLimit == .average(requestsPerSecond: 3, burst: 3))
        #expect(configuration.maxConcurrentRequests == 3)
        #expect(configuration.timeout == .seconds(75))
        #expect(configuration.retry == RetryPolicy(maxAttempts: 10, initialDelay: .milliseconds(500), maxBackoff: .seconds(30)))
    }
}
