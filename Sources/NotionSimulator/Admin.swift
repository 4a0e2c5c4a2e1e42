import Foundation
import TransportKit

/// Endpoints outside /v1 for scripts: no auth, no faults, not journaled.
///
/// - `GET /__sim/manifest`, `GET /__sim/journal`, `POST /__sim/journal/reset`, `GET /__sim/truth`
/// - `POST /__sim/mutate` with `{"action": …}` (see `mutate`)
/// - `POST /__sim/config` with any of `rate_limit`, `blocked`, `fault_5xx`, `fault_429`,
///   `fault_drop`, `fault_truncate`, `fault_html_502`, `fault_cursor`, `latency_ms`
extension SimulatorEngine {
    func admin(_ request: SimRequest, path: String) -> SimResponse {
        let route = (request.method, path.hasSuffix("/") ? String(path.dropLast()) : path)
        do {
            switch route {
            case ("GET", "/__sim/manifest"):
                return adminJSON(200, try JSONValue.parse(try manifest().jsonData()))
            case ("GET", "/__sim/journal"):
                let data = try JSONEncoder().encode(journal())
                return adminJSON(200, try JSONValue.parse(data))
            case ("POST", "/__sim/journal/reset"):
                resetJournal()
                return adminJSON(200, ["reset": true])
            case ("GET", "/__sim/truth"):
                return adminJSON(200, workspace.groundTruthJSON())
            case ("POST", "/__sim/mutate"):
                return adminJSON(200, try mutate(JSONValue.parse(request.body)))
            case ("POST", "/__sim/config"):
                try configure(JSONValue.parse(request.body))
                return adminJSON(200, ["rate_limit": .string(configuration.rateLimit.description)])
            default:
                return adminJSON(404, ["error": .string("No admin endpoint \(request.method) \(path).")])
            }
        } catch {
            return adminJSON(400, ["error": .string(String(describing: error))])
        }
    }

    private func adminJSON(_ status: Int, _ body: JSONValue) -> SimResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json; charset=utf-8")
        return SimResponse(status: status, headers: headers, body: body.serialized())
    }

    private func uuid(_ body: JSONValue, _ key: String) throws(SimulatorError) -> UUID {
        guard let text = body[key]?.stringValue, let id = IDFormat.parseUUID(text) else {
            throw SimulatorError("`\(key)` must be a page or data source id.")
        }
        return id
    }

    private func string(_ body: JSONValue, _ key: String) throws(SimulatorError) -> String {
        guard let text = body[key]?.stringValue else { throw SimulatorError("`\(key)` must be a string.") }
        return text
    }

    /// Actions: set_relation {page_id, property, target_ids}, add_relation {page_id, property,
    /// target_id, index?}, remove_relation {page_id, property, target_id}, rename_page {page_id,
    /// title}, set_rich_text {page_id, property, text}, trash_page / restore_page {page_id},
    /// rename_property {data_source_id, property, name}, rename_data_source {data_source_id, name},
    /// create_page {data_source_id, title}, invalidate_cursors {}.
    private func mutate(_ body: JSONValue) throws(SimulatorError) -> JSONValue {
        switch body["action"]?.stringValue {
        case "set_relation":
            guard let ids = body["target_ids"]?.arrayValue else { throw SimulatorError("`target_ids` must be an array.") }
            var targets: [UUID] = []
            for id in ids {
                guard let text = id.stringValue, let target = IDFormat.parseUUID(text) else {
                    throw SimulatorError("`target_ids` must hold page ids.")
                }
                targets.append(target)
            }
            try setRelation(page: try uuid(body, "page_id"), property: try string(body, "property"), targets: targets)
        case "add_relation":
            try addRelationTarget(page: try uuid(body, "page_id"), property: try string(body, "property"),
                                  target: try uuid(body, "target_id"), at: body["index"]?.intValue)
        case "remove_relation":
            try removeRelationTarget(page: try uuid(body, "page_id"), property: try string(body, "property"),
                                     target: try uuid(body, "target_id"))
        case "rename_page":
            try renamePage(try uuid(body, "page_id"), to: try string(body, "title"))
        case "set_rich_text":
            try setRichText(page: try uuid(body, "page_id"), property: try string(body, "property"),
                            text: try string(body, "text"))
        case "trash_page":
            try trashPage(try uuid(body, "page_id"))
        case "restore_page":
            try restorePage(try uuid(body, "page_id"))
        case "rename_property":
            try renameProperty(dataSource: try uuid(body, "data_source_id"), property: try string(body, "property"),
                               to: try string(body, "name"))
        case "rename_data_source":
            try renameDataSource(try uuid(body, "data_source_id"), to: try string(body, "name"))
        case "create_page":
            let id = try createPage(in: try uuid(body, "data_source_id"), title: try string(body, "title"))
            return ["ok": true, "page_id": .string(IDFormat.dashed(id))]
        case "invalidate_cursors":
            invalidateAllCursors()
        default:
            throw SimulatorError("Unknown or missing `action`.")
        }
        return ["ok": true]
    }

    private func configure(_ body: JSONValue) throws(SimulatorError) {
        var copy = configuration
        for (key, value) in body.objectValue ?? JSONObject() {
            switch key {
            case "rate_limit":
                guard let policy = value.stringValue.flatMap(RateLimitPolicy.init(parsing:)) else {
                    throw SimulatorError("`rate_limit` must be none, average:RPS[:BURST] or window:N:SECONDS.")
                }
                copy.rateLimit = policy
            case "blocked":
                guard let flag = value.boolValue else { throw SimulatorError("`blocked` must be a boolean.") }
                copy.blocked = flag
            case "latency_ms":
                guard let ms = value.intValue, ms >= 0 else { throw SimulatorError("`latency_ms` must be ≥ 0.") }
                copy.latency = .milliseconds(ms)
            default:
                guard let p = value.doubleValue, (0...1).contains(p) else {
                    throw SimulatorError("`\(key)` must be a probability between 0 and 1.")
                }
                switch key {
                case "fault_5xx": copy.faults.serverError = p
                case "fault_429": copy.faults.rateLimited = p
                case "fault_drop": copy.faults.dropConnection = p
                case "fault_truncate": copy.faults.truncateBody = p
                case "fault_html_502": copy.faults.htmlBadGateway = p
                case "fault_cursor": copy.faults.cursorInvalidation = p
                default: throw SimulatorError("Unknown setting `\(key)`.")
                }
            }
        }
        setConfiguration(copy)
    }
}
