import Foundation
import NotionSimulator
import Testing
import TransportKit

let token = "secret_simulator_token"
/// 2026-06-01T12:00:00Z: "now" for tests on a manual clock, after every preset page was created.
let testNow = Date(timeIntervalSince1970: 1_780_315_200)

/// One request to the engine; the body, if any, is JSON.
func call(_ engine: SimulatorEngine, _ method: String, _ target: String, body: JSONValue? = nil,
          version: String? = "2025-09-03", auth: String? = token) async -> SimResponse {
    var headers = HTTPHeaders()
    if let auth { headers.add("Authorization", "Bearer \(auth)") }
    if let version { headers.add("Notion-Version", version) }
    if body != nil { headers.add("Content-Type", "application/json") }
    return await engine.handle(SimRequest(method: method, target: target, headers: headers,
                                          body: body?.serialized() ?? Data()))
}

/// One request that must succeed; returns its JSON.
func ok(_ engine: SimulatorEngine, _ method: String, _ target: String, body: JSONValue? = nil,
        version: String = "2025-09-03", sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
    let response = await call(engine, method, target, body: body, version: version)
    #expect(response.status == 200, "\(method) \(target): \(String(decoding: response.body, as: UTF8.self))",
            sourceLocation: sourceLocation)
    return try response.json()
}

/// The Notion error object of a failed request, after checking its shape.
func notionError(_ response: SimResponse, status: Int, code: String,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
    #expect(response.status == status, "\(String(decoding: response.body, as: UTF8.self))", sourceLocation: sourceLocation)
    let json = try response.json()
    #expect(json["object"] == "error", sourceLocation: sourceLocation)
    #expect(json["status"]?.intValue == status, sourceLocation: sourceLocation)
    #expect(json["code"]?.stringValue == code, sourceLocation: sourceLocation)
    #expect(json["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(json["request_id"]?.stringValue == response.headers["x-notion-request-id"], sourceLocation: sourceLocation)
    return json
}

func dashed(_ id: UUID) -> String { id.uuidString.lowercased() }

extension JSONValue {
    /// `results[i].relation.id` or `{id}` items as UUIDs.
    var ids: [UUID] {
        (arrayValue ?? []).compactMap { item in
            (item["relation"]?["id"] ?? item["id"])?.stringValue.flatMap(UUID.init(uuidString:))
        }
    }
}

/// A small workspace: Sources ↔ Targets (dual "Links" / "Linked from") and Sources → Targets
/// (single "Refs"), with one source page per requested size on both relations.
struct SizedWorkspace {
    var spec: WorkspaceSpec
    var sources: DataSourceHandle
    var targets: DataSourceHandle
    var dual: RelationHandle
    var single: RelationHandle
    var notes: PropertyHandle
    /// Source page per size.
    var pages: [Int: UUID]
    var targetIDs: [UUID]

    init(sizes: [Int], seed: UInt64 = 7, dualRawID: String = ":xYz", singleRawID: String = "b}>k") {
        spec = WorkspaceSpec(seed: seed)
        sources = spec.addDataSource("Sources")
        targets = spec.addDataSource("Targets")
        dual = spec.addRelation("Links", from: sources, to: targets, syncedName: "Linked from", rawID: dualRawID)
        single = spec.addRelation("Refs", from: sources, to: targets, rawID: singleRawID)
        notes = spec.addProperty("Notes", type: .richText, to: sources)
        let count = (sizes.max() ?? 0) + 5
        var names: [UUID] = []
        for index in 0..<count { names.append(spec.addPage("Target \(index)", to: targets)) }
        targetIDs = names
        pages = [:]
        for size in sizes {
            let page = spec.addPage("size \(size)", to: sources)
            spec.setRelation(dual.property, of: page, to: Array(names.prefix(size)))
            spec.setRelation(single.property, of: page, to: Array(names.suffix(size).reversed()))
            pages[size] = page
        }
    }

    func engine(_ configuration: SimulatorConfiguration = SimulatorConfiguration(),
                clock: any SimClock = ManualClock(testNow)) -> SimulatorEngine {
        SimulatorEngine(workspace: spec, configuration: configuration, clock: clock)
    }
}

/// Follows property-item cursors to the end; returns every related id and the pages fetched.
func readAllPropertyItems(_ engine: SimulatorEngine, page: UUID, propertyID: String,
                          pageSize: Int? = nil) async throws -> (ids: [UUID], calls: Int) {
    var ids: [UUID] = []
    var cursor: String?
    var calls = 0
    repeat {
        var query: [String] = []
        if let pageSize { query.append("page_size=\(pageSize)") }
        if let cursor { query.append("start_cursor=\(cursor)") }
        let target = "/v1/pages/\(dashed(page))/properties/\(propertyID)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let json = try await ok(engine, "GET", target)
        calls += 1
        ids += json["results"]?.ids ?? []
        cursor = json["next_cursor"]?.stringValue
        #expect(json["has_more"]?.boolValue == (cursor != nil))
    } while cursor != nil
    return (ids, calls)
}

/// Follows query cursors; returns the page ids and the last response.
func walkQuery(_ engine: SimulatorEngine, dataSource: UUID, body: JSONObject = [:]) async throws -> (ids: [UUID], last: JSONValue, calls: Int) {
    var ids: [UUID] = []
    var cursor: String?
    var last: JSONValue = nil
    var calls = 0
    repeat {
        var request = body
        if let cursor { request["start_cursor"] = .string(cursor) }
        last = try await ok(engine, "POST", "/v1/data_sources/\(dashed(dataSource))/query", body: .object(request))
        calls += 1
        ids += last["results"]?.ids ?? []
        cursor = last["next_cursor"]?.stringValue
    } while cursor != nil
    return (ids, last, calls)
}
