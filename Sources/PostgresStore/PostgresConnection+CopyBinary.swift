import Foundation

/// Builds COPY's binary format: a signature and header, then per row a field count and each
/// field as a big-endian length (-1 for NULL) and its bytes in the type's binary form, then a
/// trailer. For the million-row COPY of `apply`, this costs the server about a third of parsing
/// the text format (uuids are 16 bytes, not 36 hex digits) and the client no strings at all.
struct BinaryCopyWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity + capacity / 4)
        // "PGCOPY\n\377\r\n\0", flags 0, header extension length 0.
        bytes.append(contentsOf: [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])
        appendInt32(0)
        appendInt32(0)
    }

    mutating func beginRow(fields: Int16) {
        appendInt16(fields)
    }

    /// A `text` field: `utf8` must hold no NUL byte.
    mutating func appendText(_ utf8: [UInt8]) {
        appendInt32(Int32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A `uuid` field.
    mutating func appendUUID(_ uuid: UUID) {
        appendInt32(16)
        withUnsafeBytes(of: uuid.uuid) { bytes.append(contentsOf: $0) }
    }

    /// An `integer` field, or NULL.
    mutating func appendInteger(_ value: Int32?) {
        guard let value else {
            appendInt32(-1)
            return
        }
        appendInt32(4)
        appendInt32(value)
    }

    mutating func appendTrailer() {
        appendInt16(-1)
    }

    private mutating func appendInt16(_ value: Int16) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendInt32(_ value: Int32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// Hands the buffered bytes to `send` and empties the buffer; false when `send` failed.
    mutating func flush(_ send: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        let sent = bytes.withUnsafeBytes(send)
        bytes.removeAll(keepingCapacity: true)
        return sent
    }
}

extension PostgresConnection {
    /// Runs `copyStatement` (a `COPY … FROM STDIN (FORMAT binary)`) and streams what
    /// `writeRows` appends to the writer it is given, in about 64 KiB chunks: after each row it
    /// calls `rowDone`, which sends a full chunk (and throws if sending fails). The header and
    /// trailer are written here. Returns the number of rows the server stored.
    @discardableResult
    func copyInBinary(
        _ copyStatement: String,
        writeRows: @escaping @Sendable (_ writer: inout BinaryCopyWriter, _ rowDone: (inout BinaryCopyWriter) throws -> Void) throws -> Void
    ) async throws -> Int {
        try await onQueue { libpq in
            try self.performBinaryCopyIn(copyStatement, writeRows: writeRows, on: libpq)
        }
    }

    private func performBinaryCopyIn(
        _ sql: String,
        writeRows: (_ writer: inout BinaryCopyWriter, _ rowDone: (inout BinaryCopyWriter) throws -> Void) throws -> Void,
        on libpq: LibpqConnection
    ) throws -> Int {
        let redactor = redactor(binding: [])
        try startCopyIn(sql, redactor: redactor, on: libpq)

        let chunk = Self.copyChunkSize
        var writer = BinaryCopyWriter(capacity: chunk)
        var failure: StoreError?
        do {
            try writeRows(&writer) { writer in
                if writer.bytes.count >= chunk, !writer.flush(libpq.putCopyData) {
                    throw self.sendFailure(libpq, redactor)
                }
            }
            writer.appendTrailer()
            if !writer.flush(libpq.putCopyData) {
                failure = sendFailure(libpq, redactor)
            }
        } catch let error as StoreError {
            failure = error
        } catch {
            failure = StoreError(code: .invalidInput, message: "\(error)")
        }
        return try endCopyIn(sql, failure: failure, redactor: redactor, on: libpq)
    }
}
