import Foundation

/// A validated `PATCH /v1/pages/{id}` body.
struct PageUpdate {
    var values: [(property: PropertyRecord, value: StoredValue)] = []
    /// Select options to create before writing (an unknown option name creates one, as on Notion).
    var newOptions: [(propertyID: String, name: String)] = []
    /// Marks a select value that names an option created by this update.
    static let pendingOptionPrefix = "\u{0}new:"
    var inTrash: Bool?
    var isLocked: Bool?

    var isEmpty: Bool { values.isEmpty && inTrash == nil && isLocked == nil }
}

/// Notion's request limits (§5 of the contract).
enum WriteLimits {
    static let textContent = 2_000
    static let url = 2_000
    static let equation = 1_000
    static let arrayElements = 100
    static let relationItems = 100
    static let payloadBytes = 500 * 1_024
}

/// Validates a page update against the page's schema. Nothing is applied until all of it is valid.
struct WriteParser {
    let workspace: Workspace
    let source: DataSourceRecord
    let version: APIVersion

    func parse(_ body: JSONValue) throws(APIError) -> PageUpdate {
        guard let object = body.objectValue else {
            throw .validation("body failed validation: body should be an object, instead was `\(body.serializedString())`.")
        }
        var update = PageUpdate()
        var allowed: Set<String> = ["properties", "in_trash", "is_locked"]
        if version.includesArchived { allowed.insert("archived") }
        for (key, value) in object {
            guard allowed.contains(key) else {
                throw .validation("body failed validation: body.\(key) should be not present, instead was `\(value.serializedString())`. The simulator accepts \(allowed.sorted().joined(separator: ", ")).")
            }
        }
        for key in ["in_trash", "archived"] {
            if let flag = object[key] {
                guard let value = flag.boolValue else {
                    throw .validation("body failed validation: body.\(key) should be a boolean, instead was `\(flag.serializedString())`.")
                }
                if let earlier = update.inTrash, earlier != value {
                    throw .validation("body.in_trash and body.archived disagree; send in_trash only.")
                }
                update.inTrash = value
            }
        }
        if let flag = object["is_locked"] {
            guard let value = flag.boolValue else {
                throw .validation("body failed validation: body.is_locked should be a boolean, instead was `\(flag.serializedString())`.")
            }
            update.isLocked = value
        }
        if let properties = object["properties"] {
            guard let map = properties.objectValue else {
                throw .validation("body failed validation: body.properties should be an object, instead was `\(properties.serializedString())`.")
            }
            var seen = Set<String>()
            for (reference, value) in map {
                guard let property = source.property(reference: reference) else {
                    throw .validation("\(reference) is not a property that exists.")
                }
                guard seen.insert(property.id).inserted else {
                    throw .validation("Property \(property.name) is given more than once (by name and by id).")
                }
                update.values.append((property, try parseValue(value, property: property, path: "body.properties.\(reference)", update: &update)))
            }
        }
        return update
    }

    private func parseValue(_ json: JSONValue, property: PropertyRecord, path: String,
                                     update: inout PageUpdate) throws(APIError) -> StoredValue {
        let typeKey = property.kind.type.rawValue
        guard let object = json.objectValue else {
            throw .validation("\(path) should be an object, instead was `\(json.serializedString())`.")
        }
        for key in object.keys {
            if ["id", "has_more", "name", "plain_text", "href"].contains(key) {
                throw .validation("\(path).\(key) should be not present: `\(key)` is a response-only field.")
            }
            if key == "type" {
                guard object["type"]?.stringValue == typeKey else {
                    throw .validation("\(property.name) is expected to be \(typeKey).")
                }
                continue
            }
            guard key == typeKey else {
                if PropertyType(rawValue: key) != nil || ["date", "people", "multi_select", "url", "email", "status"].contains(key) {
                    throw .validation("\(property.name) is expected to be \(typeKey).")
                }
                throw .validation("\(path).\(key) should be not present, instead was `\(object[key]!.serializedString())`.")
            }
        }
        guard let value = object[typeKey] else {
            throw .validation("\(path).\(typeKey) should be defined, instead was `undefined`.")
        }
        let valuePath = "\(path).\(typeKey)"
        switch property.kind {
        case .title, .richText:
            return .richText(try parseRichText(value, path: valuePath))
        case .number:
            if value.isNull { return .number(nil) }
            guard let number = value.doubleValue else {
                throw .validation("\(valuePath) should be a number or `null`, instead was `\(value.serializedString())`.")
            }
            return .number(number)
        case .checkbox:
            guard let flag = value.boolValue else {
                throw .validation("\(valuePath) should be a boolean, instead was `\(value.serializedString())`.")
            }
            return .checkbox(flag)
        case .select(let options):
            if value.isNull { return .select(nil) }
            guard let selection = value.objectValue else {
                throw .validation("\(valuePath) should be an object or `null`, instead was `\(value.serializedString())`.")
            }
            if let id = selection["id"]?.stringValue {
                guard options.contains(where: { $0.id == id }) else {
                    throw .validation("\(valuePath).id: no select option with id \(id) exists on \(property.name).")
                }
                return .select(id)
            }
            guard let name = selection["name"]?.stringValue, !name.isEmpty, !name.contains(",") else {
                throw .validation("\(valuePath) should have a `name` (a non-empty string without commas) or an `id`.")
            }
            if let existing = options.first(where: { $0.name == name }) { return .select(existing.id) }
            // The option is created when the update is applied; until then it goes by its name.
            if !update.newOptions.contains(where: { $0.propertyID == property.id && $0.name == name }) {
                update.newOptions.append((property.id, name))
            }
            return .select(PageUpdate.pendingOptionPrefix + name)
        case .relation(let schema):
            guard let items = value.arrayValue else {
                throw .validation("\(valuePath) should be an array, instead was `\(value.serializedString())`.")
            }
            guard items.count <= WriteLimits.relationItems else {
                throw .validation("\(valuePath).length should be ≤ `\(WriteLimits.relationItems)`, instead was `\(items.count)`.")
            }
            var targets: [UUID] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(valuePath)[\(index)]"
                guard let reference = item.objectValue, reference.keys == ["id"], let text = reference["id"]?.stringValue else {
                    throw .validation("\(itemPath) should be an object with only an `id`, instead was `\(item.serializedString())`.")
                }
                guard let id = IDFormat.parseUUID(text) else {
                    throw .validation("\(itemPath).id should be a valid uuid, instead was `\"\(text)\"`.")
                }
                guard let target = workspace.pages[id], target.dataSourceID == schema.targetDataSourceID,
                      workspace.isVisibleTarget(id)
                else {
                    throw .validation("Relation target \(IDFormat.dashed(id)) at \(itemPath) is not a page of the related data source \(IDFormat.dashed(schema.targetDataSourceID)) (or is in the trash, or not shared with the integration).")
                }
                targets.append(id)
            }
            return .relation(targets)
        }
    }

    func parseRichText(_ json: JSONValue, path: String) throws(APIError) -> [RichTextItem] {
        guard let items = json.arrayValue else {
            throw .validation("\(path) should be an array, instead was `\(json.serializedString())`.")
        }
        guard items.count <= WriteLimits.arrayElements else {
            throw .validation("\(path).length should be ≤ `\(WriteLimits.arrayElements)`, instead was `\(items.count)`.")
        }
        var result: [RichTextItem] = []
        for (index, item) in items.enumerated() {
            result.append(try parseRichTextItem(item, path: "\(path)[\(index)]"))
        }
        return result
    }

    private func parseRichTextItem(_ json: JSONValue, path: String) throws(APIError) -> RichTextItem {
        guard let object = json.objectValue else {
            throw .validation("\(path) should be an object, instead was `\(json.serializedString())`.")
        }
        for key in object.keys where !["type", "text", "mention", "equation", "annotations"].contains(key) {
            if key == "plain_text" || key == "href" {
                throw .validation("\(path).\(key) should be not present: `\(key)` is a response-only field.")
            }
            throw .validation("\(path).\(key) should be not present, instead was `\(object[key]!.serializedString())`.")
        }
        let variants = ["text", "mention", "equation"].filter { object[$0] != nil }
        guard variants.count == 1, let variant = variants.first else {
            throw .validation("\(path) should have exactly one of `text`, `mention` or `equation`.")
        }
        if let type = object["type"], type.stringValue != variant {
            throw .validation("\(path).type should be `\"\(variant)\"`, instead was `\(type.serializedString())`.")
        }
        let annotations = try parseAnnotations(object["annotations"], path: "\(path).annotations")
        let body = object[variant]!
        let bodyPath = "\(path).\(variant)"
        guard let inner = body.objectValue else {
            throw .validation("\(bodyPath) should be an object, instead was `\(body.serializedString())`.")
        }
        switch variant {
        case "text":
            for key in inner.keys where key != "content" && key != "link" {
                throw .validation("\(bodyPath).\(key) should be not present.")
            }
            guard let content = inner["content"]?.stringValue else {
                throw .validation("\(bodyPath).content should be a string, instead was `\(inner["content"]?.serializedString() ?? "undefined")`.")
            }
            // Notion counts like JavaScript's String.length: UTF-16 code units.
            guard content.utf16.count <= WriteLimits.textContent else {
                throw .validation("\(bodyPath).content.length should be ≤ `\(WriteLimits.textContent)`, instead was `\(content.utf16.count)`.")
            }
            var link: String?
            if let linkValue = inner["link"], !linkValue.isNull {
                guard let url = linkValue["url"]?.stringValue, linkValue.objectValue?.count == 1 else {
                    throw .validation("\(bodyPath).link should be `{ \"url\": string }` or `null`.")
                }
                guard url.utf16.count <= WriteLimits.url else {
                    throw .validation("\(bodyPath).link.url.length should be ≤ `\(WriteLimits.url)`, instead was `\(url.utf16.count)`.")
                }
                link = url
            }
            return RichTextItem(.text(content, link: link), annotations: annotations)
        case "equation":
            guard let expression = inner["expression"]?.stringValue, inner.count == 1 else {
                throw .validation("\(bodyPath) should be `{ \"expression\": string }`.")
            }
            guard expression.utf16.count <= WriteLimits.equation else {
                throw .validation("\(bodyPath).expression.length should be ≤ `\(WriteLimits.equation)`, instead was `\(expression.utf16.count)`.")
            }
            return RichTextItem(.equation(expression), annotations: annotations)
        default:
            return RichTextItem(try parseMention(inner, path: bodyPath), annotations: annotations)
        }
    }

    private func parseMention(_ object: JSONObject, path: String) throws(APIError) -> RichTextItem.Content {
        let kinds = object.keys.filter { $0 != "type" }
        guard kinds.count == 1, let kind = kinds.first else {
            throw .validation("\(path) should have exactly one mention kind, e.g. `page`.")
        }
        if let type = object["type"], type.stringValue != kind {
            throw .validation("\(path).type should be `\"\(kind)\"`, instead was `\(type.serializedString())`.")
        }
        let value = object[kind]!
        func id() throws(APIError) -> UUID {
            guard let text = value["id"]?.stringValue, value.objectValue?.count == 1 else {
                throw .validation("\(path).\(kind) should be `{ \"id\": string }`.")
            }
            guard let uuid = IDFormat.parseUUID(text) else {
                throw .validation("\(path).\(kind).id should be a valid uuid, instead was `\"\(text)\"`.")
            }
            return uuid
        }
        switch kind {
        case "page": return .pageMention(try id())
        case "user": return .userMention(try id())
        case "database": return .databaseMention(try id())
        case "date":
            guard let start = value["start"]?.stringValue, Timestamp.parse(start) != nil else {
                throw .validation("\(path).date.start should be an ISO 8601 date string.")
            }
            let end = value["end"]?.stringValue
            if let end, Timestamp.parse(end) == nil {
                throw .validation("\(path).date.end should be an ISO 8601 date string or `null`.")
            }
            return .dateMention(start: start, end: end, timeZone: value["time_zone"]?.stringValue)
        default:
            throw .validation("\(path).\(kind): the simulator supports page, user, database and date mentions.")
        }
    }

    private func parseAnnotations(_ json: JSONValue?, path: String) throws(APIError) -> Annotations {
        guard let json else { return .plain }
        guard let object = json.objectValue else {
            throw .validation("\(path) should be an object, instead was `\(json.serializedString())`.")
        }
        var annotations = Annotations.plain
        for (key, value) in object {
            if key == "color" {
                guard let color = value.stringValue, Annotations.colors.contains(color) else {
                    throw .validation("\(path).color should be a Notion color, instead was `\(value.serializedString())`.")
                }
                annotations.color = color
                continue
            }
            guard let flag = value.boolValue else {
                throw .validation("\(path).\(key) should be a boolean, instead was `\(value.serializedString())`.")
            }
            switch key {
            case "bold": annotations.bold = flag
            case "italic": annotations.italic = flag
            case "strikethrough": annotations.strikethrough = flag
            case "underline": annotations.underline = flag
            case "code": annotations.code = flag
            default: throw .validation("\(path).\(key) should be not present.")
            }
        }
        return annotations
    }
}

extension Workspace {
    /// Applies a validated update as `editor` at `now`; bumps last_edited_time like Notion.
    mutating func apply(_ update: PageUpdate, to pageID: UUID, editor: UUID, now: Millis,
                        touchOtherSide: Bool) throws(APIError) {
        guard let page = pages[pageID] else { throw .notFound("page", IDFormat.dashed(pageID)) }
        let restoring = update.inTrash == false
        if page.inTrash, !restoring, !update.values.isEmpty || update.isLocked != nil {
            throw .validation("Can't edit block that is archived. You must unarchive the block before editing.")
        }
        if update.isEmpty { return }
        if restoring { pages[pageID]!.inTrash = false }
        var createdOptions: [String: String] = [:]  // pending marker → new option id
        for (propertyID, name) in update.newOptions {
            let source = page.dataSourceID
            if let index = dataSources[source]!.properties.firstIndex(where: { $0.id == propertyID }),
               case .select(var options) = dataSources[source]!.properties[index].kind {
                let option = SelectOption(id: makePropertyID(in: nil, special: false), name: name, color: "default")
                options.append(option)
                createdOptions[propertyID + PageUpdate.pendingOptionPrefix + name] = option.id
                dataSources[source]!.properties[index].kind = .select(options: options)
                dataSources[source]!.lastEditedTime = now
            }
        }
        for (property, value) in update.values {
            if case .select(let marker?) = value, marker.hasPrefix(PageUpdate.pendingOptionPrefix) {
                setValue(.select(createdOptions[property.id + marker]), page: pageID, property: property.id)
            } else if case .relation(let targets) = value {
                replaceRelation(page: pageID, property: property, targets: targets,
                                touch: (editor, now, touchOtherSide))
            } else {
                setValue(value, page: pageID, property: property.id)
            }
        }
        if let locked = update.isLocked { pages[pageID]!.isLocked = locked }
        if update.inTrash == true { pages[pageID]!.inTrash = true }
        version += 1
        touch(page: pageID, editor: editor, now: now)
    }
}
