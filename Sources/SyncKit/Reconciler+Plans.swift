import NotionClient
import ReconcilerCore

/// Resolving the config against Notion: which data sources, relations and summary properties.
extension Reconciler {
    /// A configured data source with what to materialize and what to write back.
    struct Plan {
        var schema: NotionDataSource
        var relations: [PropertySchema]
        var writeBacks: [WriteBackPlan]
    }

    struct WriteBackPlan {
        var relation: PropertySchema
        var property: PropertySchema
        var format: RelsyncConfiguration.SummaryFormat
    }

    /// A data source relations point into that is not configured itself: read for titles and
    /// for the back side of dual relations.
    struct TargetPlan {
        var id: String
        var backProperties: [String]
    }

    func resolvePlans(client: NotionClient) async throws -> [Plan] {
        var plans: [Plan] = []
        for (index, entry) in configuration.sync.enumerated() {
            let schemas: [NotionDataSource]
            switch entry.source {
            case .dataSource(let id):
                schemas = [try await retrieveConfiguredDataSource(id, entry: index, client: client)]
            case .database(let id):
                let database = try await retrieveConfiguredDatabase(id, entry: index, client: client)
                var list: [NotionDataSource] = []
                for reference in database.dataSources {
                    list.append(try await client.retrieveDataSource(reference.id))
                }
                schemas = list
            }
            for schema in schemas {
                if plans.contains(where: { $0.schema.id == schema.id }) {
                    throw ConfigError(
                        file: configuration.path, line: entry.line,
                        "sync[\(index)] repeats data source \(schema.id) (\"\(schema.title)\") listed earlier")
                }
                let relations = try selectRelations(schema, entry: entry, index: index)
                let writeBacks = try await selectWriteBacks(schema, relations: relations, entry: entry, index: index, client: client)
                plans.append(Plan(schema: schema, relations: relations, writeBacks: writeBacks))
            }
        }
        return plans
    }

    func retrieveConfiguredDataSource(_ id: String, entry: Int, client: NotionClient) async throws -> NotionDataSource {
        do {
            return try await client.retrieveDataSource(id)
        } catch let error as NotionError where error.status == 404 {
            // Is it a database id given where a data source id belongs?
            if let database = try? await client.retrieveDatabase(id) {
                let choices = database.dataSources.map { "\($0.id) (\"\($0.name)\")" }.joined(separator: ", ")
                throw ConfigError(
                    file: configuration.path, line: configuration.sync[entry].line,
                    "sync[\(entry)].data_source \(id) is a database (\"\(database.title)\"), not a data source: write database: \(id), or data_source: one of \(choices)")
            }
            throw SyncError.sourceNotFound(kind: "data source", id: id)
        }
    }

    func retrieveConfiguredDatabase(_ id: String, entry: Int, client: NotionClient) async throws -> NotionDatabase {
        do {
            return try await client.retrieveDatabase(id)
        } catch let error as NotionError where error.status == 404 {
            if let dataSource = try? await client.retrieveDataSource(id) {
                throw ConfigError(
                    file: configuration.path, line: configuration.sync[entry].line,
                    "sync[\(entry)].database \(id) is a data source (\"\(dataSource.title)\"), not a database: write data_source: \(id)")
            }
            throw SyncError.sourceNotFound(kind: "database", id: id)
        }
    }

    func selectRelations(_ schema: NotionDataSource, entry: RelsyncConfiguration.SyncEntry, index: Int) throws -> [PropertySchema] {
        let relations = schema.properties.filter { $0.type == "relation" }
        guard let wanted = entry.relations else { return relations }
        var selected: [PropertySchema] = []
        for name in wanted {
            guard let property = schema.property(named: name) else {
                let available = relations.map { "\"\($0.name)\"" }.joined(separator: ", ")
                throw ConfigError(
                    file: configuration.path, line: entry.line,
                    "sync[\(index)].relations: data source \"\(schema.title)\" has no property \"\(name)\" (its relations: \(available.isEmpty ? "none" : available))")
            }
            guard property.type == "relation" else {
                throw ConfigError(
                    file: configuration.path, line: entry.line,
                    "sync[\(index)].relations: \"\(name)\" in data source \"\(schema.title)\" is a \(property.type) property, not a relation")
            }
            if !selected.contains(where: { $0.id == property.id }) { selected.append(property) }
        }
        return selected
    }

    func selectWriteBacks(
        _ schema: NotionDataSource, relations: [PropertySchema], entry: RelsyncConfiguration.SyncEntry, index: Int,
        client: NotionClient
    ) async throws -> [WriteBackPlan] {
        var plans: [WriteBackPlan] = []
        for (j, writeBack) in entry.writeBack.enumerated() {
            let at = "sync[\(index)].write_back[\(j)]"
            guard let relation = relations.first(where: { $0.name == writeBack.relation }) else {
                if let other = schema.property(named: writeBack.relation) {
                    throw ConfigError(
                        file: configuration.path, line: entry.line,
                        other.type == "relation"
                            ? "\(at).relation \"\(writeBack.relation)\" is not among the relations synced for \"\(schema.title)\""
                            : "\(at).relation \"\(writeBack.relation)\" is a \(other.type) property, not a relation")
                }
                throw ConfigError(
                    file: configuration.path, line: entry.line,
                    "\(at).relation: data source \"\(schema.title)\" has no property \"\(writeBack.relation)\"")
            }
            guard let property = schema.property(named: writeBack.property) else {
                // A property of the relation's other side, perhaps: say so.
                if let target = relation.relation?.dataSourceID, target != schema.id,
                    let targetSchema = try? await client.retrieveDataSource(target),
                    targetSchema.property(named: writeBack.property) != nil
                {
                    throw ConfigError(
                        file: configuration.path, line: entry.line,
                        "\(at).property \"\(writeBack.property)\" lives on data source \"\(targetSchema.title)\" (the relation's target), not on \"\(schema.title)\": summaries are written into a Text property of the source data source")
                }
                throw ConfigError(
                    file: configuration.path, line: entry.line,
                    "\(at).property: data source \"\(schema.title)\" has no property \"\(writeBack.property)\" (create a Text property of that name, or fix the name)")
            }
            guard property.type == "rich_text" else {
                throw ConfigError(
                    file: configuration.path, line: entry.line,
                    "\(at).property \"\(writeBack.property)\" is a \(property.type) property; summaries go into a rich_text (Text) property")
            }
            if plans.contains(where: { $0.property.id == property.id }) {
                throw ConfigError(
                    file: configuration.path, line: entry.line,
                    "\(at).property \"\(writeBack.property)\" is written by two write_back entries")
            }
            plans.append(WriteBackPlan(relation: relation, property: property, format: writeBack.format))
        }
        return plans
    }

    /// Join view names for every configured relation, keyed by data source id + NUL + property id.
    func joinViewNames(_ plans: [Plan]) -> [String: String] {
        var relations: [JoinViewNaming.Relation] = []
        for plan in plans {
            for property in plan.relations {
                relations.append(.init(
                    dataSourceID: plan.schema.id, dataSourceName: plan.schema.title,
                    propertyID: property.id, propertyName: property.name))
            }
        }
        var result: [String: String] = [:]
        for (relation, name) in JoinViewNaming.names(for: relations) {
            result[relation.dataSourceID + "\u{0}" + relation.propertyID] = name
        }
        return result
    }

    /// Configured data sources in the groups they are walked in: those joined (directly or
    /// through others) by a dual relation whose target is configured too form one group, walked
    /// together before any is completed; every other data source is a group of its own, so only
    /// one data source's pages are held at a time. Groups and members keep the config's order.
    func walkGroups(_ plans: [Plan]) -> [[Int]] {
        var parent = Array(plans.indices)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { i = parent[i] }
            return i
        }
        let index = Dictionary(plans.enumerated().map { ($0.element.schema.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
        for (i, plan) in plans.enumerated() {
            for relation in plan.relations where relation.relation?.kind.isDual == true {
                guard let target = relation.relation?.dataSourceID, let j = index[target] else { continue }
                let (a, b) = (root(i), root(j))
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var groups: [Int: [Int]] = [:]
        for i in plans.indices { groups[root(i), default: []].append(i) }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// Data sources relations point into that no sync entry names.
    func targetPlans(_ plans: [Plan]) -> [TargetPlan] {
        let configured = Set(plans.map(\.schema.id))
        var targets: [TargetPlan] = []
        for plan in plans {
            for relation in plan.relations {
                guard let target = relation.relation?.dataSourceID, !configured.contains(target) else { continue }
                if !targets.contains(where: { $0.id == target }) {
                    targets.append(TargetPlan(id: target, backProperties: backProperties(of: target, plans)))
                }
            }
        }
        return targets
    }

    /// The back-relation properties on `dataSourceID` of configured dual relations pointing at it.
    func backProperties(of dataSourceID: String, _ plans: [Plan]) -> [String] {
        var result: [String] = []
        for plan in plans {
            for relation in plan.relations where relation.relation?.dataSourceID == dataSourceID {
                if let synced = relation.relation?.kind.synced, !result.contains(synced.id) { result.append(synced.id) }
            }
        }
        return result
    }
}
