import Foundation
import Logging
import PostgresStore
import Testing

/// The database the integration tests use, from the postgres-nio variable names
/// (`eval "$(scripts/pg.sh env)"` sets them for the local cluster).
enum TestDatabase {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    static var isConfigured: Bool { environment["POSTGRES_HOSTNAME"] != nil }
    static var host: String { environment["POSTGRES_HOSTNAME"] ?? "localhost" }
    static var port: String { environment["POSTGRES_PORT"] ?? "5432" }
    static var user: String { environment["POSTGRES_USER"] ?? "test_username" }
    static var password: String? { environment["POSTGRES_PASSWORD"] }
    static var database: String { environment["POSTGRES_DB"] ?? "test_database" }

    static var url: String {
        var userInfo = percentEncoded(user)
        if let password { userInfo += ":" + percentEncoded(password) }
        return "postgresql://\(userInfo)@\(host):\(port)/\(percentEncoded(database))"
    }

    /// The same database as a `key=value` conninfo string.
    static var conninfo: String {
        var parts = ["host=\(quoted(host))", "port=\(port)", "user=\(quoted(user))", "dbname=\(quoted(database))"]
        if let password { parts.append("password=\(quoted(password))") }
        return parts.joined(separator: " ")
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    static let logger = Logger(label: "relsync.tests") { _ in SwiftLogNoOpLogHandler() }

    /// A name no other test (or concurrent test run) uses.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt64.random(in: 0...UInt64.max) & 0xffff_ffff_ffff)"
    }

    static func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(url: url, logger: logger)
    }
}

/// Opens a store on fresh schemas (migrated unless told otherwise), runs `body`, then drops
/// the schemas and closes the store, whether `body` succeeded or not.
func withStore<T: Sendable>(
    schema: String = TestDatabase.uniqueName("rs_test"),
    viewsSchema: String = TestDatabase.uniqueName("rs_views"),
    migrate: Bool = true,
    _ body: (PostgresStore) async throws -> T
) async throws -> T {
    let configuration = StoreConfiguration(url: TestDatabase.url, schema: schema, viewsSchema: viewsSchema)
    let store = try await PostgresStore.open(configuration, logger: TestDatabase.logger)
    func cleanUp() async {
        let connection = store.connection
        _ = try? await connection.execute("DROP SCHEMA IF EXISTS \(connection.quoteIdentifier(viewsSchema)) CASCADE")
        _ = try? await connection.execute("DROP SCHEMA IF EXISTS \(connection.quoteIdentifier(schema)) CASCADE")
        store.close()
    }
    do {
        if migrate { _ = try await store.migrate() }
        let value = try await body(store)
        await cleanUp()
        return value
    } catch {
        await cleanUp()
        throw error
    }
}

/// Runs `body` and returns the StoreError it threw; records an issue if it threw none or another error.
func storeError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> StoreError? {
    do {
        try await body()
        Issue.record("expected a StoreError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        return error
    } catch {
        Issue.record("expected a StoreError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The root of every suite that needs PostgreSQL: skipped without POSTGRES_HOSTNAME, and
/// serialized so the suites do not compete for the cluster.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["POSTGRES_HOSTNAME"] != nil), .serialized)
struct PostgresIntegrationTests {}
