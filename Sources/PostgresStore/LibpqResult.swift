internal import CLibpq

/// Owns one `PGresult*` and `PQclear`s it when released, on every path.
///
/// Not Sendable: it lives on the connection's serial queue and is converted to
/// `PostgresRows` / `StoreError` values before anything leaves that queue.
final class LibpqResult {
    private let result: OpaquePointer

    /// Takes ownership of `result`.
    init(taking result: OpaquePointer) {
        self.result = result
    }

    deinit {
        PQclear(result)
    }

    enum Status: Equatable {
        case commandOK, tuplesOK, copyIn, copyOut, emptyQuery, fatalError, nonfatalError, other(String)
    }

    var status: Status {
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK: return .commandOK
        case PGRES_TUPLES_OK: return .tuplesOK
        case PGRES_COPY_IN: return .copyIn
        case PGRES_COPY_OUT: return .copyOut
        case PGRES_EMPTY_QUERY: return .emptyQuery
        case PGRES_FATAL_ERROR: return .fatalError
        case PGRES_NONFATAL_ERROR: return .nonfatalError
        default: return .other(String(cString: PQresStatus(status)))
        }
    }

    /// The number of rows a command affected or returned (`PQcmdTuples`); 0 when it does not say.
    var affectedRows: Int {
        guard let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    var columnNames: [String] {
        (0..<PQnfields(result)).map { column in
            PQfname(result, column).map { String(cString: $0) } ?? ""
        }
    }

    /// Every row as text values (`nil` for SQL NULL), in the text result format.
    var rows: [[String?]] {
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            rows.append(values)
        }
        return rows
    }

    /// The error this result carries, with the server's diagnostic fields.
    /// `connectionBroken` marks failures after which the connection is unusable.
    func error(connectionBroken: Bool, redactor: SecretRedactor) -> StoreError {
        func field(_ code: Int) -> String? {
            guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
            let text = String(cString: value)
            return text.isEmpty ? nil : text
        }
        let sqlState = field(Int(relsync_pq_diag_sqlstate))
        let primary = field(Int(relsync_pq_diag_message_primary))
            ?? PQresultErrorMessage(result).map { String(cString: $0) }
            ?? "unknown error"
        // A result without an SQLSTATE was made by libpq itself (e.g. "server closed the
        // connection unexpectedly"); with a broken connection that is a connection failure.
        let code: StoreError.Code = connectionBroken && (sqlState.map { $0.hasPrefix("08") } ?? true) ? .connection : .server
        return StoreError(
            code: code,
            message: redactor.redact(StoreError.sentence(primary)),
            sqlState: sqlState,
            detail: redactor.redact(field(Int(relsync_pq_diag_message_detail)).map(StoreError.sentence)),
            hint: redactor.redact(field(Int(relsync_pq_diag_message_hint)).map(StoreError.sentence)),
            constraint: field(Int(relsync_pq_diag_constraint_name))
        )
    }
}

@available(*, unavailable)
extension LibpqResult: Sendable {}
