import Foundation
import PostgresStore
import Testing

extension PostgresIntegrationTests {
    @Suite struct MigrationTests {
        @Test func migrateAppliesOnceThenIsIdempotent() async throws {
            try await withStore(migrate: false) { store in
                let all = PostgresStore.migrations.map(\.name)
                #expect(try await store.pendingMigrations() == all)
                #expect(try await store.migrate() == all)
                #expect(try await store.pendingMigrations() == [])
                #expect(try await store.migrate() == [])
                #expect(try await store.counts() == StoreCounts(dataSources: 0, pages: 0, relations: 0, edges: 0))

                let schema = store.connection.quoteIdentifier(store.configuration.schema)
                let recorded = try await store.connection.query(
                    "SELECT version::text, name, checksum FROM \(schema).schema_migrations ORDER BY version")
                #expect(recorded.rows == PostgresStore.migrations.map { [String($0.version), $0.name, $0.checksum] })
                // The migration's tables landed in the configured schema, not in public.
                let tables = try await store.connection.query(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename IN ('pages', 'edges', 'relations', 'runs')",
                    [store.configuration.schema])
                #expect(tables.scalar == "4")
            }
        }

        @Test func changedChecksumIsDetected() async throws {
            try await withStore { store in
                let schema = store.connection.quoteIdentifier(store.configuration.schema)
                try await store.connection.execute(
                    "UPDATE \(schema).schema_migrations SET checksum = 'edited' WHERE version = 1")
                let migrateError = try #require(await storeError { _ = try await store.migrate() })
                #expect(migrateError.code == .migration)
                #expect(migrateError.description.contains("0001_core"))
                #expect(migrateError.description.contains("checksum"))
                #expect(!migrateError.isRetryable)
                let pendingError = try #require(await storeError { _ = try await store.pendingMigrations() })
                #expect(pendingError.code == .migration)
            }
        }

        @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
            try await withStore(migrate: false) { first in
                let second = try await PostgresStore.open(first.configuration, logger: TestDatabase.logger)
                defer { second.close() }
                async let a = first.migrate()
                async let b = second.migrate()
                let applied = try await a + b
                #expect(applied.sorted() == PostgresStore.migrations.map(\.name).sorted())
                #expect(try await second.pendingMigrations() == [])
            }
        }

        @Test func hostileSchemaNamesWork() async throws {
            let schema = TestDatabase.uniqueName("rs") + " \"x\"; DROP TABLE y; -- \\ ü"
            try await withStore(schema: schema) { store in
                #expect(try await store.pendingMigrations() == [])
                let found = try await store.connection.query(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = $1", [schema])
                #expect(Int(found.scalar ?? "0")! >= 6)
            }
        }

        @Test func overlongSchemaNameIsRejectedBeforeConnecting() async throws {
            let error = try #require(await storeError {
                _ = try await PostgresStore.open(
                    StoreConfiguration(url: TestDatabase.url, schema: String(repeating: "s", count: 64)),
                    logger: TestDatabase.logger)
            })
            #expect(error.code == .invalidInput)
            #expect(error.description.contains("63"))
        }

        @Test func runsAndAdvisoryLocks() async throws {
            try await withStore { store in
                let runID = try await store.beginRun(mode: "full")
                try await store.finishRun(
                    runID, outcome: "succeeded", error: nil, apiCalls: ["GET /v1/pages/{id}": 3, "POST /v1/data_sources/{id}/query": 12],
                    rateLimited: 1, retries: 2, pagesRead: 40, edgesAdded: 5, edgesRemoved: 6)
                let schema = store.connection.quoteIdentifier(store.configuration.schema)
                let row = try await store.connection.query(
                    """
                    SELECT mode, outcome, error, api_calls::text, rate_limited::text, retries::text, pages_read::text,
                           edges_added::text, edges_removed::text, finished_at IS NOT NULL
                    FROM \(schema).runs WHERE run_id = $1
                    """, [String(runID)])
                #expect(row.rows == [[
                    "full", "succeeded", nil, #"{"GET /v1/pages/{id}": 3, "POST /v1/data_sources/{id}/query": 12}"#,
                    "1", "2", "40", "5", "6", "t",
                ]])
                let missing = try #require(await storeError {
                    try await store.finishRun(runID + 1000, outcome: "failed", error: "x", apiCalls: [:], rateLimited: 0,
                                              retries: 0, pagesRead: 0, edgesAdded: 0, edgesRemoved: 0)
                })
                #expect(missing.code == .invalidInput)

                let lockName = TestDatabase.uniqueName("relsync.reconcile")
                let other = try await PostgresStore.open(store.configuration, logger: TestDatabase.logger)
                defer { other.close() }
                #expect(try await store.tryAdvisoryLock(lockName))
                #expect(try await other.tryAdvisoryLock(lockName) == false)
                #expect(try await store.releaseAdvisoryLock(lockName))
                #expect(try await other.tryAdvisoryLock(lockName))
            }
        }

        /// A run whose connection ended before it recorded its outcome is closed by the next
        /// run; a run whose connection is still open (another config's, going on) is not.
        @Test func abandonedRunsAreClosedAndLiveOnesKept() async throws {
            try await withStore { store in
                let schema = store.connection.quoteIdentifier(store.configuration.schema)
                let dead = try await PostgresStore.open(store.configuration, logger: TestDatabase.logger)
                let deadRun = try await dead.beginRun(mode: "full")
                dead.close()
                let live = try await PostgresStore.open(store.configuration, logger: TestDatabase.logger)
                defer { live.close() }
                let liveRun = try await live.beginRun(mode: "auto")
                let finished = try await store.beginRun(mode: "auto")
                try await store.finishRun(
                    finished, outcome: "succeeded", error: nil, apiCalls: [:], rateLimited: 0, retries: 0, pagesRead: 0,
                    edgesAdded: 0, edgesRemoved: 0)

                // The dead session's lock may take a moment to go once its socket closes.
                var closed: [Int64] = []
                for _ in 0..<50 where closed.isEmpty {
                    closed = try await store.closeAbandonedRuns()
                    if closed.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(closed == [deadRun])
                let rows = try await store.connection.query(
                    "SELECT run_id::text, outcome, error IS NOT NULL, finished_at IS NOT NULL FROM \(schema).runs ORDER BY run_id")
                #expect(rows.rows == [
                    [String(deadRun), "failed", "t", "t"], [String(liveRun), "running", "f", "f"],
                    [String(finished), "succeeded", "f", "t"],
                ])
                #expect(try await store.closeAbandonedRuns().isEmpty)
                // Once the live run's connection ends too, it is closed as well.
                live.close()
                var later: [Int64] = []
                for _ in 0..<50 where later.isEmpty {
                    later = try await store.closeAbandonedRuns()
                    if later.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(later == [liveRun])
            }
        }
    }
}
