public import Foundation
public import Logging
import PostgresStore

/// What is synced, as `relsync status` prints it (a table, or JSON with `--json`).
public struct StatusReport: Sendable, Codable {
    public struct DataSource: Sendable, Codable {
        public var id: String
        public var name: String
        public var configured: Bool
        /// Pages not in trash.
        public var pages: Int
        public var trashedPages: Int
        public var lastFullSyncAt: Date?
        public var watermark: Date?

        enum CodingKeys: String, CodingKey {
            case id, name, configured, pages
            case trashedPages = "trashed_pages"
            case lastFullSyncAt = "last_full_sync_at"
            case watermark
        }
    }

    public struct Relation: Sendable, Codable {
        public var sourceDataSourceID: String
        public var sourceDataSourceName: String
        public var propertyID: String
        public var propertyName: String
        public var targetDataSourceID: String?
        public var targetDataSourceName: String?
        public var kind: String
        /// `<views schema>.<join view>`, unquoted.
        public var joinView: String
        public var fromColumn: String?
        public var toColumn: String?
        public var edges: Int
        /// Live pages of the source data source, and those with at least one edge.
        public var sourcePages: Int
        public var pagesWithEdges: Int
        public var maxDegree: Int
        /// Pages with more than 25 edges (past what a page object shows).
        public var pagesOver25: Int
        public var lastChangeAt: Date?

        enum CodingKeys: String, CodingKey {
            case sourceDataSourceID = "source_data_source_id"
            case sourceDataSourceName = "source_data_source_name"
            case propertyID = "property_id"
            case propertyName = "property_name"
            case targetDataSourceID = "target_data_source_id"
            case targetDataSourceName = "target_data_source_name"
            case kind
            case joinView = "join_view"
            case fromColumn = "from_column"
            case toColumn = "to_column"
            case edges
            case sourcePages = "source_pages"
            case pagesWithEdges = "pages_with_edges"
            case maxDegree = "max_degree"
            case pagesOver25 = "pages_over_25"
            case lastChangeAt = "last_change_at"
        }
    }

    public struct Run: Sendable, Codable {
        public var runID: Int64
        public var startedAt: Date
        public var finishedAt: Date?
        public var outcome: String
        public var mode: String
        public var durationSeconds: Double?
        public var apiCalls: Int
        public var rateLimited: Int
        public var retries: Int
        public var pagesRead: Int
        public var edgesAdded: Int
        public var edgesRemoved: Int
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case outcome, mode
            case durationSeconds = "duration_seconds"
            case apiCalls = "api_calls"
            case rateLimited = "rate_limited"
            case retries
            case pagesRead = "pages_read"
            case edgesAdded = "edges_added"
            case edgesRemoved = "edges_removed"
            case error
        }

        init(_ record: RunRecord) {
            runID = record.runID
            startedAt = record.startedAt
            finishedAt = record.finishedAt
            outcome = record.outcome
            mode = record.mode
            durationSeconds = record.durationSeconds
            apiCalls = record.apiCallsTotal
            rateLimited = record.rateLimited
            retries = record.retries
            pagesRead = record.pagesRead
            edgesAdded = record.edgesAdded
            edgesRemoved = record.edgesRemoved
            error = record.error
        }
    }

    public struct LastError: Sendable, Codable {
        public var runID: Int64
        public var at: Date
        public var message: String
        /// A later run succeeded.
        public var resolved: Bool

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case at, message, resolved
        }
    }

    /// The database's clock when the status was read.
    public var generatedAt: Date
    public var schema: String
    public var viewsSchema: String
    public var dataSources: [DataSource]
    public var relations: [Relation]
    public var totalEdges: Int
    /// The most recent run, whatever its outcome.
    public var lastRun: Run?
    public var lastSuccessfulRun: Run?
    /// Seconds from the end of the last successful run to `generatedAt`: how old the data is.
    public var lagSeconds: Double?
    /// The most recent failed run's error (among the last 20 runs).
    public var lastError: LastError?
    public var historyRows: Int
    public var oldestHistoryAt: Date?

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at"
        case schema
        case viewsSchema = "views_schema"
        case dataSources = "data_sources"
        case relations
        case totalEdges = "total_edges"
        case lastRun = "last_run"
        case lastSuccessfulRun = "last_successful_run"
        case lagSeconds = "lag_seconds"
        case lastError = "last_error"
        case historyRows = "history_rows"
        case oldestHistoryAt = "oldest_history_at"
    }

    /// Reads the status from the configured PostgreSQL (read only; the schema must be migrated).
    public static func load(configuration: RelsyncConfiguration, logger: Logger) async throws -> StatusReport {
        let store = try await configuration.openStoreWithoutMigrating(logger: logger)
        defer { store.close() }
        return StatusReport(try await store.status(recentRuns: 20), configuration: configuration)
    }

    init(_ status: StoreStatus, configuration: RelsyncConfiguration) {
        generatedAt = status.serverTime
        schema = configuration.postgres.schema
        viewsSchema = configuration.postgres.viewsSchema
        dataSources = status.dataSources.map {
            DataSource(
                id: $0.id.uuidString.lowercased(), name: $0.name, configured: $0.configured, pages: $0.pages,
                trashedPages: $0.trashedPages, lastFullSyncAt: $0.lastFullSyncAt, watermark: $0.watermark)
        }
        relations = status.relations.map { entry, statistics in
            Relation(
                sourceDataSourceID: entry.sourceDataSourceID.uuidString.lowercased(), sourceDataSourceName: entry.sourceName,
                propertyID: entry.propertyID, propertyName: entry.propertyName,
                targetDataSourceID: entry.targetDataSourceID?.uuidString.lowercased(), targetDataSourceName: entry.targetName,
                kind: entry.kind.rawValue, joinView: (entry.joinViewSchema ?? configuration.postgres.viewsSchema) + "." + entry.joinView,
                fromColumn: entry.fromColumn, toColumn: entry.toColumn, edges: statistics.edges,
                sourcePages: statistics.sourcePages, pagesWithEdges: statistics.pagesWithEdges, maxDegree: statistics.maxDegree,
                pagesOver25: statistics.pagesOver25, lastChangeAt: statistics.lastChangeAt)
        }
        totalEdges = relations.reduce(0) { $0 + $1.edges }
        lastRun = status.recentRuns.first.map(Run.init)
        lastSuccessfulRun = status.lastSuccessfulRun.map(Run.init)
        lagSeconds = status.lastSuccessfulRun?.finishedAt.map { max(0, status.serverTime.timeIntervalSince($0)) }
        if let failed = status.recentRuns.first(where: { $0.outcome == "failed" }) {
            lastError = LastError(
                runID: failed.runID, at: failed.finishedAt ?? failed.startedAt, message: failed.error ?? "unknown error",
                resolved: (status.lastSuccessfulRun?.runID ?? 0) > failed.runID)
        }
        historyRows = status.historyRows
        oldestHistoryAt = status.oldestHistoryAt
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The status as a few lines and two tables, for a terminal.
    public var text: String {
        var lines: [String] = []
        lines.append("relsync status: schema \(schema), join views in \(viewsSchema), as of \(Self.time(generatedAt))")
        lines.append("")
        if let run = lastRun {
            var line = "last run      #\(run.runID) \(run.outcome), started \(Self.time(run.startedAt))"
            line += " (\(Self.age(generatedAt.timeIntervalSince(run.startedAt))) ago)"
            if let duration = run.durationSeconds { line += ", \(Self.duration(duration))" }
            line += ", \(Self.count(run.apiCalls)) API calls, \(run.rateLimited) rate-limited (429), \(run.retries) retries"
            lines.append(line)
        } else {
            lines.append("last run      none yet (run relsync reconcile)")
        }
        if let lag = lagSeconds, let success = lastSuccessfulRun {
            lines.append("lag           \(Self.age(lag)) since run #\(success.runID) finished")
        } else {
            lines.append("lag           no run has succeeded yet")
        }
        if let error = lastError {
            let resolved = error.resolved ? " (a later run succeeded)" : ""
            lines.append("last error    run #\(error.runID) at \(Self.time(error.at))\(resolved): \(error.message)")
        } else {
            lines.append("last error    none")
        }
        let oldest = oldestHistoryAt.map { " since \(Self.time($0))" } ?? ""
        lines.append("edges         \(Self.count(totalEdges)) in \(relations.count) relations; history \(Self.count(historyRows)) rows\(oldest)")
        lines.append("")
        lines += Self.table(
            header: ["DATA SOURCE", "ID", "CONFIGURED", "PAGES", "TRASHED", "LAST FULL SYNC"],
            rightAligned: [3, 4],
            rows: dataSources.map {
                [$0.name, $0.id, $0.configured ? "yes" : "no", Self.count($0.pages), Self.count($0.trashedPages),
                 $0.lastFullSyncAt.map(Self.time) ?? "-"]
            })
        lines.append("")
        lines += Self.table(
            header: ["RELATION", "JOIN VIEW", "KIND", "EDGES", "LINKED/PAGES", "MAX", ">25", "LAST CHANGE"],
            rightAligned: [3, 4, 5, 6],
            rows: relations.map {
                ["\($0.sourceDataSourceName) → \($0.propertyName)", $0.joinView, $0.kind, Self.count($0.edges),
                 "\(Self.count($0.pagesWithEdges))/\(Self.count($0.sourcePages))", Self.count($0.maxDegree),
                 Self.count($0.pagesOver25), $0.lastChangeAt.map(Self.time) ?? "-"]
            })
        return lines.joined(separator: "\n")
    }

    /// A plain-text table: columns padded to their widest cell (in characters), two spaces apart.
    static func table(header: [String], rightAligned: Set<Int>, rows: [[String]]) -> [String] {
        let cleaned = rows.map { $0.map { $0.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ") } }
        let widths = header.indices.map { column in
            ([header[column]] + cleaned.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return [line(header)] + (cleaned.isEmpty ? ["(none)"] : cleaned.map(line))
    }

    static func time(_ date: Date) -> String {
        let text = date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))  // 2026-11-21T10:15:02Z
        return text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }

    static func age(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3_600 { return "\(s / 60)m \(s % 60)s" }
        if s < 86_400 { return "\(s / 3_600)h \(s % 3_600 / 60)m" }
        return "\(s / 86_400)d \(s % 86_400 / 3_600)h"
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1f s", seconds) : age(seconds)
    }

    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}

extension RelsyncConfiguration {
    /// Opens the configured store for the analyst commands (status, export, report,
    /// prune-history): they never migrate, so an unmigrated or older schema is reported
    /// ("run relsync migrate first") rather than changed.
    func openStoreWithoutMigrating(logger: Logger) async throws -> PostgresStore {
        let store = try await PostgresStore.open(
            StoreConfiguration(url: postgres.url, schema: postgres.schema, viewsSchema: postgres.viewsSchema), logger: logger)
        do {
            let pending = try await store.pendingMigrations()
            if !pending.isEmpty { throw SyncError.migrationsPending(pending) }
        } catch {
            store.close()
            throw error
        }
        return store
    }
}
