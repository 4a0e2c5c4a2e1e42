public import Foundation

/// What a script needs to point a client at a running simulator. Written by `notion-sim
/// --manifest` and served at `GET /__sim/manifest`.
public struct SimulatorManifest: Sendable, Codable, Equatable {
    public struct Relation: Sendable, Codable, Equatable {
        public var dataSourceID: String
        public var databaseID: String
        /// `single_property` or `dual_property`.
        public var type: String
        public var syncedPropertyID: String?
        public var syncedPropertyName: String?

        enum CodingKeys: String, CodingKey {
            case dataSourceID = "data_source_id"
            case databaseID = "database_id"
            case type
            case syncedPropertyID = "synced_property_id"
            case syncedPropertyName = "synced_property_name"
        }
    }

    public struct Property: Sendable, Codable, Equatable {
        /// As Notion returns it: URL-encoded.
        public var id: String
        public var name: String
        public var type: String
        public var relation: Relation?
    }

    public struct DataSource: Sendable, Codable, Equatable {
        public var id: String
        public var databaseID: String
        public var name: String
        public var shared: Bool
        public var pageCount: Int
        public var properties: [Property]

        enum CodingKeys: String, CodingKey {
            case id
            case databaseID = "database_id"
            case name, shared
            case pageCount = "page_count"
            case properties
        }
    }

    public struct Database: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var shared: Bool
        public var dataSourceIDs: [String]

        enum CodingKeys: String, CodingKey {
            case id, name, shared
            case dataSourceIDs = "data_source_ids"
        }
    }

    public var baseURL: String
    public var port: Int?
    public var token: String
    public var notionVersions: [String]
    public var botUserID: String
    public var workspace: String
    public var workspaceName: String
    public var seed: UInt64
    public var databases: [Database]
    public var dataSources: [DataSource]

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url"
        case port, token
        case notionVersions = "notion_versions"
        case botUserID = "bot_user_id"
        case workspace
        case workspaceName = "workspace_name"
        case seed, databases
        case dataSources = "data_sources"
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public func dataSource(named name: String) -> DataSource? { dataSources.first { $0.name == name } }
}

extension SimulatorEngine {
    /// The manifest for this engine, pointing at `configuration.publicBaseURL`.
    public func manifest() -> SimulatorManifest {
        let databases = workspace.databaseOrder.map { id in
            let database = workspace.databases[id]!
            return SimulatorManifest.Database(id: IDFormat.dashed(id), name: database.name, shared: database.shared,
                                              dataSourceIDs: database.dataSourceIDs.map(IDFormat.dashed))
        }
        let sources = workspace.dataSourceOrder.map { id in
            let source = workspace.dataSources[id]!
            let properties = source.properties.map { property in
                var relation: SimulatorManifest.Relation?
                if let schema = property.relation, let target = workspace.dataSources[schema.targetDataSourceID] {
                    let synced = schema.syncedPropertyID.flatMap(target.property(id:))
                    relation = SimulatorManifest.Relation(
                        dataSourceID: IDFormat.dashed(target.id), databaseID: IDFormat.dashed(target.databaseID),
                        type: synced == nil ? "single_property" : "dual_property",
                        syncedPropertyID: synced?.id, syncedPropertyName: synced?.name)
                }
                return SimulatorManifest.Property(id: property.id, name: property.name,
                                                  type: property.kind.type.rawValue, relation: relation)
            }
            return SimulatorManifest.DataSource(
                id: IDFormat.dashed(id), databaseID: IDFormat.dashed(source.databaseID), name: source.name,
                shared: workspace.isVisible(dataSource: id),
                pageCount: source.pageIDs.filter { workspace.pages[$0]?.inTrash == false }.count,
                properties: properties)
        }
        return SimulatorManifest(
            baseURL: configuration.publicBaseURL, port: boundPort, token: configuration.token,
            notionVersions: SimulatorConfiguration.supportedVersions, botUserID: IDFormat.dashed(workspace.botUserID),
            workspace: label, workspaceName: workspace.workspaceName, seed: seed, databases: databases,
            dataSources: sources)
    }
}
