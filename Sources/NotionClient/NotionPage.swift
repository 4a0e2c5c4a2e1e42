public import Foundation

/// A page (a row of a data source), reduced to what relsync reads.
public struct NotionPage: Sendable, Equatable {
    public var id: String
    public var createdTime: Date
    public var lastEditedTime: Date
    /// `last_edited_by.id`, to recognise the integration's own writes.
    public var lastEditedByID: String?
    /// `in_trash`, or the deprecated `archived` of versions before 2026-03-11.
    public var inTrash: Bool
    /// `is_archived`, the newer archive state distinct from trash (false when absent).
    public var isArchived: Bool
    public var url: String?
    public var parentDataSourceID: String?
    public var parentDatabaseID: String?
    /// Property values keyed by property name.
    public var properties: [String: PropertyValue]

    public init(
        id: String, createdTime: Date, lastEditedTime: Date, lastEditedByID: String? = nil,
        inTrash: Bool = false, isArchived: Bool = false, url: String? = nil,
        parentDataSourceID: String? = nil, parentDatabaseID: String? = nil,
        properties: [String: PropertyValue] = [:]
    ) {
        self.id = id
        self.createdTime = createdTime
        self.lastEditedTime = lastEditedTime
        self.lastEditedByID = lastEditedByID
        self.inTrash = inTrash
        self.isArchived = isArchived
        self.url = url
        self.parentDataSourceID = parentDataSourceID
        self.parentDatabaseID = parentDatabaseID
        self.properties = properties
    }

    /// Plain text of the title property ("" when there is none or it was filtered out).
    public var title: String {
        properties.values.first { $0.type == "title" }?.richText?.plainText ?? ""
    }

    /// The value of the property with this id (compared as returned, and percent-decoded).
    public func property(id: String) -> PropertyValue? {
        if let exact = properties.values.first(where: { $0.id == id }) { return exact }
        return properties.values.first { PropertyIDs.same($0.id, id) }
    }
}

extension NotionPage: Decodable {
    private enum CodingKeys: String, CodingKey {
        case id, url, parent, properties, archived
        case createdTime = "created_time"
        case lastEditedTime = "last_edited_time"
        case lastEditedBy = "last_edited_by"
        case inTrash = "in_trash"
        case isArchived = "is_archived"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.notionID(.id)
        createdTime = try c.timestamp(.createdTime)
        lastEditedTime = try c.timestamp(.lastEditedTime)
        lastEditedByID = c.lenient(IDReference.self, .lastEditedBy)?.id.flatMap { NotionID.normalize($0) ?? $0 }
        inTrash = (c.lenient(Bool.self, .inTrash) ?? false) || (c.lenient(Bool.self, .archived) ?? false)
        isArchived = c.lenient(Bool.self, .isArchived) ?? false
        url = c.lenient(String.self, .url)
        let parent = c.lenient(ParentReference.self, .parent)
        parentDataSourceID = parent?.dataSourceID
        parentDatabaseID = parent?.databaseID
        var values: [String: PropertyValue] = [:]
        if c.contains(.properties), (try? c.decodeNil(forKey: .properties)) == false {
            let nested = try c.nestedContainer(keyedBy: AnyKey.self, forKey: .properties)
            values.reserveCapacity(nested.allKeys.count)
            for key in nested.allKeys {
                values[key.stringValue] = try nested.decode(PropertyValue.self, forKey: key)
            }
        }
        properties = values
    }
}

/// One property value of a page, reduced to what relsync reads: relation ids and rich text.
public struct PropertyValue: Sendable, Equatable, Decodable {
    /// The property id as returned (possibly percent-encoded).
    public var id: String
    public var type: String
    /// For relations: the related page ids (lowercase dashed), in Notion's order. At most 25
    /// in a page object; `hasMore` tells that the list was cut.
    public var relationIDs: [String]?
    /// True when Notion cut the value (relations past 25 references); false when absent.
    public var hasMore: Bool
    /// For `title` and `rich_text`.
    public var richText: [RichTextItem]?

    public init(id: String, type: String, relationIDs: [String]? = nil, hasMore: Bool = false, richText: [RichTextItem]? = nil) {
        self.id = id
        self.type = type
        self.relationIDs = relationIDs
        self.hasMore = hasMore
        self.richText = richText
    }

    /// Plain text of `title` / `rich_text` values.
    public var plainText: String? { richText?.plainText }

    private enum CodingKeys: String, CodingKey {
        case id, type, relation, title
        case richText = "rich_text"
        case hasMore = "has_more"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = c.lenient(String.self, .id) ?? ""
        type = c.lenient(String.self, .type) ?? ""
        hasMore = c.lenient(Bool.self, .hasMore) ?? false
        switch type {
        case "relation":
            let references = try c.decodeIfPresent([IDReference].self, forKey: .relation) ?? []
            relationIDs = try references.map { reference in
                guard let id = reference.id.flatMap(NotionID.normalize) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .relation, in: c, debugDescription: "A related page without a valid id")
                }
                return id
            }
            richText = nil
        case "title":
            relationIDs = nil
            richText = try c.decodeIfPresent([RichTextItem].self, forKey: .title) ?? []
        case "rich_text":
            relationIDs = nil
            richText = try c.decodeIfPresent([RichTextItem].self, forKey: .richText) ?? []
        default:
            relationIDs = nil
            richText = nil
        }
    }
}
