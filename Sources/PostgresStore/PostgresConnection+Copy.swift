extension PostgresConnection {
    /// Bytes sent to the server per `PQputCopyData` call.
    static let copyChunkSize = 64 * 1024

    /// Runs `copyStatement` (a `COPY … FROM STDIN` in the default text format) and streams
    /// `rows` to it in 64 KiB chunks, encoding each value in COPY's text format (`nil` is NULL).
    /// Returns the number of rows the server stored.
    @discardableResult
    public func copyIn(_ copyStatement: String, rows: some Sequence<[String?]> & Sendable) async throws -> Int {
        try await onQueue { libpq in
            try self.performCopyIn(copyStatement, rows: rows, on: libpq)
        }
    }

    private func performCopyIn(
        _ sql: String, rows: some Sequence<[String?]>, on libpq: LibpqConnection
    ) throws -> Int {
        let redactor = redactor(binding: [])
        try startCopyIn(sql, redactor: redactor, on: libpq)

        var encoder = CopyTextEncoder(capacity: Self.copyChunkSize)
        var failure: StoreError?
        rowLoop: for row in rows {
            do {
                try encoder.append(row)
            } catch {
                failure = error
                break rowLoop
            }
            if encoder.bytes.count >= Self.copyChunkSize, !encoder.flush(libpq.putCopyData) {
                failure = sendFailure(libpq, redactor)
                break rowLoop
            }
        }
        if failure == nil, !encoder.bytes.isEmpty, !encoder.flush(libpq.putCopyData) {
            failure = sendFailure(libpq, redactor)
        }
        return try endCopyIn(sql, failure: failure, redactor: redactor, on: libpq)
    }

    /// Sends a `COPY … FROM STDIN` statement; throws unless the server now waits for the data.
    func startCopyIn(_ sql: String, redactor: SecretRedactor, on libpq: LibpqConnection) throws {
        guard try startCopy(sql, redactor: redactor, on: libpq) == .copyIn else {
            throw StoreError(code: .protocol, message: "copying in needs a COPY … FROM STDIN statement", query: sql)
        }
    }

    /// Ends a COPY … FROM STDIN: aborts it with `failure`'s message when the data could not be
    /// sent, then reads every result so the connection is ready for the next statement. Throws
    /// the client's failure first, else the server's; returns the number of rows stored.
    func endCopyIn(_ sql: String, failure: StoreError?, redactor: SecretRedactor, on libpq: LibpqConnection) throws -> Int {
        _ = libpq.putCopyEnd(failure: failure.map { "relsync aborted the COPY: \($0.message)" })
        var serverError: StoreError?
        var stored = 0
        while let result = libpq.getResult() {
            switch result.status {
            case .commandOK:
                stored = result.affectedRows
            case .fatalError, .nonfatalError:
                if serverError == nil {
                    serverError = result.error(connectionBroken: !libpq.isConnected, redactor: redactor)
                }
            default:
                if serverError == nil {
                    serverError = StoreError(code: .protocol, message: "unexpected result \(result.status) after COPY")
                }
            }
        }
        if var failure {
            failure.query = sql
            throw failure
        }
        if var serverError {
            serverError.query = sql
            throw serverError
        }
        if !libpq.isConnected {
            throw StoreError(
                code: .connection, message: redactor.redact(StoreError.sentence(libpq.errorMessage)), query: sql)
        }
        return stored
    }

    /// The error for COPY data libpq could not send.
    func sendFailure(_ libpq: LibpqConnection, _ redactor: SecretRedactor) -> StoreError {
        StoreError(
            code: libpq.isConnected ? .protocol : .connection,
            message: "sending COPY data failed: " + redactor.redact(StoreError.sentence(libpq.errorMessage)))
    }
}

/// Encodes rows in COPY's text format: fields separated by tabs, rows ended by newlines,
/// NULL as `\N`, and backslash, tab, newline and carriage return escaped.
struct CopyTextEncoder {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity + capacity / 4)
    }

    mutating func append(_ row: [String?]) throws(StoreError) {
        for (index, field) in row.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "\t")) }
            guard let field else {
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "N"))
                continue
            }
            for byte in field.utf8 {
                switch byte {
                case UInt8(ascii: "\\"):
                    bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "\t"):
                    bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
                case UInt8(ascii: "\n"):
                    bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"):
                    bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
                case 0:
                    throw StoreError(
                        code: .invalidInput,
                        message: "a COPY value contains a NUL character, which PostgreSQL text cannot store")
                default:
                    bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    /// Hands the buffered bytes to `send` and empties the buffer; false when `send` failed.
    mutating func flush(_ send: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        let sent = bytes.withUnsafeBytes(send)
        bytes.removeAll(keepingCapacity: true)
        return sent
    }
}

extension PostgresConnection {
    /// Sends a COPY statement and returns the status it started with; a failed statement (or a
    /// broken connection) is thrown as the store's error, redacted.
    func startCopy(_ sql: String, redactor: SecretRedactor, on libpq: LibpqConnection) throws -> LibpqResult.Status {
        guard libpq.isOpen else { throw closedError(query: sql) }
        guard let start = libpq.exec(sql) else {
            throw StoreError(
                code: libpq.isConnected ? .protocol : .connection,
                message: redactor.redact(StoreError.sentence(libpq.errorMessage)), query: sql)
        }
        switch start.status {
        case .fatalError, .nonfatalError:
            var error = start.error(connectionBroken: !libpq.isConnected, redactor: redactor)
            error.query = sql
            throw error
        default:
            return start.status
        }
    }
}
