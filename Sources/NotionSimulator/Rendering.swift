import Foundation

/// The Notion-Version a request was made with; shapes differ slightly between them.
enum APIVersion: String, Sendable {
    case v2022_06_28 = "2022-06-28"
    case v2025_09_03 = "2025-09-03"
    case v2026_03_11 = "2026-03-11"

    /// `archived` is gone from responses from 2026-03-11 on.
    var includesArchived: Bool { self != .v2026_03_11 }
    /// Data sources (and parents naming them) arrived in 2025-09-03.
    var hasDataSources: Bool { self != .v2022_06_28 }
}

/// Turns workspace records into Notion's JSON shapes.
struct Renderer {
    let workspace: Workspace
    let version: APIVersion
    let relationLimit: Int
    let mentionLimit: Int

    func user(_ id: UUID) -> JSONValue {
        .object(["object": "user", "id": .string(IDFormat.dashed(id))])
    }

    func botUser() -> JSONValue {
        .object([
            "object": "user",
            "id": .string(IDFormat.dashed(workspace.botUserID)),
            "name": .string(workspace.botName),
            "avatar_url": nil,
            "type": "bot",
            "bot": .object([
                "owner": .object(["type": "workspace", "workspace": true]),
                "workspace_id": .string(IDFormat.dashed(workspace.workspaceID)),
                "workspace_name": .string(workspace.workspaceName),
                "workspace_limits": .object(["max_file_upload_size_in_bytes": .int(5_242_880)]),
            ]),
        ])
    }

    func annotations(_ a: Annotations) -> JSONValue {
        .object([
            "bold": .bool(a.bold), "italic": .bool(a.italic), "strikethrough": .bool(a.strikethrough),
            "underline": .bool(a.underline), "code": .bool(a.code), "color": .string(a.color),
        ])
    }

    func richTextItem(_ item: RichTextItem) -> JSONValue {
        var object = JSONObject()
        var href: JSONValue = nil
        switch item.content {
        case .text(let content, let link):
            object["type"] = "text"
            object["text"] = .object(["content": .string(content), "link": link.map { .object(["url": .string($0)]) } ?? nil])
            href = link.map { .string($0) } ?? nil
        case .pageMention(let id):
            object["type"] = "mention"
            object["mention"] = .object(["type": "page", "page": .object(["id": .string(IDFormat.dashed(id))])])
            href = .string("https://www.notion.so/\(IDFormat.compact(id))")
        case .userMention(let id):
            object["type"] = "mention"
            object["mention"] = .object(["type": "user", "user": user(id)])
        case .databaseMention(let id):
            object["type"] = "mention"
            object["mention"] = .object(["type": "database", "database": .object(["id": .string(IDFormat.dashed(id))])])
            href = .string("https://www.notion.so/\(IDFormat.compact(id))")
        case .dateMention(let start, let end, let timeZone):
            object["type"] = "mention"
            object["mention"] = .object(["type": "date", "date": .object([
                "start": .string(start), "end": end.map { .string($0) } ?? nil,
                "time_zone": timeZone.map { .string($0) } ?? nil,
            ])])
        case .equation(let expression):
            object["type"] = "equation"
            object["equation"] = .object(["expression": .string(expression)])
        }
        object["annotations"] = annotations(item.annotations)
        object["plain_text"] = .string(workspace.plainText(item))
        object["href"] = href
        return .object(object)
    }

    /// A title / rich_text value as a page object shows it: cut before the mention past the limit.
    func richTextValue(_ items: [RichTextItem]) -> JSONValue {
        var shown: [JSONValue] = []
        var mentions = 0
        for item in items {
            if item.isPageOrUserMention {
                mentions += 1
                if mentions > mentionLimit { break }
            }
            shown.append(richTextItem(item))
        }
        return .array(shown)
    }

    func pageURL(_ page: PageRecord) -> String {
        let title = workspace.title(of: page.id)
        let slug = title.split { !($0.isLetter || $0.isNumber) }.joined(separator: "-")
        return "https://www.notion.so/" + (slug.isEmpty ? "" : slug + "-") + IDFormat.compact(page.id)
    }

    func propertyValue(_ property: PropertyRecord, of page: PageRecord) -> JSONValue {
        var object: JSONObject = ["id": .string(property.id), "type": .string(property.kind.type.rawValue)]
        switch property.kind {
        case .title, .richText:
            object[property.kind.type.rawValue] = richTextValue(page.richText(property.id))
        case .number:
            if case .number(let value?)? = page.values[property.id] { object["number"] = .number(value) } else { object["number"] = .null }
        case .checkbox:
            if case .checkbox(let value)? = page.values[property.id] { object["checkbox"] = .bool(value) } else { object["checkbox"] = false }
        case .select(let options):
            if case .select(let optionID?)? = page.values[property.id], let option = options.first(where: { $0.id == optionID }) {
                object["select"] = .object(["id": .string(option.id), "name": .string(option.name), "color": .string(option.color)])
            } else {
                object["select"] = .null
            }
        case .relation:
            let targets = workspace.visibleRelation(page, property.id)
            object["relation"] = .array(targets.prefix(relationLimit).map { .object(["id": .string(IDFormat.dashed($0))]) })
            object["has_more"] = .bool(targets.count > relationLimit)
        }
        return .object(object)
    }

    /// The page object; `only` keeps just those properties (by encoded id), for `filter_properties`.
    func page(_ page: PageRecord, only: Set<String>? = nil) -> JSONValue {
        let source = workspace.dataSources[page.dataSourceID]!
        var properties = JSONObject()
        for property in source.properties where only?.contains(property.id) ?? true {
            properties[property.name] = propertyValue(property, of: page)
        }
        var object: JSONObject = [
            "object": "page",
            "id": .string(IDFormat.dashed(page.id)),
            "created_time": .string(Timestamp.notionMinute(page.createdTime)),
            "last_edited_time": .string(Timestamp.notionMinute(page.lastEditedTime)),
            "created_by": user(page.createdBy),
            "last_edited_by": user(page.lastEditedBy),
            "cover": nil,
            "icon": nil,
            "parent": parent(of: source),
        ]
        if version.includesArchived { object["archived"] = .bool(page.inTrash) }
        object["in_trash"] = .bool(page.inTrash)
        object["is_archived"] = .bool(page.isArchived)
        object["is_locked"] = .bool(page.isLocked)
        object["properties"] = .object(properties)
        object["url"] = .string(pageURL(page))
        object["public_url"] = .null
        return .object(object)
    }

    func parent(of source: DataSourceRecord) -> JSONValue {
        if version.hasDataSources {
            return .object([
                "type": "data_source_id",
                "data_source_id": .string(IDFormat.dashed(source.id)),
                "database_id": .string(IDFormat.dashed(source.databaseID)),
            ])
        }
        return .object(["type": "database_id", "database_id": .string(IDFormat.dashed(source.databaseID))])
    }

    func propertySchema(_ property: PropertyRecord) -> JSONValue {
        var object: JSONObject = [
            "id": .string(property.id), "name": .string(property.name), "description": nil,
            "type": .string(property.kind.type.rawValue),
        ]
        switch property.kind {
        case .title: object["title"] = .object([:])
        case .richText: object["rich_text"] = .object([:])
        case .checkbox: object["checkbox"] = .object([:])
        case .number: object["number"] = .object(["format": "number"])
        case .select(let options):
            object["select"] = .object(["options": .array(options.map {
                .object(["id": .string($0.id), "name": .string($0.name), "color": .string($0.color), "description": nil])
            })])
        case .relation(let schema):
            let target = workspace.dataSources[schema.targetDataSourceID]!
            var relation: JSONObject = ["database_id": .string(IDFormat.dashed(target.databaseID))]
            if version.hasDataSources { relation["data_source_id"] = .string(IDFormat.dashed(target.id)) }
            if let syncedID = schema.syncedPropertyID, let synced = target.property(id: syncedID) {
                relation["type"] = "dual_property"
                relation["dual_property"] = .object([
                    "synced_property_id": .string(synced.id), "synced_property_name": .string(synced.name),
                ])
            } else {
                relation["type"] = "single_property"
                relation["single_property"] = .object([:])
            }
            object["relation"] = .object(relation)
        }
        return .object(object)
    }

    func properties(of source: DataSourceRecord) -> JSONValue {
        var properties = JSONObject()
        for property in source.properties { properties[property.name] = propertySchema(property) }
        return .object(properties)
    }

    func dataSource(_ source: DataSourceRecord) -> JSONValue {
        let database = workspace.databases[source.databaseID]!
        var object: JSONObject = [
            "object": "data_source",
            "id": .string(IDFormat.dashed(source.id)),
            "title": .array([richTextItem(.text(source.name))]),
            "description": [],
            "parent": .object(["type": "database_id", "database_id": .string(IDFormat.dashed(database.id))]),
            "database_parent": .object(["type": "page_id", "page_id": .string(IDFormat.dashed(database.parentPageID))]),
            "is_inline": false,
        ]
        if version.includesArchived { object["archived"] = false }
        object["in_trash"] = false
        object["created_time"] = .string(Timestamp.notionMinute(source.createdTime))
        object["last_edited_time"] = .string(Timestamp.notionMinute(source.lastEditedTime))
        object["created_by"] = user(workspace.defaultEditor)
        object["last_edited_by"] = user(workspace.defaultEditor)
        object["properties"] = properties(of: source)
        object["icon"] = .null
        object["cover"] = .null
        object["url"] = .string("https://www.notion.so/\(IDFormat.compact(source.databaseID))")
        object["public_url"] = .null
        return .object(object)
    }

    func database(_ database: DatabaseRecord) -> JSONValue {
        var object: JSONObject = [
            "object": "database",
            "id": .string(IDFormat.dashed(database.id)),
            "title": .array([richTextItem(.text(database.name))]),
            "description": [],
            "parent": .object(["type": "page_id", "page_id": .string(IDFormat.dashed(database.parentPageID))]),
            "is_inline": false,
            "in_trash": false,
        ]
        if version.includesArchived { object["archived"] = false }
        object["is_locked"] = false
        object["created_time"] = .string(Timestamp.notionMinute(database.createdTime))
        object["last_edited_time"] = .string(Timestamp.notionMinute(database.lastEditedTime))
        if version.hasDataSources {
            object["data_sources"] = .array(database.dataSourceIDs.map { id in
                .object(["id": .string(IDFormat.dashed(id)), "name": .string(workspace.dataSources[id]!.name)])
            })
        } else if let first = database.dataSourceIDs.first, let source = workspace.dataSources[first] {
            // Before 2025-09-03 a database carried its (single) schema itself.
            object["properties"] = properties(of: source)
        }
        object["icon"] = .null
        object["cover"] = .null
        object["url"] = .string("https://www.notion.so/\(IDFormat.compact(database.id))")
        object["public_url"] = .null
        return .object(object)
    }
}
