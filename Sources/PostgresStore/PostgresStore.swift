public import Foundation
public import Logging

/// relsync's PostgreSQL side: migrations, runs, locks, and applying data-source snapshots
/// (pages, the relations catalog, edges, edge history and join views).
///
/// One store holds one connection and runs one operation at a time; operations from several
/// tasks queue up in order.
public final class PostgresStore: Sendable {
    public let configuration: StoreConfiguration
    /// The store's connection, for reads the store does not offer (exports, status queries).
    /// Do not run statements on it while a store operation is in flight.
    public let connection: PostgresConnection
    let logger: Logger
    let gate = SerialGate()
    /// `configuration.schema` and `configuration.viewsSchema`, quoted for SQL.
    let schema: String
    let viewsSchema: String

    private init(configuration: StoreConfiguration, connection: PostgresConnection, logger: Logger) {
        self.configuration = configuration
        self.connection = connection
        self.logger = logger
        self.schema = connection.quoteIdentifier(configuration.schema)
        self.viewsSchema = connection.quoteIdentifier(configuration.viewsSchema)
    }

    /// Connects to the database. Does not migrate: call `migrate()` or check `pendingMigrations()`.
    public static func open(_ configuration: StoreConfiguration, logger: Logger) async throws -> PostgresStore {
        try validateIdentifier(configuration.schema, what: "schema name")
        try validateIdentifier(configuration.viewsSchema, what: "views schema name")
        let connection = try await PostgresConnection.connect(
            url: configuration.url, applicationName: configuration.applicationName, logger: logger)
        return PostgresStore(configuration: configuration, connection: connection, logger: logger)
    }

    /// Bounds every later statement of this store's session (`statement_timeout`): one that
    /// runs longer, or waits longer for a lock, is cancelled by the server with SQLSTATE 57014
    /// and its transaction rolled back. nil or zero: no limit (the server's default).
    public func setStatementTimeout(_ timeout: Duration?) async throws {
        let milliseconds = timeout.map { max(0, $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? 0
        try await gate.run {
            _ = try await connection.query("SELECT set_config('statement_timeout', $1, false)", [String(milliseconds)])
        }
        logger.debug("Statement timeout set", metadata: ["db.statement_timeout_ms": "\(milliseconds)"])
    }

    /// Closes the connection (session-level advisory locks are released with it).
    public func close() {
        connection.close()
    }

    /// PostgreSQL truncates identifiers to 63 bytes; longer names would silently collide.
    public static let maxIdentifierBytes = 63

    static func validateIdentifier(_ name: String, what: String) throws(StoreError) {
        if name.isEmpty {
            throw StoreError(code: .invalidInput, message: "the \(what) is empty")
        }
        if name.utf8.count > maxIdentifierBytes {
            throw StoreError(
                code: .invalidInput,
                message: "the \(what) \"\(name)\" is \(name.utf8.count) bytes long; PostgreSQL allows \(maxIdentifierBytes)")
        }
        if name.contains("\0") {
            throw StoreError(code: .invalidInput, message: "the \(what) contains a NUL character")
        }
    }

    /// A table of relsync's schema, qualified and quoted.
    func table(_ name: String) -> String {
        "\(schema).\(name)"
    }

    // MARK: - Locks and runs

    /// Takes the session-level advisory lock named `name` if no other session holds it
    /// (`pg_try_advisory_lock(hashtextextended(name, 0))`). It is held until
    /// `releaseAdvisoryLock` or `close()`.
    public func tryAdvisoryLock(_ name: String) async throws -> Bool {
        try await gate.run {
            let rows = try await connection.query("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", [name])
            return rows.scalar == "t"
        }
    }

    /// Releases a lock taken with `tryAdvisoryLock`; false if this session did not hold it.
    @discardableResult
    public func releaseAdvisoryLock(_ name: String) async throws -> Bool {
        try await gate.run {
            let rows = try await connection.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [name])
            return rows.scalar == "t"
        }
    }

    /// Records the start of a run; returns its `run_id`. The run holds a session-level advisory
    /// lock named after it until its connection ends, so `closeAbandonedRuns` can tell a live
    /// run from one whose process or connection died before it could record how it ended.
    public func beginRun(mode: String) async throws -> Int64 {
        try await gate.run {
            // One transaction: no other session sees the row before its lock is held.
            let id = try await connection.withTransaction { connection in
                let rows = try await connection.query(
                    "INSERT INTO \(self.table("runs")) (mode) VALUES ($1) RETURNING run_id", [PostgresConnection.withoutNUL(mode)])
                guard let text = rows.scalar, let id = Int64(text) else {
                    throw StoreError(code: .protocol, message: "INSERT INTO runs returned no run_id")
                }
                _ = try await connection.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [self.runLockName(id)])
                return id
            }
            logger.debug("Run started", metadata: ["sync.run_id": "\(id)", "sync.mode": "\(mode)"])
            return id
        }
    }

    /// Marks failed every run still recorded as running whose lock no session holds: its
    /// process was killed, or its PostgreSQL connection was lost, before it could say how it
    /// ended. Runs of other configs sharing the schema, still going, hold their locks and are
    /// left alone. Returns the run ids closed.
    public func closeAbandonedRuns() async throws -> [Int64] {
        try await gate.run {
            let running = try await connection.query(
                "SELECT run_id FROM \(table("runs")) WHERE outcome = 'running' ORDER BY run_id")
            var closed: [Int64] = []
            for id in running.rows.compactMap({ $0[0].flatMap { Int64($0) } }) {
                let lock = runLockName(id)
                let free = try await connection.query("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", [lock])
                guard free.scalar == "t" else { continue }
                _ = try await connection.execute(
                    """
                    UPDATE \(table("runs"))
                    SET outcome = 'failed', finished_at = now(),
                        error = 'abandoned: its process or its PostgreSQL connection ended before it finished; a later run redid the work'
                    WHERE run_id = $1 AND outcome = 'running'
                    """,
                    [String(id)])
                _ = try await connection.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lock])
                closed.append(id)
            }
            if !closed.isEmpty {
                logger.notice("Closed abandoned runs", metadata: ["sync.run_ids": "\(closed)"])
            }
            return closed
        }
    }

    /// The advisory lock a run holds while it goes on.
    private func runLockName(_ runID: Int64) -> String {
        "relsync.run:" + configuration.schema + ":" + String(runID)
    }

    /// Records how a run ended. `outcome` is "succeeded" or "failed"; `error` is the failure's
    /// one-line description (never a secret).
    public func finishRun(
        _ runID: Int64, outcome: String, error: String?, apiCalls: [String: Int], rateLimited: Int,
        retries: Int, pagesRead: Int, edgesAdded: Int, edgesRemoved: Int
    ) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(apiCalls), as: UTF8.self)
        try await gate.run {
            let updated = try await connection.execute(
                """
                UPDATE \(table("runs"))
                SET finished_at = now(), outcome = $2, error = $3, api_calls = $4::jsonb, rate_limited = $5,
                    retries = $6, pages_read = $7, edges_added = $8, edges_removed = $9
                WHERE run_id = $1
                """,
                [String(runID), outcome, error.map(PostgresConnection.withoutNUL), json, String(rateLimited), String(retries), String(pagesRead),
                 String(edgesAdded), String(edgesRemoved)])
            guard updated == 1 else {
                throw StoreError(code: .invalidInput, message: "there is no run \(runID) to finish")
            }
        }
    }

    // MARK: - Reads

    public func counts() async throws -> StoreCounts {
        try await gate.run {
            let rows = try await connection.query(
                """
                SELECT (SELECT count(*) FROM \(table("data_sources"))),
                       (SELECT count(*) FROM \(table("pages"))),
                       (SELECT count(*) FROM \(table("relations"))),
                       (SELECT count(*) FROM \(table("edges")))
                """)
            guard let row = rows.rows.first, row.count == 4 else {
                throw StoreError(code: .protocol, message: "the counts query returned no row")
            }
            let values = row.map { Int($0 ?? "") ?? 0 }
            return StoreCounts(dataSources: values[0], pages: values[1], relations: values[2], edges: values[3])
        }
    }

    /// The stored edges of one relation, by source page, then position (unknown last), then target.
    public func edges(sourceDataSourceID: UUID, propertyID: String) async throws -> [EdgeRow] {
        try await gate.run {
            let rows = try await connection.query(
                """
                SELECT from_page_id, to_page_id, position FROM \(table("edges"))
                WHERE source_data_source_id = $1 AND property_id = $2
                ORDER BY from_page_id, position NULLS LAST, to_page_id
                """,
                [sourceDataSourceID.uuidString, propertyID])
            return try rows.rows.map { row in
                EdgeRow(
                    fromPageID: try Self.uuid(row[0]), toPageID: try Self.uuid(row[1]),
                    position: row[2].flatMap { Int($0) })
            }
        }
    }

    /// The relations catalog, by source data source and property id.
    public func relations() async throws -> [RelationRow] {
        try await gate.run {
            let rows = try await connection.query(
                """
                SELECT source_data_source_id, property_id, property_name, target_data_source_id,
                       target_database_id, kind, synced_property_id, synced_property_name, join_view
                FROM \(table("relations"))
                ORDER BY source_data_source_id, property_id
                """)
            return try rows.rows.map { row in
                guard let kindText = row[5], let kind = RelationKind(rawValue: kindText) else {
                    throw StoreError(code: .protocol, message: "relations.kind holds an unknown value")
                }
                return RelationRow(
                    sourceDataSourceID: try Self.uuid(row[0]), propertyID: row[1] ?? "", propertyName: row[2] ?? "",
                    targetDataSourceID: try row[3].map { try Self.uuid($0) },
                    targetDatabaseID: try row[4].map { try Self.uuid($0) }, kind: kind,
                    syncedPropertyID: row[6], syncedPropertyName: row[7], joinView: row[8] ?? "")
            }
        }
    }

    static func uuid(_ text: String?) throws(StoreError) -> UUID {
        guard let text, let uuid = UUID(uuidString: text) else {
            throw StoreError(code: .protocol, message: "expected a uuid from PostgreSQL")
        }
        return uuid
    }
}
