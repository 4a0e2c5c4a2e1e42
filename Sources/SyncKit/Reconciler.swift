public import Foundation
public import Logging
import NotionClient
import PostgresStore
import ReconcilerCore
public import TransportKit

/// What a run should do.
public struct ReconcileOptions: Sendable {
    /// Read every page of every configured data source (the only mode this build has).
    public var full: Bool
    /// Read Notion and plan the PostgreSQL changes, then roll them back: nothing is written.
    public var dryRun: Bool
    /// Skip the write-back phase.
    public var writeBack: Bool

    public init(full: Bool = true, dryRun: Bool = false, writeBack: Bool = true) {
        self.full = full
        self.dryRun = dryRun
        self.writeBack = writeBack
    }
}

/// Progress of a long run, for a terminal.
public enum ProgressEvent: Sendable {
    case readingDataSource(name: String, index: Int, count: Int)
    case pagesRead(name: String, pages: Int)
    case completingRelations(name: String, done: Int, total: Int)
    case applying(name: String)
}

/// The core run: read every configured relation completely, apply it to PostgreSQL.
///
/// Per configured data source: one query walk (title + relation properties only), then the
/// property-item walk for each relation Notion truncated at 25, a few in flight; then one
/// transaction applies pages and edges as a set-based diff. Data sources that relations point
/// into are read for their titles (one query walk each, title only).
public struct Reconciler: Sendable {
    public let configuration: RelsyncConfiguration
    let transport: any HTTPTransport
    let logger: Logger
    let progress: (@Sendable (ProgressEvent) -> Void)?

    public init(
        configuration: RelsyncConfiguration,
        transport: any HTTPTransport,
        logger: Logger,
        progress: (@Sendable (ProgressEvent) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
        self.progress = progress
    }

    static let queryEndpoint = "POST /v1/data_sources/{id}/query"
    static let propertyItemEndpoint = "GET /v1/pages/{id}/properties/{property_id}"

    public func run(_ options: ReconcileOptions) async throws -> RunSummary {
        let started = Date()
        // Connect first (an unreachable PostgreSQL fails fast), then prove the token and resolve
        // the config against Notion before anything is written: a bad token, an unknown data
        // source or a wrong relation name leaves PostgreSQL untouched.
        let store = try await openStore()
        defer { store.close() }
        let client = NotionClient(configuration: notionConfiguration, transport: transport, logger: logger)
        _ = try await client.me()
        let plans = try await resolvePlans(client: client)

        if options.dryRun {
            let pending = try await store.pendingMigrations()
            if !pending.isEmpty { throw SyncError.migrationsPending(pending) }
        } else {
            let applied = try await store.migrate()
            if !applied.isEmpty { logger.notice("applied migrations", metadata: ["db.migrations": "\(applied)"]) }
        }
        guard try await store.tryAdvisoryLock(lockName) else {
            throw SyncError.lockHeld(schema: configuration.postgres.schema)
        }

        let mode = options.full ? "full" : "incremental"
        let runID = options.dryRun ? nil : try await store.beginRun(mode: mode)
        var logger = self.logger
        if let runID { logger[metadataKey: "sync.run_id"] = "\(runID)" }

        var run = RunState()
        do {
            try await reconcile(plans, client: client, store: store, runID: runID, options: options, run: &run, logger: logger)
        } catch {
            if let runID {
                let stats = client.statistics()
                try? await store.finishRun(
                    runID, outcome: "failed", error: Redactor(configuration.secrets).scrub(String(describing: error)),
                    apiCalls: stats.requestsByEndpoint, rateLimited: stats.rateLimited, retries: stats.retries,
                    pagesRead: run.pagesRead, edgesAdded: run.edgesAdded, edgesRemoved: run.edgesRemoved)
            }
            throw error
        }

        let stats = client.statistics()
        if let runID {
            try await store.finishRun(
                runID, outcome: "succeeded", error: nil, apiCalls: stats.requestsByEndpoint,
                rateLimited: stats.rateLimited, retries: stats.retries, pagesRead: run.pagesRead,
                edgesAdded: run.edgesAdded, edgesRemoved: run.edgesRemoved)
        }
        let dataCalls = (stats.requestsByEndpoint[Self.queryEndpoint] ?? 0)
            + (stats.requestsByEndpoint[Self.propertyItemEndpoint] ?? 0)
        let optimum = ForwardPaginationOptimum.calls(
            pagesPerDataSource: run.pagesPerDataSource, truncatedRelationSizes: run.truncatedRelationSizes)
        let counts = options.dryRun ? nil : try await store.counts()
        return RunSummary(
            runID: runID, mode: mode, dryRun: options.dryRun, startedAt: started,
            durationSeconds: Date().timeIntervalSince(started), dataSources: run.dataSources,
            pagesRead: run.pagesRead, edgesAdded: run.edgesAdded, edgesRemoved: run.edgesRemoved,
            edgesRepositioned: run.edgesRepositioned,
            edgesTotal: counts?.edges ?? run.dataSources.flatMap(\.relations).reduce(0) { $0 + $1.edges },
            apiCalls: stats.requestsByEndpoint, apiCallsTotal: stats.totalRequests, dataCalls: dataCalls,
            forwardOptimum: optimum, retries: stats.retries, rateLimited: stats.rateLimited, warnings: run.warnings)
    }

    /// Applies pending migrations only.
    public func migrate() async throws -> [String] {
        let store = try await openStore()
        defer { store.close() }
        return try await store.migrate()
    }

    // MARK: - The run

    struct RunState {
        var dataSources: [RunSummary.DataSource] = []
        var pagesRead = 0
        var edgesAdded = 0
        var edgesRemoved = 0
        var edgesRepositioned = 0
        var pagesPerDataSource: [Int] = []
        var truncatedRelationSizes: [Int] = []
        var warnings: [String] = []
    }

    /// A configured data source with the relations to materialize.
    struct Plan {
        var schema: NotionDataSource
        var relations: [PropertySchema]
    }

    func reconcile(
        _ plans: [Plan], client: NotionClient, store: PostgresStore, runID: Int64?, options: ReconcileOptions,
        run: inout RunState, logger: Logger
    ) async throws {
        let names = joinViewNames(plans)
        if configuration.sync.contains(where: { !$0.writeBack.isEmpty }) && options.writeBack {
            run.warnings.append("write_back is configured, but this build only reads relations; summaries were not written")
        }

        for (index, plan) in plans.enumerated() {
            progress?(.readingDataSource(name: plan.schema.title, index: index + 1, count: plans.count))
            let snapshot = try await readConfigured(plan, names: names, client: client, run: &run, logger: logger)
            progress?(.applying(name: plan.schema.title))
            try await apply(snapshot.snapshot, summary: snapshot.summary, store: store, runID: runID, options: options, run: &run)
        }

        // Relation targets outside the configured set: read their titles.
        let configured = Set(plans.map(\.schema.id))
        var targets: [String] = []
        for plan in plans {
            for relation in plan.relations {
                if let target = relation.relation?.dataSourceID, !configured.contains(target), !targets.contains(target) {
                    targets.append(target)
                }
            }
        }
        for (index, target) in targets.enumerated() {
            progress?(.readingDataSource(name: "relation targets", index: index + 1, count: targets.count))
            guard let read = try await readTarget(target, client: client, run: &run, logger: logger) else { continue }
            try await apply(read.snapshot, summary: read.summary, store: store, runID: runID, options: options, run: &run)
        }
    }

    func apply(
        _ snapshot: DataSourceSnapshot, summary: RunSummary.DataSource, store: PostgresStore, runID: Int64?,
        options: ReconcileOptions, run: inout RunState
    ) async throws {
        let result = try await store.apply(snapshot, runID: runID, dryRun: options.dryRun)
        run.edgesAdded += result.edgesAdded
        run.edgesRemoved += result.edgesRemoved
        run.edgesRepositioned += result.edgesRepositioned
        var summary = summary
        summary.pagesTrashed = result.pagesTrashed
        run.dataSources.append(summary)
        logger.info(
            "applied data source",
            metadata: [
                "notion.data_source_id": "\(snapshot.dataSource.id)", "pages.upserted": "\(result.pagesUpserted)",
                "pages.trashed": "\(result.pagesTrashed)", "edges.inserted": "\(result.edgesAdded)",
                "edges.removed": "\(result.edgesRemoved)", "edges.repositioned": "\(result.edgesRepositioned)",
            ])
    }

    // MARK: - Resolving the config against Notion

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
                    throw ConfigError(file: configuration.path, line: entry.line, "sync[\(index)] repeats data source \(schema.id) (\"\(schema.title)\") listed earlier")
                }
                plans.append(Plan(schema: schema, relations: try selectRelations(schema, entry: entry, index: index)))
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
        for writeBack in entry.writeBack {
            guard let target = schema.property(named: writeBack.property) else {
                throw ConfigError(
                    file: configuration.path, line: entry.line,
                    "sync[\(index)].write_back: data source \"\(schema.title)\" has no property \"\(writeBack.property)\"")
            }
            guard target.type == "rich_text" else {
                throw ConfigError(
                    file: configuration.path, line: entry.line,
                    "sync[\(index)].write_back: \"\(writeBack.property)\" is a \(target.type) property; summaries go into a rich_text (Text) property")
            }
        }
        return selected
    }

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

    // MARK: - Reading Notion

    struct Read {
        var snapshot: DataSourceSnapshot
        var summary: RunSummary.DataSource
    }

    /// One page as read, before relation completion.
    struct PageRead {
        var row: PageRow
        /// propertyID → (inline ids, has_more)
        var relations: [String: (ids: [String], hasMore: Bool)]
    }

    func readConfigured(_ plan: Plan, names: [String: String], client: NotionClient, run: inout RunState, logger: Logger) async throws -> Read {
        let schema = plan.schema
        guard let dataSourceUUID = UUID(uuidString: schema.id) else {
            throw NotionError(.invalidID(schema.id))
        }
        let propertyIDs = [schema.titlePropertyID] + plan.relations.map(\.id)
        var pages: [PageRead] = []
        for try await page in client.queryDataSource(schema.id, filterProperties: propertyIDs) {
            guard let row = pageRow(page, dataSourceID: dataSourceUUID) else { continue }
            var relations: [String: (ids: [String], hasMore: Bool)] = [:]
            for property in plan.relations {
                let value = page.property(id: property.id)
                relations[property.id] = (value?.relationIDs ?? [], value?.hasMore ?? false)
            }
            pages.append(PageRead(row: row, relations: relations))
            if pages.count % 100 == 0 { progress?(.pagesRead(name: schema.title, pages: pages.count)) }
        }
        progress?(.pagesRead(name: schema.title, pages: pages.count))
        run.pagesRead += pages.count
        run.pagesPerDataSource.append(pages.count)

        // Complete every relation Notion cut at 25, a few in flight.
        var work: [(page: Int, propertyID: String)] = []
        for (index, page) in pages.enumerated() {
            for property in plan.relations where page.relations[property.id]?.hasMore == true {
                work.append((index, property.id))
            }
        }
        let completed = try await complete(work, pages: pages, schema: schema, client: client, logger: logger)
        var vanished = Set<Int>()
        for (key, list) in completed where list == nil { vanished.insert(key.page) }
        for (_, list) in completed { if let list { run.truncatedRelationSizes.append(list.count) } }

        var edges: [String: [EdgeRow]] = [:]
        var summaries: [RunSummary.Relation] = []
        for property in plan.relations {
            var rows: [EdgeRow] = []
            var truncatedPages = 0
            for (index, page) in pages.enumerated() where !vanished.contains(index) {
                let inline = page.relations[property.id] ?? ([], false)
                let full = completed[WorkKey(page: index, propertyID: property.id)] ?? nil
                if inline.hasMore { truncatedPages += 1 }
                let targets = try RelationAssembly.targets(
                    pageID: page.row.pageID.uuidString, propertyID: property.id,
                    inline: inline.ids, hasMore: inline.hasMore, completed: full)
                for target in targets {
                    guard let to = UUID(uuidString: target.pageID) else { continue }
                    rows.append(EdgeRow(fromPageID: page.row.pageID, toPageID: to, position: target.position))
                }
            }
            edges[property.id] = rows
            summaries.append(.init(
                propertyID: property.id, name: property.name,
                joinView: names[schema.id + "\u{0}" + property.id] ?? "", edges: rows.count, truncatedPages: truncatedPages))
        }

        let relationRows = plan.relations.map { property in
            RelationRow(
                sourceDataSourceID: dataSourceUUID, propertyID: property.id, propertyName: property.name,
                targetDataSourceID: property.relation?.dataSourceID.flatMap(UUID.init(uuidString:)),
                targetDatabaseID: property.relation?.databaseID.flatMap(UUID.init(uuidString:)),
                kind: property.relation?.kind.isDual == true ? .dual : .single,
                syncedPropertyID: property.relation?.kind.synced?.id,
                syncedPropertyName: property.relation?.kind.synced?.name,
                joinView: names[schema.id + "\u{0}" + property.id] ?? JoinViewNaming.slug(property.name))
        }
        let livePages = pages.enumerated().filter { !vanished.contains($0.offset) }.map(\.element.row)
        let snapshot = DataSourceSnapshot(
            dataSource: DataSourceRow(
                id: dataSourceUUID, databaseID: schema.databaseID.flatMap(UUID.init(uuidString:)),
                name: schema.title, configured: true),
            pages: livePages, relations: relationRows, edges: edges, complete: true)
        let summary = RunSummary.DataSource(
            id: schema.id, name: schema.title, configured: true, pagesRead: pages.count,
            relations: summaries, pagesTrashed: 0)
        return Read(snapshot: snapshot, summary: summary)
    }

    struct WorkKey: Hashable {
        var page: Int
        var propertyID: String
    }

    /// Reads the complete list of each truncated relation. A nil list means the page vanished
    /// (404) between the query and its property-item call.
    func complete(
        _ work: [(page: Int, propertyID: String)], pages: [PageRead], schema: NotionDataSource,
        client: NotionClient, logger: Logger
    ) async throws -> [WorkKey: [String]?] {
        var results: [WorkKey: [String]?] = [:]
        guard !work.isEmpty else { return results }
        let width = max(1, configuration.notion.maxConcurrentRequests)
        try await withThrowingTaskGroup(of: (WorkKey, [String]?).self) { group in
            var next = 0
            func addNext() {
                guard next < work.count else { return }
                let item = work[next]
                let pageID = pages[item.page].row.pageID.uuidString.lowercased()
                let key = WorkKey(page: item.page, propertyID: item.propertyID)
                next += 1
                group.addTask {
                    do {
                        var ids: [String] = []
                        for try await id in client.relationTargets(pageID: pageID, propertyID: item.propertyID) {
                            ids.append(id)
                        }
                        return (key, ids)
                    } catch let error as NotionError where error.status == 404 {
                        logger.notice("page vanished before its relation was read", metadata: ["notion.page_id": "\(pageID)"])
                        return (key, nil)
                    }
                }
            }
            for _ in 0..<min(width, work.count) { addNext() }
            var done = 0
            while let (key, ids) = try await group.next() {
                results[key] = .some(ids)
                done += 1
                if done % 10 == 0 || done == work.count {
                    progress?(.completingRelations(name: schema.title, done: done, total: work.count))
                }
                addNext()
            }
        }
        return results
    }

    /// Reads a data source that relations point into, for its page titles. nil when Notion
    /// does not share it with the integration: a partial result, reported, not fatal.
    func readTarget(_ id: String, client: NotionClient, run: inout RunState, logger: Logger) async throws -> Read? {
        let schema: NotionDataSource
        do {
            schema = try await client.retrieveDataSource(id)
        } catch let error as NotionError where error.status == 404 || error.status == 403 {
            run.warnings.append("relation target data source \(id) is not shared with the integration; its pages have no titles in PostgreSQL")
            logger.warning("relation target not shared", metadata: ["notion.data_source_id": "\(id)"])
            return nil
        }
        guard let dataSourceUUID = UUID(uuidString: schema.id) else { throw NotionError(.invalidID(schema.id)) }
        var rows: [PageRow] = []
        for try await page in client.queryDataSource(schema.id, filterProperties: [schema.titlePropertyID]) {
            if let row = pageRow(page, dataSourceID: dataSourceUUID) { rows.append(row) }
        }
        run.pagesRead += rows.count
        run.pagesPerDataSource.append(rows.count)
        let snapshot = DataSourceSnapshot(
            dataSource: DataSourceRow(
                id: dataSourceUUID, databaseID: schema.databaseID.flatMap(UUID.init(uuidString:)),
                name: schema.title, configured: false),
            pages: rows, relations: [], edges: [:], complete: true)
        return Read(
            snapshot: snapshot,
            summary: .init(id: schema.id, name: schema.title, configured: false, pagesRead: rows.count, relations: [], pagesTrashed: 0))
    }

    func pageRow(_ page: NotionPage, dataSourceID: UUID) -> PageRow? {
        guard let id = UUID(uuidString: page.id) else { return nil }
        return PageRow(
            pageID: id, dataSourceID: dataSourceID, title: page.title, url: page.url,
            createdTime: page.createdTime, lastEditedTime: page.lastEditedTime,
            lastEditedBy: page.lastEditedByID.flatMap(UUID.init(uuidString:)), inTrash: page.inTrash)
    }

    // MARK: - Wiring

    func openStore() async throws -> PostgresStore {
        try await PostgresStore.open(
            StoreConfiguration(
                url: configuration.postgres.url, schema: configuration.postgres.schema,
                viewsSchema: configuration.postgres.viewsSchema),
            logger: logger)
    }

    var notionConfiguration: NotionConfiguration {
        var c = NotionConfiguration(token: configuration.notion.token)
        c.baseURL = configuration.notion.baseURL
        c.version = configuration.notion.version
        c.rateLimit = configuration.notion.rateLimit
        c.maxConcurrentRequests = configuration.notion.maxConcurrentRequests
        c.timeout = .seconds(configuration.notion.timeoutSeconds)
        c.retry.maxAttempts = configuration.notion.maxAttempts
        return c
    }

    /// One lock per schema and set of configured sources: overlapping runs of the same
    /// config exit 75 instead of colliding.
    var lockName: String {
        let sources = configuration.sync.map { entry -> String in
            switch entry.source {
            case .dataSource(let id): return "ds:" + id
            case .database(let id): return "db:" + id
            }
        }.sorted()
        return "relsync:" + configuration.postgres.schema + ":" + sources.joined(separator: ",")
    }
}

extension RelationSchema.Kind {
    var isDual: Bool {
        if case .dual = self { return true }
        return false
    }

    var synced: (id: String, name: String)? {
        if case .dual(let id, let name) = self { return (id, name) }
        return nil
    }
}
