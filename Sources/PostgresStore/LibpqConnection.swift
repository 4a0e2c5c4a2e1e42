internal import CLibpq
import Foundation
import Logging

/// Owns one `PGconn*`; `PQfinish` runs in `deinit` (or in `finish()`), even after a failed
/// connect, because `PQconnectdbParams` allocates a `PGconn` either way.
///
/// Not Sendable: libpq allows one thread at a time per `PGconn`. `PostgresConnection` keeps
/// it on a private serial queue.
final class LibpqConnection {
    private var conn: OpaquePointer?
    /// Receives libpq's notices; must outlive `conn` (it is its notice-processor argument).
    private let notices: NoticeSink

    /// Connects with `PQconnectdbParams`. Later parameters override earlier ones; with
    /// `expandDBName`, a `dbname` value that is a URI or `key=value` string is expanded in place.
    init(parameters: [(keyword: String, value: String)], expandDBName: Bool, logger: Logger) {
        notices = NoticeSink(logger: logger)
        let keywords: [UnsafeMutablePointer<CChar>?] = parameters.map { strdup($0.keyword) }
        let values: [UnsafeMutablePointer<CChar>?] = parameters.map { strdup($0.value) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordArray = keywords.map { $0.map { UnsafePointer($0) } } + [nil]
        let valueArray = values.map { $0.map { UnsafePointer($0) } } + [nil]
        conn = keywordArray.withUnsafeBufferPointer { keywordBuffer in
            valueArray.withUnsafeBufferPointer { valueBuffer in
                PQconnectdbParams(keywordBuffer.baseAddress, valueBuffer.baseAddress, expandDBName ? 1 : 0)
            }
        }
        if let conn {
            // Without a processor libpq prints NOTICEs ("schema already exists, skipping") on stderr.
            PQsetNoticeProcessor(conn, { argument, message in
                guard let argument, let message else { return }
                Unmanaged<NoticeSink>.fromOpaque(argument).takeUnretainedValue().receive(String(cString: message))
            }, Unmanaged.passUnretained(notices).toOpaque())
        }
    }

    deinit {
        finish()
    }

    /// Closes the connection and frees the `PGconn`; later calls report a closed connection.
    func finish() {
        if let conn {
            PQfinish(conn)
            self.conn = nil
        }
    }

    var isOpen: Bool { conn != nil }

    var isConnected: Bool {
        guard let conn else { return false }
        return PQstatus(conn) == CONNECTION_OK
    }

    /// libpq's latest error text for this connection (multi-line, unredacted).
    var errorMessage: String {
        guard let conn, let message = PQerrorMessage(conn) else { return "connection is closed" }
        return String(cString: message)
    }

    var serverVersion: Int {
        guard let conn else { return 0 }
        return Int(PQserverVersion(conn))
    }

    /// Where the connection went, for logs (never the password).
    var endpoint: (host: String, port: String, database: String, user: String) {
        func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        guard let conn else { return ("", "", "", "") }
        return (text(PQhost(conn)), text(PQport(conn)), text(PQdb(conn)), text(PQuser(conn)))
    }

    enum TransactionStatus { case idle, active, inTransaction, inFailedTransaction, unknown }

    var transactionStatus: TransactionStatus {
        guard let conn else { return .unknown }
        switch PQtransactionStatus(conn) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inFailedTransaction
        default: return .unknown
        }
    }

    /// `PQexec`: one or more statements, no parameters. `nil` when libpq could not even
    /// allocate a result (out of memory, or the connection is closed).
    func exec(_ sql: String) -> LibpqResult? {
        guard let conn else { return nil }
        return PQexec(conn, sql).map { LibpqResult(taking: $0) }
    }

    /// `PQexecParams` with text-format parameters (`nil` is SQL NULL) and text results.
    func execParams(_ sql: String, _ params: [String?]) -> LibpqResult? {
        guard let conn else { return nil }
        let copies: [UnsafeMutablePointer<CChar>?] = params.map { $0.flatMap { strdup($0) } }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeBufferPointer { buffer in
            PQexecParams(conn, sql, Int32(params.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        return result.map { LibpqResult(taking: $0) }
    }

    /// Sends COPY data; false on failure (see `errorMessage`).
    func putCopyData(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let conn else { return false }
        guard let base = bytes.baseAddress else { return true }
        return PQputCopyData(conn, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count)) == 1
    }

    /// Ends COPY data; with `failure`, asks the server to abort the COPY with that message.
    func putCopyEnd(failure: String?) -> Bool {
        guard let conn else { return false }
        if let failure {
            return PQputCopyEnd(conn, failure) == 1
        }
        return PQputCopyEnd(conn, nil) == 1
    }

    /// The next result of the command in progress, `nil` when it is complete.
    func getResult() -> LibpqResult? {
        guard let conn else { return nil }
        return PQgetResult(conn).map { LibpqResult(taking: $0) }
    }

    /// `PQescapeIdentifier`; `nil` on failure or when closed.
    func escapeIdentifier(_ text: String) -> String? {
        guard let conn else { return nil }
        let escaped: UnsafeMutablePointer<CChar>? = text.withCString { PQescapeIdentifier(conn, $0, strlen($0)) }
        guard let escaped else { return nil }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// `PQescapeLiteral`; `nil` on failure or when closed.
    func escapeLiteral(_ text: String) -> String? {
        guard let conn else { return nil }
        let escaped: UnsafeMutablePointer<CChar>? = text.withCString { PQescapeLiteral(conn, $0, strlen($0)) }
        guard let escaped else { return nil }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Parses a conninfo string or URI without connecting (`PQconninfoParse`). Returns the
    /// options that were set, or libpq's error message.
    static func parseConninfo(_ conninfo: String) -> Result<[String: String], ConninfoParseError> {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            defer { if let errorMessage { PQfreemem(errorMessage) } }
            return .failure(ConninfoParseError(message: errorMessage.map { String(cString: $0) } ?? "out of memory"))
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                values[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        return .success(values)
    }

    struct ConninfoParseError: Error {
        var message: String
    }
}

@available(*, unavailable)
extension LibpqConnection: Sendable {}

/// Forwards libpq notices and warnings to the logger instead of stderr.
private final class NoticeSink {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func receive(_ message: String) {
        let text = StoreError.sentence(message)
        if text.hasPrefix("WARNING") {
            logger.warning("PostgreSQL warning", metadata: ["db.notice": "\(text)"])
        } else {
            logger.debug("PostgreSQL notice", metadata: ["db.notice": "\(text)"])
        }
    }
}

extension LibpqConnection {
    /// A reader for the COPY … TO STDOUT this connection has just started. Use it on the
    /// connection's queue, while the connection is open.
    func copyOutReader() -> CopyOutReader {
        CopyOutReader(conn: conn)
    }

    /// Asks the server to cancel the statement in progress (`PQcancel`); best effort.
    func requestCancel() {
        guard let conn, let cancel = PQgetCancel(conn) else { return }
        defer { PQfreeCancel(cancel) }
        var errorBuffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &errorBuffer, Int32(errorBuffer.count))
    }
}

/// Reads the rows of a `COPY … TO STDOUT` in progress on one connection.
struct CopyOutReader {
    private let conn: OpaquePointer?

    fileprivate init(conn: OpaquePointer?) {
        self.conn = conn
    }

    /// `PQgetCopyData` in blocking mode: hands the next row (in the COPY's format, with its line
    /// ending) to `body`, then frees libpq's buffer.
    func next(_ body: (UnsafeRawBufferPointer) -> Void) -> CopyOutStatus {
        guard let conn else { return .failed }
        var buffer: UnsafeMutablePointer<CChar>?
        let length = PQgetCopyData(conn, &buffer, 0)
        defer { if let buffer { PQfreemem(buffer) } }
        if length > 0, let buffer {
            body(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
            return .row
        }
        return length == -1 ? .done : .failed
    }
}

@available(*, unavailable)
extension CopyOutReader: Sendable {}
