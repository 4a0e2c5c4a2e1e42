import Foundation
import PostgresStore
import SyncKit
import Testing

/// Config and exit-code rules behind docs/RELIABILITY.md and docs/SECURITY.md.
@Suite struct ReliabilityConfigurationTests {
    let ds = "2f1c0c7e-1111-4222-8333-444455556666"

    func parse(notion: String = "", postgres: String = "") throws(ConfigError) -> RelsyncConfiguration {
        let yaml = "notion:\n  token: ntn_x\n\(notion)postgres:\n  url: postgresql://u:pw@127.0.0.1/db\n\(postgres)sync:\n  - data_source: \(ds)\n"
        return try RelsyncConfiguration.parse(yaml: yaml, path: "relsync.yaml", environment: [:])
    }

    @Test(arguments: [("1500ms", 1_500), ("30s", 30_000), ("5m", 300_000), ("1h", 3_600_000)])
    func statementTimeoutParses(_ text: String, _ milliseconds: Int64) throws {
        let config = try parse(postgres: "  statement_timeout: \(text)\n")
        #expect(config.postgres.statementTimeout == .milliseconds(milliseconds))
    }

    @Test func statementTimeoutIsOffByDefaultAndCanBeTurnedOff() throws {
        #expect(try parse().postgres.statementTimeout == nil)
        #expect(try parse(postgres: "  statement_timeout: off\n").postgres.statementTimeout == nil)
        #expect(try parse(postgres: "  statement_timeout: 0\n").postgres.statementTimeout == nil)
    }

    @Test(arguments: ["5 minutes", "-1s", "1.5s", "0s", "30", "25h"])
    func badStatementTimeoutIsAConfigError(_ text: String) {
        #expect(throws: ConfigError.self) { try parse(postgres: "  statement_timeout: \"\(text)\"\n") }
    }

    @Test(arguments: ["localhost", "127.0.0.1", "127.10.0.3", "[::1]"])
    func plainHTTPToLoopbackIsAllowed(_ host: String) throws {
        let config = try parse(notion: "  base_url: http://\(host):8080\n")
        #expect(config.notion.baseURL == "http://\(host):8080")
    }

    @Test(arguments: ["127.0.0.1.nip.io", "127.attacker.example", "1270.0.0.1", "127.0.0.256", "10.0.0.5", "api.notion.com"])
    func plainHTTPElsewhereIsRefused(_ host: String) {
        let error = #expect(throws: ConfigError.self) { try parse(notion: "  base_url: http://\(host)\n") }
        #expect(error?.message.contains("plain http to \(host)") == true, "\(String(describing: error))")
    }

    @Test func plainHTTPElsewhereNeedsTheExplicitFlag() throws {
        let config = try parse(notion: "  base_url: http://10.0.0.5:8080\n  allow_insecure_http: true\n")
        #expect(config.notion.baseURL == "http://10.0.0.5:8080")
    }

    @Test func httpsIsAlwaysAllowedAndOtherSchemesNever() throws {
        #expect(try parse(notion: "  base_url: https://notion.internal.example\n").notion.baseURL == "https://notion.internal.example")
        #expect(throws: ConfigError.self) { try parse(notion: "  base_url: ftp://api.notion.com\n") }
    }

    static let redactor = Redactor(["pw-s3cret-value"])

    @Test(arguments: [
        (StoreError(code: .authentication, message: "password authentication failed for user \"relsync\""), Int32(77), "PostgreSQL refused the login"),
        (StoreError(code: .server, message: "permission denied for database relsync", sqlState: "42501"), 77, "PostgreSQL denied a privilege the role needs"),
        (StoreError(code: .connection, message: "connection refused"), 69, "PostgreSQL unavailable"),
        (StoreError(code: .server, message: "terminating connection due to administrator command", sqlState: "57P01"), 69, "PostgreSQL unavailable"),
        (StoreError(code: .server, message: "canceling statement due to statement timeout", sqlState: "57014"), 69, "PostgreSQL cancelled a statement"),
        (StoreError(code: .server, message: "could not extend file: No space left on device", sqlState: "53100"), 69, "PostgreSQL is out of disk space (SQLSTATE 53100"),
        (StoreError(code: .server, message: "sorry, too many clients already", sqlState: "53300"), 69, "PostgreSQL is out of connections"),
        (StoreError(code: .server, message: "duplicate key value violates unique constraint", sqlState: "23505"), 1, "PostgreSQL: "),
    ])
    func postgresFailuresMapToTheirExitCodes(_ error: StoreError, _ code: Int32, _ prefix: String) {
        let (status, message) = Failure.classify(error, redactor: Self.redactor)
        #expect(status == code)
        #expect(message.hasPrefix(prefix), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func failureLinesAreScrubbedOfSecrets() {
        let error = StoreError(code: .server, message: "role pw-s3cret-value has no privilege", sqlState: "42501")
        let (_, message) = Failure.classify(error, redactor: Self.redactor)
        #expect(!message.contains("pw-s3cret-value"))
    }
}
