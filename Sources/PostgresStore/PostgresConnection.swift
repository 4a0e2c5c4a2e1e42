import Dispatch
import Foundation
public import Logging

/// One PostgreSQL connection with an async API.
///
/// Every blocking libpq call runs on the connection's private serial `DispatchQueue`, never
/// on the Swift concurrency pool; each call is bounded by libpq's `connect_timeout` and the
/// server's own timeouts rather than cancelled mid-call. Statements run one at a time in the
/// order they are issued. A connection holds one session: tasks that share it must not
/// interleave transactions (`PostgresStore` serializes its own operations).
public final class PostgresConnection: Sendable {
    // `nonisolated(unsafe)`: LibpqConnection is not Sendable. Every use of it happens inside a
    // closure running on `queue` (a serial queue owned by this object), so the PGconn is never
    // used by two threads at once, which is the whole of libpq's threading rule.
    private nonisolated(unsafe) let libpq: LibpqConnection
    private let queue: DispatchQueue
    private let logger: Logger
    /// The password (and PGPASSWORD), scrubbed from every message libpq produces.
    private let secrets: [String]

    private init(libpq: LibpqConnection, queue: DispatchQueue, logger: Logger, secrets: [String]) {
        self.libpq = libpq
        self.queue = queue
        self.logger = logger
        self.secrets = secrets
    }

    /// The seconds libpq waits for a connection when neither the URL nor `PGCONNECT_TIMEOUT` says.
    public static let defaultConnectTimeout = 10

    /// Opens a connection.
    ///
    /// - Parameter url: any libpq URI (`postgresql://user@host:5432/db?sslmode=require`) or
    ///   `key=value` conninfo string, or a bare database name; its own settings win over the
    ///   defaults here. `nil` or empty: libpq's `PG*` environment variables and `~/.pgpass` decide.
    public static func connect(
        url: String?, applicationName: String = "relsync", logger: Logger
    ) async throws -> PostgresConnection {
        let environment = ProcessInfo.processInfo.environment
        var secrets: [String] = []
        if let password = environment["PGPASSWORD"] { secrets.append(password) }

        // Order matters: with expand_dbname, the settings expanded from `dbname` override the
        // ones before it, and the ones after it override everything.
        var parameters: [(keyword: String, value: String)] = []
        if environment["PGCONNECT_TIMEOUT"] == nil {
            parameters.append(("connect_timeout", String(defaultConnectTimeout)))
        }
        if environment["PGAPPNAME"] == nil {
            parameters.append(("application_name", applicationName))
        }
        // Notice a silently dropped TCP connection within about a minute instead of the
        // kernel's two hours, so a cron run fails (and retries) instead of hanging.
        parameters += [("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3")]
        let trimmed = url?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if !trimmed.isEmpty {
            secrets += try passwords(in: trimmed)
            parameters.append(("dbname", trimmed))
        }
        // PostgresStore speaks UTF-8 (Swift strings, COPY text); a client_encoding from the
        // URL or PGCLIENTENCODING would corrupt non-ASCII text, so this one always wins.
        parameters.append(("client_encoding", "UTF8"))

        let queue = DispatchQueue(label: "relsync.postgres.connection")
        let connectionSecrets = secrets
        let connectParameters = parameters
        let connection: PostgresConnection = try await withCheckedThrowingContinuation { continuation in
            queue.async {
                let libpq = LibpqConnection(parameters: connectParameters, expandDBName: true, logger: logger)
                guard libpq.isConnected else {
                    let redactor = SecretRedactor(secrets: connectionSecrets)
                    var message = redactor.redact(StoreError.sentence(libpq.errorMessage))
                    if message.isEmpty { message = "could not connect" }
                    let code = classifyConnectFailure(message)
                    if code == .invalidInput { message = "invalid PostgreSQL connection setting: " + message }
                    // `libpq` is released here: its deinit runs PQfinish on the failed PGconn.
                    continuation.resume(throwing: StoreError(code: code, message: message))
                    return
                }
                continuation.resume(returning: PostgresConnection(
                    libpq: libpq, queue: queue, logger: logger, secrets: connectionSecrets))
            }
        }
        let endpoint = try await connection.onQueue { libpq in
            let endpoint = libpq.endpoint
            return [endpoint.host, endpoint.port, endpoint.database, endpoint.user, String(libpq.serverVersion)]
        }
        logger.debug("Connected to PostgreSQL", metadata: [
            "db.host": "\(endpoint[0])", "db.port": "\(endpoint[1])", "db.name": "\(endpoint[2])",
            "db.user": "\(endpoint[3])", "db.server_version": "\(endpoint[4])",
        ])
        return connection
    }

    /// The passwords a URL or conninfo string carries, to scrub them from messages. Throws a
    /// redacted error when libpq cannot parse it.
    private static func passwords(in conninfo: String) throws -> [String] {
        let isURI = conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://")
        guard isURI || conninfo.contains("=") else { return [] }  // a bare database name
        switch LibpqConnection.parseConninfo(conninfo) {
        case .failure(let error):
            // libpq quotes the offending fragment, which may be (part of) the password.
            throw StoreError(
                code: .invalidInput,
                message: "invalid PostgreSQL URL or connection string: \(redactQuoted(StoreError.sentence(error.message)))")
        case .success(let options):
            var found: [String] = []
            if let password = options["password"] { found.append(password) }
            // The percent-encoded form as written in a URI's user-info, too.
            if isURI, let schemeEnd = conninfo.range(of: "://") {
                let rest = conninfo[schemeEnd.upperBound...]
                let authority = rest.prefix { $0 != "/" && $0 != "?" }
                if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                    found.append(String(authority[authority.index(after: colon)..<at]))
                }
            }
            return found
        }
    }

    /// What a failed connect means. libpq reports every failure as CONNECTION_BAD, so this
    /// reads its (English, C-locale) message: a refused login and a bad setting are not worth
    /// retrying; anything else (refused, unreachable, timed out, server starting) may be.
    static func classifyConnectFailure(_ message: String) -> StoreError.Code {
        let refusedLogin = [
            "authentication failed", "no pg_hba.conf entry", "does not exist", "permission denied",
            "no password supplied", "password is required", "pg_hba.conf rejects",
        ]
        if refusedLogin.contains(where: { message.contains($0) }) { return .authentication }
        if message.hasPrefix("invalid ") { return .invalidInput }
        return .connection
    }

    /// Replaces every double-quoted fragment longer than one character with `"…"` (libpq
    /// quotes pieces of the connection string, which may hold the password; `"="` stays).
    private static func redactQuoted(_ text: String) -> String {
        var result = ""
        var quoted: String?
        for character in text {
            if character == "\"" {
                if let fragment = quoted {
                    result += (fragment.count <= 1 ? fragment : "…") + "\""
                    quoted = nil
                } else {
                    result += "\""
                    quoted = ""
                }
            } else if quoted != nil {
                quoted!.append(character)
            } else {
                result.append(character)
            }
        }
        return quoted == nil ? result : result + "…\""
    }

    // MARK: - Statements

    /// Runs one statement with text-format parameters (`$1`, `$2`, …; `nil` is NULL) and
    /// returns its rows.
    public func query(_ sql: String, _ params: [String?] = []) async throws -> PostgresRows {
        try await onQueue { libpq in
            let result = try self.perform(sql, params, on: libpq)
            return PostgresRows(columns: result.columnNames, rows: result.rows, affectedRows: result.affectedRows)
        }
    }

    /// Runs one statement with text-format parameters and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ params: [String?] = []) async throws -> Int {
        try await onQueue { libpq in
            try self.perform(sql, params, on: libpq).affectedRows
        }
    }

    /// Runs a script of several statements (`PQexec`, no parameters), e.g. a migration file.
    /// Outside a transaction the script runs as one implicit transaction.
    public func executeScript(_ sql: String) async throws {
        _ = try await onQueue { libpq in
            try self.perform(sql, nil, on: libpq).affectedRows
        }
    }

    /// Runs `body` in a transaction: BEGIN, then COMMIT, or ROLLBACK when `body` throws.
    /// Inside another transaction, it uses a savepoint instead.
    public func withTransaction<T: Sendable>(
        _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let nested = try await onQueue { libpq in
            libpq.transactionStatus == .inTransaction || libpq.transactionStatus == .inFailedTransaction
        }
        let savepoint = nested ? "relsync_savepoint_\(UInt64.random(in: 1...UInt64.max))" : nil
        try await execute(savepoint.map { "SAVEPOINT \($0)" } ?? "BEGIN")
        let value: T
        do {
            value = try await body(self)
        } catch {
            await rollback(to: savepoint)
            throw error
        }
        let failed = try await onQueue { $0.transactionStatus == .inFailedTransaction }
        if failed {
            // COMMIT would silently roll back; say so instead of pretending it committed.
            await rollback(to: savepoint)
            throw StoreError(
                code: .server,
                message: "the transaction was rolled back because a statement in it failed and the error was ignored")
        }
        try await execute(savepoint.map { "RELEASE SAVEPOINT \($0)" } ?? "COMMIT")
        return value
    }

    private func rollback(to savepoint: String?) async {
        do {
            if let savepoint {
                try await execute("ROLLBACK TO SAVEPOINT \(savepoint)")
                try await execute("RELEASE SAVEPOINT \(savepoint)")
            } else {
                try await execute("ROLLBACK")
            }
        } catch {
            // The original error matters more; a broken connection rolls back by itself.
            logger.debug("Rollback failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Quoting

    /// Quotes an identifier with `PQescapeIdentifier` ("a""b"). NUL characters, which
    /// PostgreSQL identifiers cannot hold, become U+FFFD. Call it from outside the connection's
    /// work (it waits for the statement in progress, if any).
    public func quoteIdentifier(_ name: String) -> String {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let clean = Self.withoutNUL(name)
        return queue.sync { libpq.escapeIdentifier(clean) }
            ?? "\"" + clean.replacing("\"", with: "\"\"") + "\""
    }

    /// Quotes a string literal with `PQescapeLiteral` ('it''s', or E'a\\b' with backslashes).
    /// NUL characters, which PostgreSQL text cannot hold, become U+FFFD.
    public func quoteLiteral(_ value: String) -> String {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let clean = Self.withoutNUL(value)
        if let quoted = queue.sync(execute: { libpq.escapeLiteral(clean) }) { return quoted }
        let body = clean.replacing("'", with: "''")
        return clean.contains("\\") ? " E'" + body.replacing("\\", with: "\\\\") + "'" : "'" + body + "'"
    }

    static func withoutNUL(_ text: String) -> String {
        text.contains("\0") ? text.replacing("\0", with: "\u{FFFD}") : text
    }

    /// Closes the connection after the statements already issued. Later calls fail with a
    /// connection error.
    public func close() {
        queue.async {
            if self.libpq.isOpen {
                self.libpq.finish()
                self.logger.debug("Closed PostgreSQL connection")
            }
        }
    }

    // MARK: - Queue plumbing

    /// Runs `body` on the connection's queue and resumes with its result.
    func onQueue<T: Sendable>(_ body: @escaping @Sendable (LibpqConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self.libpq) })
            }
        }
    }

    /// A redactor for messages about a statement run with `params`.
    func redactor(binding params: [String?]) -> SecretRedactor {
        SecretRedactor(secrets: secrets + params.compactMap { $0 })
    }

    func closedError(query: String?) -> StoreError {
        StoreError(code: .connection, message: "the connection is closed", query: query)
    }

    /// Runs a statement on the queue: `PQexecParams` when `params` is non-nil, else `PQexec`.
    /// Returns the successful result or throws its error.
    private func perform(_ sql: String, _ params: [String?]?, on libpq: LibpqConnection) throws -> LibpqResult {
        dispatchPrecondition(condition: .onQueue(queue))
        guard libpq.isOpen else { throw closedError(query: sql) }
        let redactor = redactor(binding: params ?? [])
        if let params, params.contains(where: { $0?.contains("\0") ?? false }) {
            throw StoreError(
                code: .invalidInput, message: "a parameter contains a NUL character, which PostgreSQL text cannot store",
                query: sql)
        }
        logger.trace("Executing statement", metadata: ["db.statement": "\(sql)", "db.parameters": "\(params?.count ?? 0)"])
        let result = params.map { libpq.execParams(sql, $0) } ?? libpq.exec(sql)
        guard let result else {
            throw StoreError(
                code: libpq.isConnected ? .protocol : .connection,
                message: redactor.redact(StoreError.sentence(libpq.errorMessage)), query: sql)
        }
        switch result.status {
        case .commandOK, .tuplesOK, .emptyQuery:
            return result
        case .fatalError, .nonfatalError:
            var error = result.error(connectionBroken: !libpq.isConnected, redactor: redactor)
            error.query = sql
            throw error
        case .copyIn:
            _ = libpq.putCopyEnd(failure: "COPY FROM STDIN must go through copyIn")
            while libpq.getResult() != nil {}
            throw StoreError(code: .protocol, message: "COPY FROM STDIN must be run with copyIn", query: sql)
        case .copyOut, .other:
            // The connection is mid-protocol in a state this facade does not drive; drop it.
            libpq.finish()
            throw StoreError(code: .protocol, message: "unsupported statement result (\(result.status)); connection closed", query: sql)
        }
    }
}
