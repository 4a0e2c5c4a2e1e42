import Foundation
public import Logging
import NotionClient
import PostgresStore
import ReconcilerCore
public import TransportKit

/// What a run should do.
public struct ReconcileOptions: Sendable {
    /// Read every page of every configured data source, whatever the sweep schedule says.
    public var full: Bool
    /// Read Notion and plan every change (PostgreSQL and write-back), then make none.
    public var dryRun: Bool
    /// Write summaries back to Notion (when the config asks for them).
    public var writeBack: Bool
    /// How long to wait for another run's lock; nil exits at once (exit code 75).
    public var waitForLock: Duration?
    /// How truncated relations are completed.
    public var relationsStrategy: RelationsStrategy

    public init(
        full: Bool = false, dryRun: Bool = false, writeBack: Bool = true, waitForLock: Duration? = nil,
        relationsStrategy: RelationsStrategy = .auto
    ) {
        self.full = full
        self.dryRun = dryRun
        self.writeBack = writeBack
        self.waitForLock = waitForLock
        self.relationsStrategy = relationsStrategy
    }
}

/// How a relation Notion cut at 25 is completed.
public enum RelationsStrategy: String, Sendable, CaseIterable {
    /// From the other side of a dual relation where that is provably complete (no call),
    /// otherwise by the property-item endpoint.
    case auto
    /// Always by the property-item endpoint: every position known.
    case paginate
}

/// Progress of a long run, for a terminal.
public enum ProgressEvent: Sendable {
    case readingDataSource(name: String, index: Int, count: Int)
    case pagesRead(name: String, pages: Int)
    case completingRelations(name: String, done: Int, total: Int)
    case applying(name: String)
    case writingSummaries(done: Int, total: Int)
}

/// One run: read what changed in Notion (everything, on a full sweep), complete every relation
/// Notion cut at 25, apply it to PostgreSQL, then write the summaries that changed back.
///
/// Per configured data source: one query walk (title, relation and summary properties only;
/// `last_edited_time on_or_after` the watermark minus an overlap when incremental), then the
/// property-item walk for each relation Notion truncated, a few in flight; then one transaction
/// applies pages and edges as a set-based diff. Data sources that relations point into are read
/// for their titles, and for the back side of dual relations, whose edits may not touch the
/// source page; they are read while the first configured data sources are walked, and data
/// sources joined by a dual relation configured on both sides are walked together before either
/// is completed (`walkGroups`). Watermarks advance in one transaction after everything read was applied, so a
/// run killed anywhere is simply read again by the next.
public struct Reconciler: Sendable {
    public let configuration: RelsyncConfiguration
    let transport: any HTTPTransport
    let logger: Logger
    let progress: (@Sendable (ProgressEvent) -> Void)?

    /// How far before the watermark an incremental query starts: Notion rounds
    /// `last_edited_time` down to the minute, and the two clocks may disagree a little.
    static let overlap: TimeInterval = 120

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
        let me = try await client.me()
        let plans = try await resolvePlans(client: client)

        if options.dryRun {
            let pending = try await store.pendingMigrations()
            if !pending.isEmpty { throw SyncError.migrationsPending(pending) }
        } else {
            let applied = try await store.migrate()
            if !applied.isEmpty { logger.notice("applied migrations", metadata: ["db.migrations": "\(applied)"]) }
        }
        try await acquireLock(store, wait: options.waitForLock)

        if !options.dryRun { _ = try await store.closeAbandonedRuns() }
        let runID = options.dryRun ? nil : try await store.beginRun(mode: options.full ? "full" : "auto")
        var logger = self.logger
        if let runID { logger[metadataKey: "sync.run_id"] = "\(runID)" }
        let context = RunContext(
            client: client, store: store, runID: runID, options: options, botUserID: me.id.lowercased(),
            logger: logger, started: started)

        var run = RunState()
        for plan in plans { run.dataSourceTitles[plan.schema.id] = plan.schema.title }
        do {
            try await reconcile(plans, context, &run)
            if options.writeBack {
                try await writeBack(plans, context, &run)
            }
        } catch {
            if let runID {
                let stats = client.statistics()
                let reason = error is CancellationError
                    ? "stopped before it finished (SIGTERM or SIGINT); the next run finishes the work"
                    : String(describing: error)
                try? await store.finishRun(
                    runID, outcome: "failed", error: Redactor(configuration.secrets).scrub(reason),
                    apiCalls: stats.requestsByEndpoint, rateLimited: stats.rateLimited, retries: stats.retries,
                    pagesRead: run.pagesRead, edgesAdded: run.edgesAdded, edgesRemoved: run.edgesRemoved)
                try? await store.recordSummaryCounts(runID, written: run.summariesWritten, unchanged: run.summariesUnchanged)
            }
            throw error
        }

        let stats = client.statistics()
        if let runID {
            try await store.finishRun(
                runID, outcome: "succeeded", error: nil, apiCalls: stats.requestsByEndpoint,
                rateLimited: stats.rateLimited, retries: stats.retries, pagesRead: run.pagesRead,
                edgesAdded: run.edgesAdded, edgesRemoved: run.edgesRemoved)
            try await store.recordSummaryCounts(runID, written: run.summariesWritten, unchanged: run.summariesUnchanged)
        }
        let dataCalls = (stats.requestsByEndpoint[Self.queryEndpoint] ?? 0)
            + (stats.requestsByEndpoint[Self.propertyItemEndpoint] ?? 0)
        let optimum = ForwardPaginationOptimum.calls(
            pagesPerDataSource: run.pagesPerDataSource, truncatedRelationSizes: run.truncatedRelationSizes)
        let counts = options.dryRun ? nil : try await store.counts()
        let modes = Set(run.dataSources.filter(\.configured).map(\.mode))
        return RunSummary(
            runID: runID, mode: modes.count == 1 ? modes.first! : "mixed", dryRun: options.dryRun, startedAt: started,
            durationSeconds: Date().timeIntervalSince(started), dataSources: run.dataSources,
            pagesRead: run.pagesRead, edgesAdded: run.edgesAdded, edgesRemoved: run.edgesRemoved,
            edgesRepositioned: run.edgesRepositioned,
            edgesTotal: counts?.edges ?? run.dataSources.flatMap(\.relations).reduce(0) { $0 + $1.edges },
            apiCalls: stats.requestsByEndpoint, apiCallsTotal: stats.totalRequests, dataCalls: dataCalls,
            forwardOptimum: optimum, retries: stats.retries, rateLimited: stats.rateLimited,
            summariesWritten: run.summariesWritten, summariesUnchanged: run.summariesUnchanged,
            plannedWrites: run.plannedWrites, writeFailures: run.writeFailures, warnings: run.warnings)
    }

    /// Applies pending migrations only.
    public func migrate() async throws -> [String] {
        let store = try await openStore()
        defer { store.close() }
        return try await store.migrate()
    }

    // MARK: - State of one run

    struct RunContext {
        let client: NotionClient
        let store: PostgresStore
        let runID: Int64?
        let options: ReconcileOptions
        /// The integration's bot user: its edits are relsync's own.
        let botUserID: String
        let logger: Logger
        let started: Date
    }

    struct RunState {
        var dataSources: [RunSummary.DataSource] = []
        /// Names of the data sources known this run (configured and read targets), by id: join
        /// view columns are named after them.
        var dataSourceTitles: [String: String] = [:]
        var pagesRead = 0
        var edgesAdded = 0
        var edgesRemoved = 0
        var edgesRepositioned = 0
        var pagesPerDataSource: [Int] = []
        var truncatedRelationSizes: [Int] = []
        var warnings: [String] = []
        var summariesWritten = 0
        var summariesUnchanged = 0
        var plannedWrites: [RunSummary.PlannedWrite] = []
        var writeFailures = 0
        /// Where each data source's read started: its next watermark.
        var watermarks: [UUID: Date] = [:]
        /// Current values of summary properties, for pages read this run: [page: [property id: items]].
        var currentSummaries: [UUID: [String: [RichTextItem]]] = [:]
        /// Back sides of dual relations seen this run: target page → (back property id → inline list).
        var backLists: [BackKey: BackList] = [:]
        /// Relation lists read fresh from Notion this run (inline and complete, or completed by
        /// the property-item walk): stored lists kept by reuse are not among them.
        var freshLists: Set<PageRelation> = []
        /// Complete lists past 25 references assembled this run (fresh, reused or inferred), by
        /// page and relation: the back side of a dual relation needs no walk for them.
        var assembledLists: [PageRelation: [UUID]] = [:]
        /// Back lists completed through the property-item endpoint for an inference, in Notion's
        /// order, until the back relation's own data source (when configured) takes them.
        var completedLists: [PageRelation: [UUID]] = [:]
    }

    struct PageRelation: Hashable {
        var pageID: UUID
        var propertyID: String
    }

    struct BackKey: Hashable {
        var targetDataSourceID: String
        var propertyID: String
    }

    struct BackList {
        /// target page → its inline list of source pages
        var pages: [UUID: InlineList] = [:]
        /// Every page of the data source was read (a full read), not only those edited.
        var complete = false
    }

    // MARK: - The run

    func reconcile(_ plans: [Plan], _ context: RunContext, _ run: inout RunState) async throws {
        let names = joinViewNames(plans)
        let targets = targetPlans(plans)
        let groups = walkGroups(plans)
        // Nothing waits on a round trip it does not need: relation targets are read while the
        // first group of configured data sources is walked, and the walks of a group run
        // together. Completion waits for both, because the targets' back lists can complete
        // dual relations without a call.
        // Progress counts the configured data sources, plus one step for all the targets.
        let offset = targets.isEmpty ? 0 : 1
        if !targets.isEmpty {
            progress?(.readingDataSource(name: "relation targets", index: 1, count: plans.count + offset))
        }
        async let targetReads = readTargets(targets, context)
        let firstWalks = try await walkGroup(groups.first ?? [], plans, offset: offset, context)
        for target in try await targetReads {
            try await absorb(target, context, &run)
        }
        for (number, group) in groups.enumerated() {
            var walks = number == 0 ? firstWalks : try await walkGroup(group, plans, offset: offset, context)
            for index in walks.indices { absorb(&walks[index], &run) }
            for index in walks.indices {
                let walk = walks[index]
                walks[index].pages = []
                let read = try await finish(walk, names: names, context, &run)
                progress?(.applying(name: walk.plan.schema.title))
                try await apply(read, context, &run)
            }
        }
        try await propagateDualEdits(plans, names: names, context, &run)
        if !context.options.dryRun {
            try await context.store.advanceWatermarks(run.watermarks)
        }
    }

    /// Walks one group of configured data sources (`walkGroups`) together.
    func walkGroup(_ group: [Int], _ plans: [Plan], offset: Int, _ context: RunContext) async throws -> [Walk] {
        for index in group {
            progress?(.readingDataSource(name: plans[index].schema.title, index: offset + index + 1, count: offset + plans.count))
        }
        return try await walkAll(
            group.map { plans[$0] }, backProperties: group.map { backProperties(of: plans[$0].schema.id, plans) }, context)
    }

    func apply(_ read: Read, _ context: RunContext, _ run: inout RunState) async throws {
        // A stopped run (SIGTERM, SIGINT) starts no new transaction, even when everything it
        // needs was read already and no request would notice the cancellation.
        try Task.checkCancellation()
        let result = try await context.store.apply(read.snapshot, runID: context.runID, dryRun: context.options.dryRun)
        run.edgesAdded += result.edgesAdded
        run.edgesRemoved += result.edgesRemoved
        run.edgesRepositioned += result.edgesRepositioned
        if let summary = read.summary {
            var summary = summary
            summary.pagesTrashed = result.pagesTrashed
            run.dataSources.append(summary)
        }
        context.logger.info(
            "applied data source",
            metadata: [
                "notion.data_source_id": "\(read.snapshot.dataSource.id)", "pages.upserted": "\(result.pagesUpserted)",
                "pages.trashed": "\(result.pagesTrashed)", "edges.inserted": "\(result.edgesAdded)",
                "edges.removed": "\(result.edgesRemoved)", "edges.repositioned": "\(result.edgesRepositioned)",
            ])
    }

    /// The lock is per schema and set of configured sources: an overlapping run of the same
    /// config exits 75 (or waits with `--wait`) instead of colliding.
    func acquireLock(_ store: PostgresStore, wait: Duration?) async throws {
        let deadline = wait.map { ContinuousClock.now + $0 }
        while true {
            if try await store.tryAdvisoryLock(lockName) { return }
            guard let deadline, ContinuousClock.now < deadline else {
                throw SyncError.lockHeld(schema: configuration.postgres.schema)
            }
            logger.info("waiting for another run's lock", metadata: ["db.schema": "\(configuration.postgres.schema)"])
            try await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Wiring

    func openStore() async throws -> PostgresStore {
        let store: PostgresStore
        do {
            store = try await PostgresStore.open(
                StoreConfiguration(
                    url: configuration.postgres.url, schema: configuration.postgres.schema,
                    viewsSchema: configuration.postgres.viewsSchema),
                logger: logger)
        } catch let error as StoreError where error.code == .invalidInput {
            // A malformed postgres.url, an unknown connection setting, a schema name PostgreSQL
            // cannot hold: the config is wrong (exit 78), nothing was written.
            throw ConfigError(file: configuration.path, "postgres: \(error)")
        }
        if let timeout = configuration.postgres.statementTimeout {
            do {
                try await store.setStatementTimeout(timeout)
            } catch {
                store.close()
                throw error
            }
        }
        return store
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
