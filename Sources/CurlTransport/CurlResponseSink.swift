import Foundation
import TransportKit

/// Collects one response while `curl_easy_perform` runs: body bytes from the write callback,
/// header lines from the header callback. Pure Swift; the C callbacks in `CurlEasy.swift` feed it.
///
/// Every `HTTP/…` status line starts a new header block (after a `100 Continue`, say); only the
/// last block's fields are kept, so `headers` belong to the final response.
final class CurlResponseSink {
    /// Responses announcing a larger `Content-Length` still grow past this; it only caps the
    /// up-front reservation.
    private static let maximumReservation = 16 << 20

    private let cancellation: CurlCancellation
    private(set) var body = Data()
    private var fields: [HTTPHeader] = []

    init(cancellation: CurlCancellation) {
        self.cancellation = cancellation
    }

    var headers: HTTPHeaders { HTTPHeaders(fields) }

    /// Whether the transfer should stop now (the request's task was cancelled).
    var shouldAbort: Bool { cancellation.isCancelled }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        body.append(contentsOf: bytes)
    }

    /// Takes one raw header line as libcurl delivers it, CRLF included.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = Self.decode(bytes)
        while let last = line.last, last == "\r" || last == "\n" || last == "\r\n" { line.removeLast() }
        guard !line.isEmpty else { return }  // the blank line ending a block

        if line.hasPrefix("HTTP/") {
            fields.removeAll()
            return
        }
        if let first = line.first, first == " " || first == "\t" {
            // Obsolete line folding: continues the previous field's value.
            if !fields.isEmpty {
                fields[fields.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            }
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return }
        fields.append(HTTPHeader(name, value))

        if body.isEmpty, name.lowercased() == "content-length", let length = Int(value), length > 0 {
            body.reserveCapacity(min(length, Self.maximumReservation))
        }
    }

    /// Header bytes are UTF-8 in practice; anything else is read as ISO-8859-1, which any byte
    /// sequence is.
    private static func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return String(bytes.lazy.map { Character(Unicode.Scalar($0)) })
    }
}

/// Intentionally not thread safe: lives only for one transfer on one worker thread.
@available(*, unavailable)
extension CurlResponseSink: Sendable {}
