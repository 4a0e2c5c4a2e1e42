public import Foundation

/// Where and how PostgresStore keeps relsync's data.
public struct StoreConfiguration: Sendable, CustomStringConvertible {
    /// A libpq URI or `key=value` conninfo string; `nil`: libpq's `PG*` environment variables.
    public var url: String?
    /// The schema of relsync's tables (`postgres.schema`).
    public var schema: String
    /// The schema of the per-relation join views (`postgres.views_schema`).
    public var viewsSchema: String
    /// `application_name` reported to the server (unless the URL or `PGAPPNAME` sets one).
    public var applicationName: String

    public init(url: String? = nil, schema: String = "relsync", viewsSchema: String = "notion", applicationName: String = "relsync") {
        self.url = url
        self.schema = schema
        self.viewsSchema = viewsSchema
        self.applicationName = applicationName
    }

    /// Never shows the URL (it may hold a password).
    public var description: String {
        "StoreConfiguration(url: \(url == nil ? "nil" : "<set>"), schema: \(schema), viewsSchema: \(viewsSchema))"
    }
}

/// A Notion data source as stored in `data_sources`.
public struct DataSourceRow: Sendable, Hashable {
    public var id: UUID
    public var databaseID: UUID?
    public var name: String
    /// Listed under `sync:` (false: read only for the titles of relation targets).
    public var configured: Bool

    public init(id: UUID, databaseID: UUID?, name: String, configured: Bool) {
        self.id = id
        self.databaseID = databaseID
        self.name = name
        self.configured = configured
    }
}

/// A Notion page as stored in `pages`.
public struct PageRow: Sendable, Hashable {
    public var pageID: UUID
    public var dataSourceID: UUID
    public var title: String
    public var url: String?
    public var createdTime: Date?
    public var lastEditedTime: Date?
    public var lastEditedBy: UUID?
    public var inTrash: Bool

    public init(
        pageID: UUID, dataSourceID: UUID, title: String, url: String? = nil, createdTime: Date? = nil,
        lastEditedTime: Date? = nil, lastEditedBy: UUID? = nil, inTrash: Bool = false
    ) {
        self.pageID = pageID
        self.dataSourceID = dataSourceID
        self.title = title
        self.url = url
        self.createdTime = createdTime
        self.lastEditedTime = lastEditedTime
        self.lastEditedBy = lastEditedBy
        self.inTrash = inTrash
    }
}

public enum RelationKind: String, Sendable, Hashable {
    case single, dual
}

/// A relation property as stored in the `relations` catalog.
public struct RelationRow: Sendable, Hashable {
    public var sourceDataSourceID: UUID
    /// Notion's property id, exactly as Notion returns it (possibly URL-encoded).
    public var propertyID: String
    public var propertyName: String
    public var targetDataSourceID: UUID?
    public var targetDatabaseID: UUID?
    public var kind: RelationKind
    public var syncedPropertyID: String?
    public var syncedPropertyName: String?
    /// The join view's name in the views schema, unquoted; at most 63 bytes of UTF-8.
    public var joinView: String
    /// The join view's column naming the page that holds the relation.
    public var fromColumn: String
    /// The join view's column naming the related page.
    public var toColumn: String

    public init(
        sourceDataSourceID: UUID, propertyID: String, propertyName: String, targetDataSourceID: UUID?,
        targetDatabaseID: UUID? = nil, kind: RelationKind, syncedPropertyID: String? = nil,
        syncedPropertyName: String? = nil, joinView: String, fromColumn: String = "from_page_id",
        toColumn: String = "to_page_id"
    ) {
        self.fromColumn = fromColumn
        self.toColumn = toColumn
        self.sourceDataSourceID = sourceDataSourceID
        self.propertyID = propertyID
        self.propertyName = propertyName
        self.targetDataSourceID = targetDataSourceID
        self.targetDatabaseID = targetDatabaseID
        self.kind = kind
        self.syncedPropertyID = syncedPropertyID
        self.syncedPropertyName = syncedPropertyName
        self.joinView = joinView
    }
}

/// One edge of a relation: `fromPageID` links to `toPageID`.
///
/// 36 bytes: a data source's whole edge set is held until its apply, so the position is kept
/// as an `Int32` (-1 for unknown) rather than an `Int?` (48 bytes a row with padding).
public struct EdgeRow: Sendable, Hashable {
    public var fromPageID: UUID
    public var toPageID: UUID
    private var storedPosition: Int32

    /// 0-based index in Notion's relation list; `nil` where the order is unknown.
    public var position: Int? {
        get { storedPosition < 0 ? nil : Int(storedPosition) }
        set { storedPosition = newValue.map { Int32(clamping: $0) } ?? -1 }
    }

    public init(fromPageID: UUID, toPageID: UUID, position: Int?) {
        self.fromPageID = fromPageID
        self.toPageID = toPageID
        self.storedPosition = position.map { Int32(clamping: $0) } ?? -1
    }
}

/// What one read of a data source found, applied by `PostgresStore.apply` in one transaction.
public struct DataSourceSnapshot: Sendable {
    public var dataSource: DataSourceRow
    /// The pages read in this data source.
    public var pages: [PageRow]
    /// The relations to materialize for this data source (empty for a target read only for titles).
    /// Each one's `sourceDataSourceID` must be `dataSource.id`.
    public var relations: [RelationRow]
    /// Property id → the complete edge list of every page in `pages`. A relation without an
    /// entry has no edges from those pages. Duplicates keep their smallest position.
    public var edges: [String: [EdgeRow]]
    /// A full read: pages of this data source not in `pages` are marked in trash, edges not
    /// present are removed from the whole relation, and relations of this data source absent
    /// from `relations` are dropped with their edges and view. Otherwise only the edges from
    /// `pages` are replaced.
    public var complete: Bool

    public init(
        dataSource: DataSourceRow, pages: [PageRow], relations: [RelationRow], edges: [String: [EdgeRow]],
        complete: Bool
    ) {
        self.dataSource = dataSource
        self.pages = pages
        self.relations = relations
        self.edges = edges
        self.complete = complete
    }
}

/// What `apply` changed.
public struct ApplyResult: Sendable, Hashable {
    /// Pages inserted, or whose stored fields changed.
    public var pagesUpserted: Int
    /// Pages newly marked in trash: reported trashed by Notion, or missing from a complete read.
    public var pagesTrashed: Int
    /// Edges inserted.
    public var edgesAdded: Int
    /// Edges deleted, including those of dropped relations.
    public var edgesRemoved: Int
    /// Edges kept whose position changed.
    public var edgesRepositioned: Int

    public init(pagesUpserted: Int = 0, pagesTrashed: Int = 0, edgesAdded: Int = 0, edgesRemoved: Int = 0, edgesRepositioned: Int = 0) {
        self.pagesUpserted = pagesUpserted
        self.pagesTrashed = pagesTrashed
        self.edgesAdded = edgesAdded
        self.edgesRemoved = edgesRemoved
        self.edgesRepositioned = edgesRepositioned
    }
}

/// Row counts of relsync's tables.
public struct StoreCounts: Sendable, Hashable {
    public var dataSources: Int
    /// All pages, trashed ones included.
    public var pages: Int
    public var relations: Int
    public var edges: Int

    public init(dataSources: Int, pages: Int, relations: Int, edges: Int) {
        self.dataSources = dataSources
        self.pages = pages
        self.relations = relations
        self.edges = edges
    }
}
