public import Foundation

/// Text styling of one rich-text element, as in Notion's `annotations` object.
public struct Annotations: Sendable, Equatable {
    public var bold = false
    public var italic = false
    public var strikethrough = false
    public var underline = false
    public var code = false
    public var color = "default"

    public init(bold: Bool = false, italic: Bool = false, strikethrough: Bool = false, underline: Bool = false,
                code: Bool = false, color: String = "default") {
        self.bold = bold
        self.italic = italic
        self.strikethrough = strikethrough
        self.underline = underline
        self.code = code
        self.color = color
    }

    public static let plain = Annotations()

    static let colors: Set<String> = [
        "default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red",
        "gray_background", "brown_background", "orange_background", "yellow_background", "green_background",
        "blue_background", "purple_background", "pink_background", "red_background",
    ]
}

/// One element of a title or rich_text value.
public struct RichTextItem: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case text(String, link: String?)
        case pageMention(UUID)
        case userMention(UUID)
        case databaseMention(UUID)
        case dateMention(start: String, end: String?, timeZone: String?)
        case equation(String)
    }

    public var content: Content
    public var annotations: Annotations

    public init(_ content: Content, annotations: Annotations = .plain) {
        self.content = content
        self.annotations = annotations
    }

    public static func text(_ text: String, link: String? = nil) -> RichTextItem {
        RichTextItem(.text(text, link: link))
    }

    public static func mention(page: UUID) -> RichTextItem {
        RichTextItem(.pageMention(page))
    }

    var isPageOrUserMention: Bool {
        switch content {
        case .pageMention, .userMention: return true
        default: return false
        }
    }
}

/// The property types the simulator models.
public enum PropertyType: String, Sendable, Codable, CaseIterable {
    case title
    case richText = "rich_text"
    case number
    case select
    case checkbox
    case relation
}

struct SelectOption: Sendable, Equatable {
    var id: String
    var name: String
    var color: String
}

struct RelationSchema: Sendable, Equatable {
    var targetDataSourceID: UUID
    /// The encoded id of the synced (back-relation) property on the target, for dual relations.
    var syncedPropertyID: String?
}

enum PropertyKind: Sendable, Equatable {
    case title
    case richText
    case number
    case select(options: [SelectOption])
    case checkbox
    case relation(RelationSchema)

    var type: PropertyType {
        switch self {
        case .title: return .title
        case .richText: return .richText
        case .number: return .number
        case .select: return .select
        case .checkbox: return .checkbox
        case .relation: return .relation
        }
    }
}

struct PropertyRecord: Sendable {
    /// The id as Notion returns it: URL-encoded.
    var id: String
    /// The id with its percent-encoding removed once.
    var decodedID: String
    var name: String
    var kind: PropertyKind

    var relation: RelationSchema? {
        if case .relation(let schema) = kind { return schema }
        return nil
    }
}

enum StoredValue: Sendable, Equatable {
    case richText([RichTextItem])
    case number(Double?)
    case select(String?)  // option id
    case checkbox(Bool)
    case relation([UUID])
}

struct PageRecord: Sendable {
    var id: UUID
    var dataSourceID: UUID
    var createdTime: Millis
    var createdBy: UUID
    var lastEditedTime: Millis
    var lastEditedBy: UUID
    var inTrash = false
    var isArchived = false
    var isLocked = false
    /// Keyed by the property's encoded id.
    var values: [String: StoredValue] = [:]

    func richText(_ propertyID: String) -> [RichTextItem] {
        if case .richText(let items)? = values[propertyID] { return items }
        return []
    }

    func relation(_ propertyID: String) -> [UUID] {
        if case .relation(let ids)? = values[propertyID] { return ids }
        return []
    }
}

struct DataSourceRecord: Sendable {
    var id: UUID
    var databaseID: UUID
    var name: String
    var properties: [PropertyRecord]
    var createdTime: Millis
    var lastEditedTime: Millis
    /// Pages in creation order.
    var pageIDs: [UUID] = []

    func property(id: String) -> PropertyRecord? { properties.first { $0.id == id } }

    /// Resolves a reference as clients send it: a name, the encoded id, or the decoded id.
    func property(reference: String) -> PropertyRecord? {
        properties.first { $0.name == reference }
            ?? properties.first { $0.id == reference }
            ?? properties.first { $0.decodedID == reference }
    }

    var titleProperty: PropertyRecord { properties.first { $0.kind == .title }! }
}

struct DatabaseRecord: Sendable {
    var id: UUID
    var name: String
    var shared: Bool
    var parentPageID: UUID
    var dataSourceIDs: [UUID] = []
    var createdTime: Millis
    var lastEditedTime: Millis
}

/// The whole simulated workspace: plain data, no I/O. `SimulatorEngine` owns one.
struct Workspace: Sendable {
    var seed: UInt64
    var workspaceID: UUID
    var workspaceName: String
    var botUserID: UUID
    var botName: String
    /// People who "edit in the Notion app": the authors of pages and of engine mutations.
    var people: [(id: UUID, name: String)] = []
    var databases: [UUID: DatabaseRecord] = [:]
    var databaseOrder: [UUID] = []
    var dataSources: [UUID: DataSourceRecord] = [:]
    var dataSourceOrder: [UUID] = []
    var pages: [UUID: PageRecord] = [:]
    /// Bumped on every change; query results are cached per version.
    var version = 0
    var rng: SeededGenerator
    /// The created_time the next built page gets.
    var nextCreatedTime: Millis

    init(seed: UInt64, workspaceName: String, botName: String, startTime: Millis) {
        self.seed = seed
        self.rng = SeededGenerator(seed: seed, stream: "workspace")
        self.workspaceName = workspaceName
        self.botName = botName
        self.nextCreatedTime = startTime
        self.workspaceID = rng.uuid()
        self.botUserID = rng.uuid()
        for name in ["Ada Lovelace", "Grace Hopper", "Alan Turing"] {
            people.append((rng.uuid(), name))
        }
    }

    var defaultEditor: UUID { people[0].id }

    func isVisible(dataSource id: UUID) -> Bool {
        guard let source = dataSources[id], let database = databases[source.databaseID] else { return false }
        return database.shared
    }

    /// Whether the integration can see this page as a relation target or mention.
    func isVisibleTarget(_ id: UUID) -> Bool {
        guard let page = pages[id], !page.inTrash else { return false }
        return isVisible(dataSource: page.dataSourceID)
    }

    /// The relation list a client can observe: trashed targets and targets the integration
    /// cannot see are left out.
    func visibleRelation(_ page: PageRecord, _ propertyID: String) -> [UUID] {
        page.relation(propertyID).filter(isVisibleTarget)
    }

    func title(of pageID: UUID) -> String {
        guard let page = pages[pageID], let source = dataSources[page.dataSourceID] else { return "" }
        return plainText(page.richText(source.titleProperty.id))
    }

    func plainText(_ items: [RichTextItem]) -> String {
        items.map(plainText).joined()
    }

    func plainText(_ item: RichTextItem) -> String {
        switch item.content {
        case .text(let text, _): return text
        case .pageMention(let id):
            let visible = pages[id].map { isVisible(dataSource: $0.dataSourceID) } ?? false
            return visible ? title(of: id) : "Untitled"
        case .userMention(let id):
            if id == botUserID { return "@" + botName }
            return "@" + (people.first { $0.id == id }?.name ?? "Anonymous")
        case .databaseMention(let id): return databases[id]?.name ?? "Untitled"
        case .dateMention(let start, let end, _): return end.map { "\(start) → \($0)" } ?? start
        case .equation(let expression): return expression
        }
    }
}
