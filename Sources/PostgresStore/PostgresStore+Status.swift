public import Foundation
import Logging

/// A relation as the analyst-facing catalog (`relation_catalog`) shows it.
public struct RelationCatalogEntry: Sendable, Hashable {
    public var sourceDataSourceID: UUID
    /// The Notion name of the data source that holds the relation.
    public var sourceName: String
    public var propertyID: String
    public var propertyName: String
    public var targetDataSourceID: UUID?
    /// `nil` when relsync has not read the target data source (not shared with the integration).
    public var targetName: String?
    public var kind: RelationKind
    public var syncedPropertyID: String?
    public var syncedPropertyName: String?
    /// The views schema the join view was created in; `nil` before the view was (re)created by
    /// a relsync with migration 0003.
    public var joinViewSchema: String?
    public var joinView: String
    public var fromColumn: String?
    public var toColumn: String?

    public init(
        sourceDataSourceID: UUID, sourceName: String, propertyID: String, propertyName: String,
        targetDataSourceID: UUID?, targetName: String?, kind: RelationKind, syncedPropertyID: String?,
        syncedPropertyName: String?, joinViewSchema: String?, joinView: String, fromColumn: String?, toColumn: String?
    ) {
        self.sourceDataSourceID = sourceDataSourceID
        self.sourceName = sourceName
        self.propertyID = propertyID
        self.propertyName = propertyName
        self.targetDataSourceID = targetDataSourceID
        self.targetName = targetName
        self.kind = kind
        self.syncedPropertyID = syncedPropertyID
        self.syncedPropertyName = syncedPropertyName
        self.joinViewSchema = joinViewSchema
        self.joinView = joinView
        self.fromColumn = fromColumn
        self.toColumn = toColumn
    }

    public var key: RelationKey { RelationKey(sourceDataSourceID: sourceDataSourceID, propertyID: propertyID) }
}

/// A relation's identity: its data source and property id.
public struct RelationKey: Sendable, Hashable {
    public var sourceDataSourceID: UUID
    public var propertyID: String

    public init(sourceDataSourceID: UUID, propertyID: String) {
        self.sourceDataSourceID = sourceDataSourceID
        self.propertyID = propertyID
    }
}

/// How big a relation is.
public struct RelationStatistics: Sendable, Hashable {
    public var edges: Int
    /// Pages of the source data source that are not in trash.
    public var sourcePages: Int
    /// Of those, the ones with at least one edge.
    public var pagesWithEdges: Int
    public var maxDegree: Int
    /// Pages with more than 25 edges: where a page object shows only the first 25.
    public var pagesOver25: Int
    /// The last edge added or removed, from `edge_history`.
    public var lastChangeAt: Date?

    public init(edges: Int, sourcePages: Int, pagesWithEdges: Int, maxDegree: Int, pagesOver25: Int, lastChangeAt: Date?) {
        self.edges = edges
        self.sourcePages = sourcePages
        self.pagesWithEdges = pagesWithEdges
        self.maxDegree = maxDegree
        self.pagesOver25 = pagesOver25
        self.lastChangeAt = lastChangeAt
    }
}

/// A data source as stored, with its page counts.
public struct DataSourceStatus: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var configured: Bool
    /// Pages not in trash.
    public var pages: Int
    public var trashedPages: Int
    public var lastFullSyncAt: Date?
    public var watermark: Date?

    public init(id: UUID, name: String, configured: Bool, pages: Int, trashedPages: Int, lastFullSyncAt: Date?, watermark: Date?) {
        self.id = id
        self.name = name
        self.configured = configured
        self.pages = pages
        self.trashedPages = trashedPages
        self.lastFullSyncAt = lastFullSyncAt
        self.watermark = watermark
    }
}

/// One row of the `runs` table.
public struct RunRecord: Sendable, Hashable {
    public var runID: Int64
    public var startedAt: Date
    public var finishedAt: Date?
    /// running, succeeded or failed.
    public var outcome: String
    public var mode: String
    public var error: String?
    /// Notion API calls by endpoint.
    public var apiCalls: [String: Int]
    public var rateLimited: Int
    public var retries: Int
    public var pagesRead: Int
    public var edgesAdded: Int
    public var edgesRemoved: Int

    public init(
        runID: Int64, startedAt: Date, finishedAt: Date?, outcome: String, mode: String, error: String?,
        apiCalls: [String: Int], rateLimited: Int, retries: Int, pagesRead: Int, edgesAdded: Int, edgesRemoved: Int
    ) {
        self.runID = runID
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.mode = mode
        self.error = error
        self.apiCalls = apiCalls
        self.rateLimited = rateLimited
        self.retries = retries
        self.pagesRead = pagesRead
        self.edgesAdded = edgesAdded
        self.edgesRemoved = edgesRemoved
    }

    public var apiCallsTotal: Int { apiCalls.values.reduce(0, +) }
    public var durationSeconds: Double? { finishedAt.map { $0.timeIntervalSince(startedAt) } }
}

/// Edges added and removed on one UTC day, from `edge_history`.
public struct DailyEdgeChanges: Sendable, Hashable {
    /// `YYYY-MM-DD`, UTC.
    public var day: String
    public var added: Int
    public var removed: Int

    public init(day: String, added: Int, removed: Int) {
        self.day = day
        self.added = added
        self.removed = removed
    }
}

/// What `PostgresStore.status` found.
public struct StoreStatus: Sendable {
    /// The server's clock when the status was read.
    public var serverTime: Date
    public var dataSources: [DataSourceStatus]
    /// By source data source name, then property name.
    public var relations: [(entry: RelationCatalogEntry, statistics: RelationStatistics)]
    /// The most recent runs, newest first.
    public var recentRuns: [RunRecord]
    /// The last run that succeeded, however old.
    public var lastSuccessfulRun: RunRecord?
    public var historyRows: Int
    public var oldestHistoryAt: Date?

    public init(
        serverTime: Date, dataSources: [DataSourceStatus], relations: [(entry: RelationCatalogEntry, statistics: RelationStatistics)],
        recentRuns: [RunRecord], lastSuccessfulRun: RunRecord?, historyRows: Int, oldestHistoryAt: Date?
    ) {
        self.serverTime = serverTime
        self.dataSources = dataSources
        self.relations = relations
        self.recentRuns = recentRuns
        self.lastSuccessfulRun = lastSuccessfulRun
        self.historyRows = historyRows
        self.oldestHistoryAt = oldestHistoryAt
    }
}

extension PostgresStore {
    /// The relations catalog with the data sources' names, by source name, then property name.
    public func relationCatalog() async throws -> [RelationCatalogEntry] {
        try await gate.run { try await readRelationCatalog(on: connection) }
    }

    func readRelationCatalog(on connection: PostgresConnection) async throws -> [RelationCatalogEntry] {
        let rows = try await connection.query(
            """
            SELECT source_data_source_id, source_data_source_name, property_id, property_name, target_data_source_id,
                   target_data_source_name, kind, synced_property_id, synced_property_name, join_view_schema, join_view,
                   from_column, to_column
            FROM \(table("relation_catalog"))
            ORDER BY source_data_source_name, property_name, source_data_source_id, property_id
            """)
        return try rows.rows.map { row in
            guard let kind = row[6].flatMap(RelationKind.init(rawValue:)) else {
                throw StoreError(code: .protocol, message: "relations.kind holds an unknown value")
            }
            return RelationCatalogEntry(
                sourceDataSourceID: try Self.uuid(row[0]), sourceName: row[1] ?? "", propertyID: row[2] ?? "",
                propertyName: row[3] ?? "", targetDataSourceID: try row[4].map { try Self.uuid($0) }, targetName: row[5],
                kind: kind, syncedPropertyID: row[7], syncedPropertyName: row[8], joinViewSchema: row[9],
                joinView: row[10] ?? "", fromColumn: row[11], toColumn: row[12])
        }
    }

    /// What is synced: data sources with page counts, relations with edge statistics, recent
    /// runs and the last successful one, and the size of the edge history.
    public func status(recentRuns: Int = 20) async throws -> StoreStatus {
        try await gate.run {
            let now = try await connection.query("SELECT extract(epoch FROM now())::float8")
            let serverTime = Date(timeIntervalSince1970: Double(now.scalar ?? "") ?? Date().timeIntervalSince1970)

            let sources = try await connection.query(
                """
                SELECT d.data_source_id, d.name, d.configured,
                       count(p.page_id) FILTER (WHERE NOT p.in_trash), count(p.page_id) FILTER (WHERE p.in_trash),
                       extract(epoch FROM d.last_full_sync_at)::float8, extract(epoch FROM d.watermark)::float8
                FROM \(table("data_sources")) d LEFT JOIN \(table("pages")) p ON p.data_source_id = d.data_source_id
                GROUP BY d.data_source_id
                ORDER BY d.configured DESC, d.name, d.data_source_id
                """)
            let dataSources = try sources.rows.map { row in
                DataSourceStatus(
                    id: try Self.uuid(row[0]), name: row[1] ?? "", configured: row[2] == "t", pages: Self.int(row[3]),
                    trashedPages: Self.int(row[4]), lastFullSyncAt: Self.date(row[5]), watermark: Self.date(row[6]))
            }

            let catalog = try await readRelationCatalog(on: connection)
            let statistics = try await connection.query(
                """
                WITH degrees AS (
                    SELECT r.source_data_source_id, r.property_id, p.page_id, count(e.to_page_id) AS degree
                    FROM \(table("relations")) r
                    JOIN \(table("pages")) p ON p.data_source_id = r.source_data_source_id AND NOT p.in_trash
                    LEFT JOIN \(table("edges")) e
                      ON e.source_data_source_id = r.source_data_source_id AND e.property_id = r.property_id
                     AND e.from_page_id = p.page_id
                    GROUP BY 1, 2, 3
                ), per_relation AS (
                    SELECT source_data_source_id, property_id, count(*) AS source_pages,
                           count(*) FILTER (WHERE degree > 0) AS with_edges, max(degree) AS max_degree,
                           count(*) FILTER (WHERE degree > 25) AS over_25
                    FROM degrees GROUP BY 1, 2
                ), edge_counts AS (
                    SELECT source_data_source_id, property_id, count(*) AS edges FROM \(table("edges")) GROUP BY 1, 2
                ), last_change AS (
                    SELECT source_data_source_id, property_id, max(changed_at) AS changed_at
                    FROM \(table("edge_history")) GROUP BY 1, 2
                )
                SELECT r.source_data_source_id, r.property_id, COALESCE(c.edges, 0), COALESCE(d.source_pages, 0),
                       COALESCE(d.with_edges, 0), COALESCE(d.max_degree, 0), COALESCE(d.over_25, 0),
                       extract(epoch FROM l.changed_at)::float8
                FROM \(table("relations")) r
                LEFT JOIN per_relation d USING (source_data_source_id, property_id)
                LEFT JOIN edge_counts c USING (source_data_source_id, property_id)
                LEFT JOIN last_change l USING (source_data_source_id, property_id)
                """)
            var byKey: [RelationKey: RelationStatistics] = [:]
            for row in statistics.rows {
                let key = RelationKey(sourceDataSourceID: try Self.uuid(row[0]), propertyID: row[1] ?? "")
                byKey[key] = RelationStatistics(
                    edges: Self.int(row[2]), sourcePages: Self.int(row[3]), pagesWithEdges: Self.int(row[4]),
                    maxDegree: Self.int(row[5]), pagesOver25: Self.int(row[6]), lastChangeAt: Self.date(row[7]))
            }
            let empty = RelationStatistics(edges: 0, sourcePages: 0, pagesWithEdges: 0, maxDegree: 0, pagesOver25: 0, lastChangeAt: nil)
            let relations = catalog.map { (entry: $0, statistics: byKey[$0.key] ?? empty) }

            let runs = try await readRuns(limit: max(0, recentRuns), on: connection)
            let lastSuccess = try await readRuns(limit: 1, onlySucceeded: true, on: connection).first

            let history = try await connection.query(
                "SELECT count(*), extract(epoch FROM min(changed_at))::float8 FROM \(table("edge_history"))")
            return StoreStatus(
                serverTime: serverTime, dataSources: dataSources, relations: relations, recentRuns: runs,
                lastSuccessfulRun: lastSuccess, historyRows: Self.int(history.rows.first?[0] ?? nil),
                oldestHistoryAt: Self.date(history.rows.first?[1] ?? nil))
        }
    }

    /// The most recent runs, newest first.
    public func runs(limit: Int) async throws -> [RunRecord] {
        try await gate.run { try await readRuns(limit: limit, on: connection) }
    }

    private func readRuns(limit: Int, onlySucceeded: Bool = false, on connection: PostgresConnection) async throws -> [RunRecord] {
        let rows = try await connection.query(
            """
            SELECT run_id, extract(epoch FROM started_at)::float8, extract(epoch FROM finished_at)::float8, outcome, mode,
                   error, api_calls::text, rate_limited, retries, pages_read, edges_added, edges_removed
            FROM \(table("runs"))
            WHERE NOT $2::boolean OR outcome = 'succeeded'
            ORDER BY run_id DESC
            LIMIT $1
            """,
            [String(limit), onlySucceeded ? "true" : "false"])
        let decoder = JSONDecoder()
        return try rows.rows.map { row in
            let calls = (try? decoder.decode([String: Int].self, from: Data((row[6] ?? "{}").utf8))) ?? [:]
            guard let id = row[0].flatMap({ Int64($0) }), let started = Self.date(row[1]) else {
                throw StoreError(code: .protocol, message: "the runs table returned a row without run_id or started_at")
            }
            return RunRecord(
                runID: id, startedAt: started, finishedAt: Self.date(row[2]), outcome: row[3] ?? "", mode: row[4] ?? "",
                error: row[5], apiCalls: calls, rateLimited: Self.int(row[7]), retries: Self.int(row[8]),
                pagesRead: Self.int(row[9]), edgesAdded: Self.int(row[10]), edgesRemoved: Self.int(row[11]))
        }
    }

    /// Per relation: how many live source pages have each number of edges (0 included).
    public func degreeDistributions() async throws -> [RelationKey: [Int: Int]] {
        try await gate.run {
            let rows = try await connection.query(
                """
                SELECT r.source_data_source_id, r.property_id, d.degree, count(*)
                FROM \(table("relations")) r
                CROSS JOIN LATERAL (
                    SELECT p.page_id, count(e.to_page_id) AS degree
                    FROM \(table("pages")) p
                    LEFT JOIN \(table("edges")) e
                      ON e.source_data_source_id = r.source_data_source_id AND e.property_id = r.property_id
                     AND e.from_page_id = p.page_id
                    WHERE p.data_source_id = r.source_data_source_id AND NOT p.in_trash
                    GROUP BY p.page_id
                ) d
                GROUP BY 1, 2, 3
                """)
            var result: [RelationKey: [Int: Int]] = [:]
            for row in rows.rows {
                let key = RelationKey(sourceDataSourceID: try Self.uuid(row[0]), propertyID: row[1] ?? "")
                result[key, default: [:]][Self.int(row[2])] = Self.int(row[3])
            }
            return result
        }
    }

    /// Edges added and removed per UTC day over the last `days` days (today included), oldest first.
    public func edgeChangesPerDay(days: Int) async throws -> [DailyEdgeChanges] {
        try await gate.run {
            let rows = try await connection.query(
                """
                SELECT to_char((changed_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day,
                       count(*) FILTER (WHERE change = 'added'), count(*) FILTER (WHERE change = 'removed')
                FROM \(table("edge_history"))
                WHERE changed_at >= (now() AT TIME ZONE 'UTC')::date - ($1::int - 1)
                GROUP BY 1 ORDER BY 1
                """,
                [String(max(1, days))])
            return rows.rows.map { DailyEdgeChanges(day: $0[0] ?? "", added: Self.int($0[1]), removed: Self.int($0[2])) }
        }
    }

    /// Deletes `edge_history` rows older than `age` seconds (by `changed_at`) in one
    /// transaction; with `dryRun`, only counts them. Returns the number of rows.
    public func pruneHistory(olderThan age: TimeInterval, dryRun: Bool = false) async throws -> Int {
        guard age >= 0, age.isFinite else {
            throw StoreError(code: .invalidInput, message: "the history retention must be a positive duration")
        }
        return try await gate.run {
            let cutoff = "now() - ($1::float8 * interval '1 second')"
            let sql = dryRun
                ? "SELECT count(*) FROM \(table("edge_history")) WHERE changed_at < \(cutoff)"
                : "WITH gone AS (DELETE FROM \(table("edge_history")) WHERE changed_at < \(cutoff) RETURNING 1) SELECT count(*) FROM gone"
            let rows = try await connection.query(sql, [String(age)])
            let count = Self.int(rows.scalar)
            logger.info(dryRun ? "Counted prunable edge history" : "Pruned edge history", metadata: [
                "db.table": "edge_history", "history.rows": "\(count)", "history.older_than_seconds": "\(age)",
            ])
            return count
        }
    }

    static func int(_ text: String?) -> Int {
        text.flatMap { Int($0) } ?? 0
    }

    static func date(_ epoch: String?) -> Date? {
        epoch.flatMap(Double.init).map(Date.init(timeIntervalSince1970:))
    }
}
