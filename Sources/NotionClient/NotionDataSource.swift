import Foundation

/// A data source: the schema (and, through queries, the rows) of one table of a database.
public struct NotionDataSource: Sendable, Equatable {
    public var id: String
    /// The database that contains this data source, when the response names it.
    public var databaseID: String?
    /// Plain text of the title ("" when absent).
    public var title: String
    /// Every property of the schema, sorted by name.
    public var properties: [PropertySchema]
    /// `in_trash` or the deprecated `archived`.
    public var inTrash: Bool

    public init(id: String, databaseID: String?, title: String, properties: [PropertySchema], inTrash: Bool = false) {
        self.id = id
        self.databaseID = databaseID
        self.title = title
        self.properties = properties.sorted { $0.name < $1.name }
        self.inTrash = inTrash
    }

    /// The property with exactly this name.
    public func property(named name: String) -> PropertySchema? {
        properties.first { $0.name == name }
    }

    /// The property with this id (compared as returned, and percent-decoded).
    public func property(id: String) -> PropertySchema? {
        properties.first { PropertyIDs.same($0.id, id) }
    }

    /// The id of the title property. Notion documents it as always `"title"`, which is also the
    /// answer when a (partial) schema lacks the title property.
    public var titlePropertyID: String {
        properties.first { $0.type == "title" }?.id ?? "title"
    }

    /// The relation properties, sorted by name.
    public var relationProperties: [PropertySchema] {
        properties.filter { $0.relation != nil }
    }
}

extension NotionDataSource: Decodable {
    private enum CodingKeys: String, CodingKey {
        case id, title, parent, properties, archived
        case inTrash = "in_trash"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.notionID(.id)
        let parent = c.lenient(ParentReference.self, .parent)
        databaseID = parent?.databaseID
        title = (c.lenient([RichTextItem].self, .title) ?? []).plainText
        inTrash = (c.lenient(Bool.self, .inTrash) ?? false) || (c.lenient(Bool.self, .archived) ?? false)
        var schemas: [PropertySchema] = []
        if c.contains(.properties), (try? c.decodeNil(forKey: .properties)) == false {
            let nested = try c.nestedContainer(keyedBy: AnyKey.self, forKey: .properties)
            for key in nested.allKeys {
                var schema = try nested.decode(PropertySchema.self, forKey: key)
                if schema.name.isEmpty { schema.name = key.stringValue }
                schemas.append(schema)
            }
        }
        properties = schemas.sorted { $0.name < $1.name }
    }
}

/// One property of a data-source schema.
public struct PropertySchema: Sendable, Equatable, Decodable {
    /// As returned by Notion: possibly percent-encoded (`%3AxYz`). Stable across renames.
    public var id: String
    public var name: String
    /// `title`, `rich_text`, `relation`, …; types this client does not know are kept as strings.
    public var type: String
    /// The relation schema when `type` is `relation`.
    public var relation: RelationSchema?

    public init(id: String, name: String, type: String, relation: RelationSchema? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.relation = relation
    }

    private enum CodingKeys: String, CodingKey { case id, name, type, relation }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = c.lenient(String.self, .name) ?? ""
        type = c.lenient(String.self, .type) ?? ""
        relation = type == "relation" ? c.lenient(RelationSchema.self, .relation) : nil
    }
}

/// Where a relation points, and whether Notion keeps a synced back-relation on the other side.
public struct RelationSchema: Sendable, Equatable, Decodable {
    public enum Kind: Sendable, Equatable {
        /// One-way relation.
        case single
        /// Two-way relation; the synced property lives on the target data source.
        case dual(syncedPropertyID: String, syncedPropertyName: String)
        /// A relation type this client does not know (the raw `type`, possibly "").
        case unknown(String)
    }

    /// The target data source (lowercase dashed).
    public var dataSourceID: String?
    /// The target database (lowercase dashed).
    public var databaseID: String?
    public var kind: Kind

    public init(dataSourceID: String?, databaseID: String?, kind: Kind) {
        self.dataSourceID = dataSourceID
        self.databaseID = databaseID
        self.kind = kind
    }

    private enum CodingKeys: String, CodingKey {
        case type
        case dataSourceID = "data_source_id"
        case databaseID = "database_id"
        case singleProperty = "single_property"
        case dualProperty = "dual_property"
    }
    private struct Dual: Decodable {
        var syncedPropertyID: String?
        var syncedPropertyName: String?
        private enum CodingKeys: String, CodingKey {
            case syncedPropertyID = "synced_property_id"
            case syncedPropertyName = "synced_property_name"
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            syncedPropertyID = c.lenient(String.self, .syncedPropertyID)
            syncedPropertyName = c.lenient(String.self, .syncedPropertyName)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataSourceID = c.optionalNotionID(.dataSourceID)
        databaseID = c.optionalNotionID(.databaseID)
        let type = c.lenient(String.self, .type)
        // The `type` key is optional on the dual variant: branch on the presence of the key.
        if let dual = c.lenient(Dual.self, .dualProperty), let syncedID = dual.syncedPropertyID {
            kind = .dual(syncedPropertyID: syncedID, syncedPropertyName: dual.syncedPropertyName ?? "")
        } else if type == "single_property" || (type == nil && c.contains(.singleProperty)) {
            kind = .single
        } else {
            kind = .unknown(type ?? "")
        }
    }
}

/// Property ids are compared as returned and, failing that, percent-decoded on both sides.
enum PropertyIDs {
    static func same(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let da = a.removingPercentEncoding, let db = b.removingPercentEncoding else { return false }
        return da == db
    }
}
