public import Foundation

/// One relation list: a page's value of a relation property.
public struct TruthKey: Hashable, Sendable, CustomStringConvertible {
    public let dataSourceID: UUID
    /// The property id as Notion returns it (URL-encoded).
    public let propertyID: String
    public let pageID: UUID

    public init(dataSourceID: UUID, propertyID: String, pageID: UUID) {
        self.dataSourceID = dataSourceID
        self.propertyID = propertyID
        self.pageID = pageID
    }

    public var description: String { "\(dataSourceID)/\(propertyID)/\(pageID)" }
}

/// What a complete, correct reader of the API must end up with.
public struct GroundTruth: Sendable {
    /// For every non-trashed page of every shared data source and every relation property of
    /// it: the complete ordered list of targets a client can see (empty lists included).
    public var relations: [TruthKey: [UUID]]
    /// The title of every page of every shared data source, trashed ones included.
    public var titles: [UUID: String]
    /// Non-trashed pages per shared data source, in creation order.
    public var pages: [UUID: [UUID]]
    public var trashedPages: Set<UUID>

    public func relation(_ dataSourceID: UUID, _ propertyID: String, _ pageID: UUID) -> [UUID]? {
        relations[TruthKey(dataSourceID: dataSourceID, propertyID: propertyID, pageID: pageID)]
    }

    /// The total number of edges.
    public var edgeCount: Int { relations.values.reduce(0) { $0 + $1.count } }
}

extension SimulatorEngine {
    /// What a complete reader must end up with, from the current state of the workspace.
    public func groundTruth() -> GroundTruth { workspace.groundTruth() }
}

extension Workspace {
    func groundTruth() -> GroundTruth {
        var truth = GroundTruth(relations: [:], titles: [:], pages: [:], trashedPages: [])
        for sourceID in dataSourceOrder where isVisible(dataSource: sourceID) {
            let source = dataSources[sourceID]!
            let relationProperties = source.properties.filter { $0.relation != nil }
            var live: [UUID] = []
            for pageID in source.pageIDs {
                let page = pages[pageID]!
                truth.titles[pageID] = title(of: pageID)
                if page.inTrash {
                    truth.trashedPages.insert(pageID)
                    continue
                }
                live.append(pageID)
                for property in relationProperties {
                    truth.relations[TruthKey(dataSourceID: sourceID, propertyID: property.id, pageID: pageID)] =
                        visibleRelation(page, property.id)
                }
            }
            truth.pages[sourceID] = live
        }
        return truth
    }

    /// The ground truth as served by `GET /__sim/truth`.
    func groundTruthJSON() -> JSONValue {
        let truth = groundTruth()
        var sources: [JSONValue] = []
        for sourceID in dataSourceOrder where isVisible(dataSource: sourceID) {
            let source = dataSources[sourceID]!
            let live = truth.pages[sourceID] ?? []
            var relations: [JSONValue] = []
            for property in source.properties where property.relation != nil {
                var edges = JSONObject()
                for pageID in live {
                    let targets = truth.relation(sourceID, property.id, pageID) ?? []
                    edges[IDFormat.dashed(pageID)] = .array(targets.map { .string(IDFormat.dashed($0)) })
                }
                relations.append(.object([
                    "property_id": .string(property.id), "property_name": .string(property.name),
                    "target_data_source_id": .string(IDFormat.dashed(property.relation!.targetDataSourceID)),
                    "edges": .object(edges),
                ]))
            }
            sources.append(.object([
                "id": .string(IDFormat.dashed(sourceID)),
                "name": .string(source.name),
                "database_id": .string(IDFormat.dashed(source.databaseID)),
                "pages": .array(live.map { id in
                    .object([
                        "id": .string(IDFormat.dashed(id)), "title": .string(truth.titles[id] ?? ""),
                        "last_edited_time": .string(Timestamp.notionMinute(pages[id]!.lastEditedTime)),
                    ])
                }),
                "trashed_page_ids": .array(source.pageIDs.filter(truth.trashedPages.contains).map { .string(IDFormat.dashed($0)) }),
                "relations": .array(relations),
            ]))
        }
        return .object(["edge_count": .int(truth.edgeCount), "data_sources": .array(sources)])
    }
}
