internal import CLibpq

/// What a `COPY … TO STDOUT` sent.
public struct CopyOutResult: Sendable, Hashable {
    /// Rows the server copied (from the COPY command tag).
    public var rows: Int
    /// Bytes handed to the sink.
    public var bytes: Int

    public init(rows: Int, bytes: Int) {
        self.rows = rows
        self.bytes = bytes
    }
}

extension PostgresConnection {
    /// Bytes gathered from libpq before one call of a `copyOut` sink.
    public static let copyOutChunkSize = 64 * 1024

    /// Runs `copyStatement` (a `COPY … TO STDOUT`) and streams its data to `sink` as libpq
    /// receives it: `PQgetCopyData` returns one row at a time; rows are gathered into chunks of
    /// at most `chunkSize` bytes (a row longer than that is one chunk) so that a sink writing to
    /// a file makes few system calls. Memory stays at one chunk, whatever the table's size.
    ///
    /// The sink runs on the connection's queue, one call at a time, and may block (write to a
    /// file or pipe). If it throws, the server is asked to cancel the COPY, the rest is
    /// discarded, the connection stays usable, and the sink's error is rethrown.
    ///
    /// - Returns: the rows the server reports copied, and the bytes handed to the sink.
    @discardableResult
    public func copyOut(
        _ copyStatement: String, chunkSize: Int = copyOutChunkSize,
        to sink: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> CopyOutResult {
        try await onQueue { libpq in
            try self.performCopyOut(copyStatement, chunkSize: max(1, chunkSize), sink: sink, on: libpq)
        }
    }

    private func performCopyOut(
        _ sql: String, chunkSize: Int, sink: (UnsafeRawBufferPointer) throws -> Void, on libpq: LibpqConnection
    ) throws -> CopyOutResult {
        let redactor = redactor(binding: [])
        switch try startCopy(sql, redactor: redactor, on: libpq) {
        case .copyOut:
            break
        case .copyIn:
            _ = libpq.putCopyEnd(failure: "copyOut needs a COPY … TO STDOUT statement")
            while libpq.getResult() != nil {}
            throw StoreError(code: .protocol, message: "copyOut needs a COPY … TO STDOUT statement", query: sql)
        default:
            while libpq.getResult() != nil {}
            throw StoreError(code: .protocol, message: "copyOut needs a COPY … TO STDOUT statement", query: sql)
        }

        // One buffer for the whole COPY; rows are copied in with memcpy (no per-row allocation).
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 1)
        defer { buffer.deallocate() }
        var used = 0
        var bytes = 0
        var sinkError: (any Error)?
        var readFailure: StoreError?

        func send(_ data: UnsafeRawBufferPointer) {
            guard sinkError == nil, data.count > 0 else { return }
            do {
                try sink(data)
                bytes += data.count
            } catch {
                sinkError = error
                // Stop the server from sending the rest; what is already on the way is read and dropped.
                libpq.requestCancel()
            }
        }
        func flush() {
            send(UnsafeRawBufferPointer(rebasing: buffer[0..<used]))
            used = 0
        }

        let reader = libpq.copyOutReader()
        readLoop: while true {
            let status = reader.next { row in
                guard sinkError == nil else { return }  // cancelled: drain and drop
                if used + row.count > chunkSize { flush() }
                if row.count >= chunkSize {
                    send(row)  // a row as large as a chunk goes out as it is
                } else {
                    (buffer.baseAddress! + used).copyMemory(from: row.baseAddress!, byteCount: row.count)
                    used += row.count
                }
            }
            switch status {
            case .row:
                continue readLoop
            case .done:
                flush()
                break readLoop
            case .failed:
                readFailure = StoreError(
                    code: libpq.isConnected ? .protocol : .connection,
                    message: "reading COPY data failed: " + redactor.redact(StoreError.sentence(libpq.errorMessage)))
                break readLoop
            }
        }

        // The COPY's final result (and any after it), so the connection is ready for the next statement.
        var serverError: StoreError?
        var rows = 0
        while let result = libpq.getResult() {
            switch result.status {
            case .commandOK:
                rows = result.affectedRows
            case .fatalError, .nonfatalError:
                if serverError == nil { serverError = result.error(connectionBroken: !libpq.isConnected, redactor: redactor) }
            default:
                if serverError == nil {
                    serverError = StoreError(code: .protocol, message: "unexpected result \(result.status) after COPY")
                }
            }
        }
        if let sinkError { throw sinkError }
        if var failure = readFailure ?? serverError {
            failure.query = sql
            throw failure
        }
        return CopyOutResult(rows: rows, bytes: bytes)
    }
}

/// One step of reading COPY data.
enum CopyOutStatus {
    /// A row was handed to the body.
    case row
    /// The COPY is complete; its result follows from `getResult`.
    case done
    /// libpq failed (see `errorMessage`).
    case failed
}
