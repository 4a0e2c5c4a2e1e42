import Foundation
import PostgresStore
import Testing

extension PostgresIntegrationTests {
    /// `postgres.statement_timeout`, as the store applies it to its session.
    @Suite struct StatementTimeoutTests {
        @Test func aStatementPastTheTimeoutIsCancelledAndTheSessionStaysUsable() async throws {
            try await withStore { store in
                try await store.setStatementTimeout(.milliseconds(300))
                let shown = try await store.connection.query("SHOW statement_timeout")
                #expect(shown.scalar == "300ms")
                let error = await storeError { _ = try await store.connection.query("SELECT pg_sleep(5)") }
                #expect(error?.sqlState == "57014")
                #expect(error?.isConnectionFailure == false)
                #expect(error?.description.contains("canceling statement due to statement timeout") == true)
                // The session goes on, inside and outside transactions.
                #expect(try await store.connection.query("SELECT 1").scalar == "1")
                let rolledBack = await storeError {
                    try await store.connection.withTransaction { connection in
                        _ = try await connection.query("SELECT pg_sleep(5)")
                    }
                }
                #expect(rolledBack?.sqlState == "57014")
                #expect(try await store.counts().edges == 0)
            }
        }

        @Test func nilClearsTheTimeout() async throws {
            try await withStore(migrate: false) { store in
                try await store.setStatementTimeout(.seconds(2))
                #expect(try await store.connection.query("SHOW statement_timeout").scalar == "2s")
                try await store.setStatementTimeout(nil)
                #expect(try await store.connection.query("SHOW statement_timeout").scalar == "0")
            }
        }
    }
}
