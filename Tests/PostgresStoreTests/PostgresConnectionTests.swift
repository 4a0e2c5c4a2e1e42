import Foundation
import PostgresStore
import Testing

extension PostgresIntegrationTests {
    @Suite struct PostgresConnectionTests {
        @Test func connectsWithURL() async throws {
            let connection = try await PostgresConnection.connect(url: TestDatabase.url, logger: TestDatabase.logger)
            defer { connection.close() }
            let rows = try await connection.query(
                "SELECT current_database(), current_user, current_setting('application_name'), current_setting('client_encoding')")
            #expect(rows.columns == ["current_database", "current_user", "current_setting", "current_setting"])
            #expect(rows.rows == [[TestDatabase.database, TestDatabase.user, "relsync", "UTF8"]])
        }

        @Test func connectsWithKeyValueConninfoWhoseSettingsWin() async throws {
            let conninfo = TestDatabase.conninfo + " application_name='from conninfo'"
            let connection = try await PostgresConnection.connect(
                url: conninfo, applicationName: "ignored", logger: TestDatabase.logger)
            defer { connection.close() }
            let rows = try await connection.query("SELECT current_database(), current_setting('application_name')")
            #expect(rows.rows == [[TestDatabase.database, "from conninfo"]])
        }

        @Test func urlQueryParametersWin() async throws {
            let connection = try await PostgresConnection.connect(
                url: TestDatabase.url + "?application_name=from_url&connect_timeout=3", logger: TestDatabase.logger)
            defer { connection.close() }
            #expect(try await connection.query("SELECT current_setting('application_name')").scalar == "from_url")
        }

        @Test func unreachableServerIsAConnectionErrorWithoutThePassword() async throws {
            // Port 1 on loopback: nothing listens, the connection is refused at once.
            let urls = [
                "postgresql://relsync:S3cr3t-Pa%24%24word@127.0.0.1:1/nowhere",
                "host=127.0.0.1 port=1 user=relsync password='S3cr3t-Pa$$word' dbname=nowhere",
            ]
            for url in urls {
                let error = await storeError { _ = try await PostgresConnection.connect(url: url, logger: TestDatabase.logger) }
                let unwrapped = try #require(error)
                #expect(unwrapped.code == .connection)
                #expect(unwrapped.isConnectionFailure)
                #expect(unwrapped.isRetryable)
                let text = unwrapped.description + unwrapped.debugDescription + unwrapped.message
                #expect(text.contains("127.0.0.1"))
                #expect(text.contains("port 1"))
                #expect(unwrapped.description.hasPrefix("PostgreSQL connection failed: "))
                #expect(unwrapped.description.contains("Connection refused. Is the server running"))
                #expect(!unwrapped.description.contains("\n"))
                for secret in ["S3cr3t", "Pa$$word", "Pa%24%24word"] {
                    #expect(!text.contains(secret), "the error shows the password: \(text)")
                }
            }
        }

        @Test func refusedLoginIsNotRetryable() async throws {
            let url = "postgresql://\(TestDatabase.user)@\(TestDatabase.host):\(TestDatabase.port)/\(TestDatabase.uniqueName("no_such_db"))"
            let error = try #require(await storeError {
                _ = try await PostgresConnection.connect(url: url, logger: TestDatabase.logger)
            })
            #expect(error.code == .authentication)
            #expect(error.isConnectionFailure)
            #expect(!error.isRetryable)
            #expect(error.description.hasPrefix("PostgreSQL refused the connection: "))
            #expect(error.description.contains("does not exist"))
        }

        @Test func invalidSettingIsInvalidInput() async throws {
            let error = try #require(await storeError {
                _ = try await PostgresConnection.connect(url: TestDatabase.url + "?sslmode=sometimes", logger: TestDatabase.logger)
            })
            #expect(error.code == .invalidInput)
            #expect(!error.isRetryable)
            #expect(error.description.contains("sslmode"))
        }

        @Test func malformedConninfoIsInvalidInputWithoutThePassword() async throws {
            for url in ["host=127.0.0.1 password=hunter22secret trailing-garbage", "postgresql://u:hunter22secret@[::1/x"] {
                let error = try #require(await storeError {
                    _ = try await PostgresConnection.connect(url: url, logger: TestDatabase.logger)
                })
                #expect(error.code == .invalidInput)
                #expect(error.description.hasPrefix("invalid PostgreSQL URL or connection string"))
                #expect(!error.debugDescription.contains("hunter22"), "\(error.debugDescription)")
            }
        }

        @Test func hostileIdentifiersRoundTrip() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            let schemaName = TestDatabase.uniqueName("rs_ident") + " \"s\"; --"
            let schema = connection.quoteIdentifier(schemaName)
            try await connection.execute("CREATE SCHEMA \(schema)")
            do {
                try await createHostileTables(connection, schema: schema, schemaName: schemaName)
            } catch {
                _ = try? await connection.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
                throw error
            }
            try await connection.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        }

        private func createHostileTables(_ connection: PostgresConnection, schema: String, schemaName: String) async throws {
            let names = [
                "plain", "Mixed Case", "a\"b", "\"\"", "x; DROP TABLE y; --", "back\\slash\\", "it's", "tab\tand\nnewline",
                "ünïcødé 🚀 表", "select", "table", "%3AxYz", String(repeating: "n", count: 63),
                String(repeating: "é", count: 31) + "x",  // 63 bytes, multi-byte
            ]
            for name in names {
                let table = "\(schema).\(connection.quoteIdentifier(name))"
                try await connection.execute("CREATE TABLE \(table) (\(connection.quoteIdentifier(name)) text)")
                try await connection.execute("INSERT INTO \(table) VALUES ($1)", [name])
                let stored = try await connection.query(
                    """
                    SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1
                    WHERE n.nspname = $1 AND c.relname = $2
                    """, [schemaName, name])
                #expect(stored.rows == [[name, name]], "identifier \(name.debugDescription)")
                let value = try await connection.query("SELECT \(connection.quoteIdentifier(name)) FROM \(table)")
                #expect(value.scalar == name)
            }
            // PostgreSQL truncates longer names to 63 bytes: the same object under both spellings.
            let long = String(repeating: "L", count: 70)
            try await connection.execute("CREATE TABLE \(schema).\(connection.quoteIdentifier(long)) (x int)")
            let truncated = try await connection.query(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname LIKE 'L%'",
                [schemaName])
            #expect(truncated.rows == [[String(repeating: "L", count: 63)]])
        }

        @Test func hostileLiteralsRoundTrip() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            for value in ["", "it's", "''", "back\\slash", "\\'; DROP TABLE x; --", "ünïcødé 🚀", "tab\tnl\ncr\r", "$1", "E'x'"] {
                let literal = connection.quoteLiteral(value)
                #expect(try await connection.query("SELECT \(literal)").scalar == value, "literal \(literal)")
                #expect(try await connection.query("SELECT $1::text", [value]).scalar == value)
            }
            #expect(try await connection.query("SELECT \(connection.quoteLiteral("a\0b"))").scalar == "a\u{FFFD}b")
        }

        @Test func copyRoundTripsEveryEscapeExactly() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            try await connection.execute("CREATE TEMP TABLE copy_test (id int, a text, b text)")
            var rows: [[String?]] = [
                ["0", "tab\there", "new\nline"],
                ["1", "carriage\rreturn", "back\\slash"],
                ["2", "\\N", nil],  // the two-character string, then a real NULL
                ["3", "", "   "],
                ["4", "ünïcødé 🚀 表 \u{0301}", "\\t literally"],
                ["5", nil, "\\\\\t\n\r\\"],
                ["6", "end with backslash\\", "\u{7F}\u{1}"],
            ]
            // Enough data to cross several 64 KiB chunks.
            let filler = String(repeating: "x\ty\\z\n", count: 200)
            for id in 7..<1_007 {
                rows.append([String(id), "\(id) \(filler)", id % 3 == 0 ? nil : "row \(id)"])
            }
            let stored = try await connection.copyIn("COPY copy_test (id, a, b) FROM STDIN", rows: rows)
            #expect(stored == rows.count)
            let back = try await connection.query("SELECT id::text, a, b FROM copy_test ORDER BY copy_test.id")
            #expect(back.rows.count == rows.count)
            let mismatches = zip(rows, back.rows).filter { $0.0 != $0.1 }
            #expect(mismatches.isEmpty, "\(mismatches.count) rows differ; first: \(String(describing: mismatches.first).prefix(300))")
            #expect(try await connection.query("SELECT count(*) FROM copy_test WHERE b IS NULL").scalar == String(rows.filter { $0[2] == nil }.count))
        }

        @Test func copyFailuresLeaveTheConnectionUsable() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            try await connection.execute("CREATE TEMP TABLE copy_fail (id int, t text)")
            let nul = try #require(await storeError {
                try await connection.copyIn("COPY copy_fail FROM STDIN", rows: [["1", "ok"], ["2", "bad\0nul"]])
            })
            #expect(nul.code == .invalidInput)
            let badInteger = try #require(await storeError {
                try await connection.copyIn("COPY copy_fail FROM STDIN", rows: [["1", "ok"], ["not a number", "x"]])
            })
            #expect(badInteger.code == .server)
            #expect(badInteger.sqlState == "22P02")
            let notCopy = try #require(await storeError {
                try await connection.copyIn("SELECT 1", rows: [[String?]]())
            })
            #expect(notCopy.code == .protocol)
            #expect(try await connection.query("SELECT count(*) FROM copy_fail").scalar == "0")
            #expect(try await connection.copyIn("COPY copy_fail FROM STDIN", rows: [["9", "fine"]]) == 1)
        }

        @Test func transactionRollsBackOnThrowAndCommitsOtherwise() async throws {
            struct Boom: Error {}
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            try await connection.execute("CREATE TEMP TABLE tx_test (v text)")
            await #expect(throws: Boom.self) {
                try await connection.withTransaction { tx in
                    try await tx.execute("INSERT INTO tx_test VALUES ('rolled back')")
                    throw Boom()
                }
            }
            let committed = try await connection.withTransaction { tx in
                try await tx.execute("INSERT INTO tx_test VALUES ('committed')")
            }
            #expect(committed == 1)
            // A nested transaction is a savepoint: its failure undoes only its own work.
            try await connection.withTransaction { tx in
                try await tx.execute("INSERT INTO tx_test VALUES ('outer')")
                await #expect(throws: Boom.self) {
                    try await tx.withTransaction { inner in
                        try await inner.execute("INSERT INTO tx_test VALUES ('inner')")
                        throw Boom()
                    }
                }
            }
            // An error swallowed inside the body must not look like a commit.
            let swallowed = try #require(await storeError {
                try await connection.withTransaction { tx in
                    try await tx.execute("INSERT INTO tx_test VALUES ('lost')")
                    _ = try? await tx.execute("SELECT 1/0")
                }
            })
            #expect(swallowed.message.contains("rolled back"))
            let values = try await connection.query("SELECT v FROM tx_test ORDER BY v").rows.map { $0[0] }
            #expect(values == ["committed", "outer"])
        }

        @Test func serverErrorsCarryDiagnosticsButNotBindValues() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            try await connection.execute("CREATE TEMP TABLE err_test (id int CONSTRAINT err_test_pkey PRIMARY KEY)")
            try await connection.execute("INSERT INTO err_test VALUES ($1)", ["1"])
            let duplicate = try #require(await storeError {
                try await connection.execute("INSERT INTO err_test VALUES ($1)", ["1"])
            })
            #expect(duplicate.code == .server)
            #expect(duplicate.sqlState == "23505")
            #expect(duplicate.constraint == "err_test_pkey")
            #expect(duplicate.detail != nil)
            #expect(!duplicate.isRetryable)
            #expect(duplicate.query == "INSERT INTO err_test VALUES ($1)")

            let badUUID = try #require(await storeError {
                _ = try await connection.query("SELECT $1::uuid", ["private-value-42"])
            })
            #expect(badUUID.sqlState == "22P02")
            #expect(!badUUID.description.contains("private-value-42"), "\(badUUID.description)")
            #expect(!badUUID.debugDescription.contains("private-value-42"))
            #expect(badUUID.debugDescription.contains("SELECT $1::uuid"))

            let nulParameter = try #require(await storeError {
                _ = try await connection.query("SELECT $1::text", ["a\0b"])
            })
            #expect(nulParameter.code == .invalidInput)
            #expect(try await connection.query("SELECT 1").scalar == "1")
        }

        @Test func closedConnectionFailsWithConnectionError() async throws {
            let connection = try await TestDatabase.connect()
            connection.close()
            let error = try #require(await storeError { _ = try await connection.query("SELECT 1") })
            #expect(error.code == .connection)
        }

        @Test func terminatedBackendIsARetryableConnectionFailure() async throws {
            let victim = try await TestDatabase.connect()
            let killer = try await TestDatabase.connect()
            defer { victim.close(); killer.close() }
            let pid = try #require(try await victim.query("SELECT pg_backend_pid()").scalar)
            #expect(try await killer.query("SELECT pg_terminate_backend($1::int)", [pid]).scalar == "t")
            try await Task.sleep(for: .milliseconds(200))
            let error = try #require(await storeError { _ = try await victim.query("SELECT 1") })
            #expect(error.isConnectionFailure)
            #expect(error.isRetryable)
        }

        @Test func concurrentCallsShareOneConnectionSafely() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            let sums = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<50 {
                    group.addTask { Int(try await connection.query("SELECT $1::int * 2", [String(i)]).scalar ?? "") ?? -1 }
                }
                return try await group.reduce(0, +)
            }
            #expect(sums == (0..<50).reduce(0) { $0 + $1 * 2 })
        }
    }
}
