import Foundation

/// A /v1 request matched to an endpoint; path segments are kept exactly as received.
enum Route {
    case usersMe
    case retrieveDatabase(String)
    case queryDatabase(String)
    case retrieveDataSource(String)
    case queryDataSource(String)
    case retrievePage(String)
    case updatePage(String)
    case retrievePageProperty(page: String, property: String)
    case unknown

    init(method: String, path: String) {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.first == "" { segments.removeFirst() }
        if segments.last == "", segments.count > 1 { segments.removeLast() }
        guard segments.first == "v1" else { self = .unknown; return }
        let rest = Array(segments.dropFirst())
        switch (method, rest.count, rest.first) {
        case ("GET", 2, "users") where rest[1] == "me": self = .usersMe
        case ("GET", 2, "databases"): self = .retrieveDatabase(rest[1])
        case ("POST", 3, "databases") where rest[2] == "query": self = .queryDatabase(rest[1])
        case ("GET", 2, "data_sources"): self = .retrieveDataSource(rest[1])
        case ("POST", 3, "data_sources") where rest[2] == "query": self = .queryDataSource(rest[1])
        case ("GET", 2, "pages"): self = .retrievePage(rest[1])
        case ("PATCH", 2, "pages"): self = .updatePage(rest[1])
        case ("GET", 4, "pages") where rest[2] == "properties": self = .retrievePageProperty(page: rest[1], property: rest[3])
        default: self = .unknown
        }
    }

    var endpoint: Endpoint {
        switch self {
        case .usersMe: return .usersMe
        case .retrieveDatabase: return .retrieveDatabase
        case .queryDatabase: return .queryDatabase
        case .retrieveDataSource: return .retrieveDataSource
        case .queryDataSource: return .queryDataSource
        case .retrievePage: return .retrievePage
        case .updatePage: return .updatePage
        case .retrievePageProperty: return .retrievePageProperty
        case .unknown: return .other
        }
    }
}

extension SimulatorEngine {
    func dispatch(_ route: Route, _ context: RequestContext) throws(APIError) -> JSONValue {
        switch route {
        case .usersMe:
            try checkQuery(context, allowed: [])
            return renderer(context.version).botUser()
        case .retrieveDatabase(let segment):
            try checkQuery(context, allowed: [])
            return renderer(context.version).database(try database(segment))
        case .queryDatabase(let segment):
            guard !context.version.hasDataSources else {
                throw APIError(status: 400, code: "invalid_request_url",
                               message: "Invalid request URL. From Notion-Version 2025-09-03 on, query a data source: POST /v1/data_sources/{data_source_id}/query.")
            }
            let database = try database(segment)
            guard database.dataSourceIDs.count == 1, let source = workspace.dataSources[database.dataSourceIDs[0]] else {
                throw .validation("Database \(IDFormat.dashed(database.id)) has \(database.dataSourceIDs.count) data sources; this API version can only query a database with exactly one. Use Notion-Version 2025-09-03 or later.")
            }
            return try query(source, context)
        case .retrieveDataSource(let segment):
            try checkQuery(context, allowed: [])
            return renderer(context.version).dataSource(try dataSource(segment))
        case .queryDataSource(let segment):
            return try query(try dataSource(segment), context)
        case .retrievePage(let segment):
            let page = try page(segment)
            let only = try filterProperties(context, source: workspace.dataSources[page.dataSourceID]!)
            return renderer(context.version).page(page, only: only)
        case .updatePage(let segment):
            return try updatePage(segment, context)
        case .retrievePageProperty(let pageSegment, let propertySegment):
            return try pageProperty(pageSegment, propertySegment, context)
        case .unknown:
            throw APIError.invalidURL
        }
    }

    // MARK: Lookups

    private func pathUUID(_ segment: String, name: String) throws(APIError) -> UUID {
        let decoded = PercentEncoding.decode(segment)
        guard let id = IDFormat.parseUUID(decoded) else {
            throw .validation("path failed validation: path.\(name) should be a valid uuid, instead was `\"\(decoded)\"`.")
        }
        return id
    }

    private func dataSource(_ segment: String) throws(APIError) -> DataSourceRecord {
        let id = try pathUUID(segment, name: "data_source_id")
        if let source = workspace.dataSources[id], workspace.isVisible(dataSource: id) { return source }
        if let database = workspace.databases[id], database.shared {
            throw .notFound("data_source", IDFormat.dashed(id),
                            hint: " \(IDFormat.dashed(id)) is a database ID, not a data source ID: retrieve it with GET /v1/databases/\(IDFormat.dashed(id)) to list its data sources.")
        }
        throw .notFound("data_source", IDFormat.dashed(id))
    }

    private func database(_ segment: String) throws(APIError) -> DatabaseRecord {
        let id = try pathUUID(segment, name: "database_id")
        if let database = workspace.databases[id], database.shared { return database }
        if workspace.dataSources[id] != nil, workspace.isVisible(dataSource: id) {
            throw .notFound("database", IDFormat.dashed(id),
                            hint: " \(IDFormat.dashed(id)) is a data source ID, not a database ID: use GET /v1/data_sources/\(IDFormat.dashed(id)).")
        }
        throw .notFound("database", IDFormat.dashed(id))
    }

    private func page(_ segment: String) throws(APIError) -> PageRecord {
        let id = try pathUUID(segment, name: "page_id")
        guard let page = workspace.pages[id], workspace.isVisible(dataSource: page.dataSourceID) else {
            throw .notFound("page", IDFormat.dashed(id))
        }
        return page
    }

    // MARK: Parameters

    private func checkQuery(_ context: RequestContext, allowed: Set<String>) throws(APIError) {
        for (key, value) in context.query where !allowed.contains(key) {
            throw .validation("query failed validation: query.\(key) should be not present, instead was `\"\(PercentEncoding.decode(value))\"`.")
        }
    }

    /// `filter_properties[]=a&filter_properties=b`: ids or names, each percent-decoded once.
    private func filterProperties(_ context: RequestContext, source: DataSourceRecord) throws(APIError) -> Set<String>? {
        try checkQuery(context, allowed: ["filter_properties", "filter_properties[]"])
        let values = context.query.map { PercentEncoding.decode($0.value) }
        guard !values.isEmpty else { return nil }
        var ids = Set<String>()
        for value in values {
            guard let property = source.property(reference: value) else {
                throw .validation("query failed validation: filter_properties: could not find property with name or id: \(value)")
            }
            ids.insert(property.id)
        }
        return ids
    }

    private func bodyObject(_ context: RequestContext) throws(APIError) -> JSONObject {
        let data = context.request.body
        if data.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return JSONObject() }
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw APIError.invalidJSON
        }
        guard let object = json.objectValue else {
            throw .validation("body failed validation: body should be an object, instead was `\(json.serializedString())`.")
        }
        return object
    }

    private func pageSize(_ value: JSONValue?, path: String) throws(APIError) -> Int {
        guard let value else { return 100 }
        guard let size = value.intValue else {
            throw .validation("\(path) should be an integer, instead was `\(value.serializedString())`.")
        }
        guard size >= 1 else { throw .validation("\(path) should be ≥ `1`, instead was `\(size)`.") }
        guard size <= 100 else { throw .validation("\(path) should be ≤ `100`, instead was `\(size)`.") }
        return size
    }

    // MARK: Query a data source

    private func query(_ source: DataSourceRecord, _ context: RequestContext) throws(APIError) -> JSONValue {
        let only = try filterProperties(context, source: source)
        let body = try bodyObject(context)
        var allowed: Set<String> = ["filter", "sorts", "start_cursor", "page_size", "result_type", "in_trash", "is_archived"]
        if context.version.includesArchived { allowed.insert("archived") }
        for (key, value) in body where !allowed.contains(key) {
            throw .validation("body failed validation: body.\(key) should be not present, instead was `\(value.serializedString())`.")
        }
        let size = try pageSize(body["page_size"], path: "body.page_size")
        var startCursor: String?
        if let cursor = body["start_cursor"] {
            guard let text = cursor.stringValue else {
                throw .validation("body failed validation: body.start_cursor should be a string or `undefined`, instead was `\(cursor.serializedString())`.")
            }
            startCursor = text
        }
        var scope = RowScope.live
        for key in ["in_trash", "archived", "is_archived"] {
            guard let flag = body[key] else { continue }
            guard let value = flag.boolValue else {
                throw .validation("body failed validation: body.\(key) should be a boolean, instead was `\(flag.serializedString())`.")
            }
            if value { scope = key == "is_archived" ? .archived : .trashed }
        }
        var resultType = "page"
        if let type = body["result_type"] {
            guard let text = type.stringValue, text == "page" || text == "data_source" else {
                throw .validation("body failed validation: body.result_type should be `\"page\"` or `\"data_source\"`, instead was `\(type.serializedString())`.")
            }
            resultType = text
        }
        let parser = QueryParser(source: source, now: now)
        let filter: FilterNode? = try body["filter"].map { (json) throws(APIError) in try parser.parseFilter(json, path: "body.filter") }
        let sorts = try body["sorts"].map { (json) throws(APIError) in try parser.parseSorts(json) } ?? []
        let fingerprint = JSONValue.object([
            "filter": body["filter"] ?? nil, "sorts": body["sorts"] ?? [], "scope": .string(scope.rawValue),
            "result_type": .string(resultType),
        ]).serializedString(sortedKeys: true)
        let plan = QueryPlan(filter: filter, sorts: sorts, scope: scope, fingerprint: fingerprint)

        // A data source with no child data sources has none to list for result_type "data_source".
        let rows = resultType == "page" ? rows(of: source, plan: plan) : []
        var start = 0
        var yielded = 0
        if let startCursor {
            guard case .query(let cursorSource, let cursorFingerprint, let next, let count) = try resolveCursor(startCursor, context: context),
                  cursorSource == source.id, cursorFingerprint == fingerprint
            else {
                throw .invalidCursor("\(startCursor) (it belongs to a different query; a cursor only continues the filter and sorts it came from)")
            }
            yielded = count
            start = firstIndex(in: rows, notBefore: next, sorts: sorts)
        }
        let cap = configuration.queryResultCap
        let end = min(rows.count, start + size, start + max(0, cap - yielded))
        let moreRows = end < rows.count
        let capped = moreRows && yielded + (end - start) >= cap
        var nextCursor: JSONValue = nil
        if moreRows, !capped {
            nextCursor = .string(issueCursor(.query(dataSourceID: source.id, fingerprint: fingerprint,
                                                    next: rows[end].key, yielded: yielded + (end - start))))
        }
        let render = renderer(context.version)
        let results = rows[start..<end].map { render.page(workspace.pages[$0.id]!, only: only) }
        let listType = context.version.hasDataSources ? "page_or_data_source" : "page_or_database"
        return .object([
            "object": "list",
            "results": .array(results),
            "next_cursor": nextCursor,
            "has_more": .bool(moreRows && !capped),
            "type": .string(listType),
            listType: .object([:]),
            "request_status": capped
                ? .object(["type": "incomplete", "incomplete_reason": "query_result_limit_reached"])
                : .object(["type": "complete"]),
        ])
    }

    private func firstIndex(in rows: [(id: UUID, key: RowKey)], notBefore key: RowKey, sorts: [SortSpec]) -> Int {
        var low = 0
        var high = rows.count
        while low < high {
            let mid = (low + high) / 2
            if RowKey.compare(rows[mid].key, key, sorts: sorts) < 0 { low = mid + 1 } else { high = mid }
        }
        return low
    }

    // MARK: Page property items

    private func pageProperty(_ pageSegment: String, _ propertySegment: String,
                              _ context: RequestContext) throws(APIError) -> JSONValue {
        let page = try page(pageSegment)
        let source = workspace.dataSources[page.dataSourceID]!
        // The id arrives URL-encoded: decode it once and compare with the decoded stored id, so
        // the id as returned (`%3AxYz`) and the raw id (`:xYz`) work, and a double-encoded one does not.
        let requested = PercentEncoding.decode(propertySegment)
        guard let property = source.properties.first(where: { $0.decodedID == requested }) else {
            throw .notFound("property", propertySegment)
        }
        try checkQuery(context, allowed: ["page_size", "start_cursor"])
        let sizeText = context.query.last { $0.key == "page_size" }.map { PercentEncoding.decode($0.value) }
        let size = try pageSize(sizeText.map { Int($0).map(JSONValue.int) ?? .string($0) }, path: "query.page_size")
        var offset = 0
        if let cursorText = context.query.last(where: { $0.key == "start_cursor" }).map({ PercentEncoding.decode($0.value) }) {
            guard case .propertyItems(let pageID, let propertyID, let start) = try resolveCursor(cursorText, context: context),
                  pageID == page.id, propertyID == property.id
            else {
                throw .invalidCursor("\(cursorText) (it belongs to a different page or property)")
            }
            offset = start
        }

        let render = renderer(context.version)
        let typeName = property.kind.type.rawValue
        let items: [JSONValue]
        switch property.kind {
        case .relation:
            items = workspace.visibleRelation(page, property.id).map { .object(["id": .string(IDFormat.dashed($0))]) }
        case .title, .richText:
            items = page.richText(property.id).map(render.richTextItem)
        case .number, .checkbox, .select:
            // Every other type is a single property_item, not a list.
            guard case .object(let value) = render.propertyValue(property, of: page) else { return nil }
            var item: JSONObject = ["object": "property_item", "id": .string(property.id), "type": .string(typeName)]
            item[typeName] = value[typeName]
            return .object(item)
        }
        let start = min(offset, items.count)
        let end = min(items.count, start + size)
        let hasMore = end < items.count
        var nextCursor: JSONValue = nil
        var nextURL: JSONValue = nil
        if hasMore {
            let cursor = issueCursor(.propertyItems(pageID: page.id, propertyID: property.id, offset: end))
            nextCursor = .string(cursor)
            var url = "\(configuration.publicBaseURL)/v1/pages/\(IDFormat.dashed(page.id))/properties/\(property.id)?start_cursor=\(cursor)"
            if let sizeText { url += "&page_size=\(sizeText)" }
            nextURL = .string(url)
        }
        return .object([
            "object": "list",
            "results": .array(items[start..<end].map { value in
                .object(["object": "property_item", "id": .string(property.id), "type": .string(typeName), typeName: value])
            }),
            "next_cursor": nextCursor,
            "has_more": .bool(hasMore),
            "type": "property_item",
            "property_item": .object(["id": .string(property.id), "next_url": nextURL, "type": .string(typeName), typeName: .object([:])]),
        ])
    }

    // MARK: Update a page

    private func updatePage(_ segment: String, _ context: RequestContext) throws(APIError) -> JSONValue {
        let existing = try page(segment)
        let source = workspace.dataSources[existing.dataSourceID]!
        let only = try filterProperties(context, source: source)
        guard context.request.body.count <= WriteLimits.payloadBytes else {
            throw .validation("Request body too large: \(context.request.body.count) bytes; the limit is 500KB.")
        }
        let body = try bodyObject(context)
        let update = try WriteParser(workspace: workspace, source: source, version: context.version).parse(.object(body))
        try workspace.apply(update, to: existing.id, editor: workspace.botUserID, now: now,
                            touchOtherSide: configuration.dualRelationWriteTouchesOtherSide)
        return renderer(context.version).page(workspace.pages[existing.id]!, only: only)
    }
}
