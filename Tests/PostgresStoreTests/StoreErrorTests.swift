import Foundation
import PostgresStore
import Testing

/// Tests that need no database.
@Suite struct StoreErrorTests {
    @Test(arguments: [
        ("08006", true, true), ("08001", true, true), ("57P01", true, true), ("57P03", true, true),
        ("40001", false, true), ("40P01", false, true),
        ("23505", false, false), ("42P01", false, false), ("22P02", false, false),
    ])
    func classifiesSQLStates(sqlState: String, connectionFailure: Bool, retryable: Bool) {
        let error = StoreError(code: .server, message: "m", sqlState: sqlState)
        #expect(error.isConnectionFailure == connectionFailure)
        #expect(error.isRetryable == retryable)
    }

    @Test func connectionErrorsAreRetryableOthersAreNot() {
        #expect(StoreError(code: .connection, message: "refused").isRetryable)
        #expect(StoreError(code: .connection, message: "refused").isConnectionFailure)
        #expect(!StoreError(code: .migration, message: "changed").isRetryable)
        #expect(!StoreError(code: .invalidInput, message: "too long").isRetryable)
        #expect(!StoreError(code: .protocol, message: "odd").isRetryable)
    }

    @Test func descriptionIsOneLineWithoutQueryDebugDescriptionHasIt() {
        let error = StoreError(
            code: .server, message: "duplicate key value violates unique constraint \"t_pkey\"", sqlState: "23505",
            detail: "Key (id)=(1) already exists.", hint: nil, constraint: "t_pkey", query: "INSERT INTO t\nVALUES ($1)")
        #expect(error.description == "PostgreSQL error 23505: duplicate key value violates unique constraint \"t_pkey\" (constraint t_pkey)")
        #expect(!error.description.contains("INSERT"))
        #expect(error.debugDescription.contains("query: INSERT INTO t VALUES ($1)"))
        #expect(error.debugDescription.contains("detail: Key (id)=(1) already exists."))
        #expect(!error.debugDescription.contains("\n"))
    }

    @Test func configurationDescriptionHidesTheURL() {
        let configuration = StoreConfiguration(url: "postgresql://u:hunter2@db/x")
        #expect(!"\(configuration)".contains("hunter2"))
        #expect("\(configuration)".contains("schema: relsync"))
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (String(repeating: "a", count: 1000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
    ])
    func migrationChecksumIsSHA256(sql: String, expected: String) {
        #expect(Migration(version: 1, name: "x", sql: sql).checksum == expected)
    }
}

/// The migrations compiled into the binary must be exactly the files in sql/migrations.
@Suite struct EmbeddedMigrationsTests {
    static let migrationsFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sql/migrations")

    @Test func embeddedMigrationsMatchSQLFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.migrationsFolder.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        #expect(!files.isEmpty)
        let onDisk = try files.map { file -> Migration in
            let name = String(file.dropLast(4))
            let version = try #require(Int(name.prefix(4)), "\(file) does not start with a 4-digit version")
            let sql = try String(contentsOf: Self.migrationsFolder.appendingPathComponent(file), encoding: .utf8)
            return Migration(version: version, name: name, sql: sql)
        }
        let embedded = PostgresStore.migrations
        #expect(embedded.map(\.name) == onDisk.map(\.name), "run scripts/embed-sql.sh")
        for (disk, compiled) in zip(onDisk, embedded) {
            #expect(compiled.version == disk.version)
            #expect(compiled.sql == disk.sql, "\(disk.name) differs from its embedded copy; run scripts/embed-sql.sh")
        }
    }

    @Test func versionsAreUniqueAndAscending() {
        let versions = PostgresStore.migrations.map(\.version)
        #expect(versions == versions.sorted())
        #expect(Set(versions).count == versions.count)
    }
}
