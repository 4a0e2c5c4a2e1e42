internal import CCurl
import Foundation
import TransportKit

/// `curl_global_init` runs exactly once, the first time a handle is created (a global `let` is
/// initialised lazily and thread-safely). Its result is checked by every `CurlEasy.init`.
private let libcurlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

/// Owns one libcurl easy handle (`CURL *`) and the buffers libcurl writes into while it is used.
///
/// `deinit` always calls `curl_easy_cleanup`, which also closes the connections the handle keeps
/// alive. The handle is intentionally not thread safe: one worker thread of `CurlWorkerPool`
/// creates it, uses it for one transfer at a time, and frees it.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    /// Owned `CURLOPT_ERRORBUFFER` storage; installed again after every `curl_easy_reset`.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The list given as `CURLOPT_HTTPHEADER`. libcurl does not copy it, so it stays alive until the
    /// next `reset()`.
    private var headerList: CurlHeaderList?

    init() throws(TransportError) {
        guard libcurlGlobalInit == CURLE_OK else {
            throw TransportError(curlCode: libcurlGlobalInit, message: "libcurl could not be initialised.")
        }
        guard let handle = curl_easy_init() else {
            throw TransportError(kind: .other, message: "libcurl could not create a handle.")
        }
        self.handle = handle
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        // Cannot fail: only stores the pointer.
        _ = relsync_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Clears every option set for a previous transfer, keeping live connections and caches, and
    /// reinstalls the error buffer.
    func reset() {
        curl_easy_reset(handle)
        headerList = nil
        errorBuffer[0] = 0
        _ = relsync_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    func set(_ option: CURLoption, _ value: Int) throws(TransportError) {
        try check(relsync_curl_setopt_long(handle, option, value), option)
    }

    /// libcurl copies the string, so it only has to live for this call.
    func set(_ option: CURLoption, _ value: String) throws(TransportError) {
        try check(value.withCString { relsync_curl_setopt_string(handle, option, $0) }, option)
    }

    /// Installs `headers` as `CURLOPT_HTTPHEADER` and keeps it alive until the next `reset()`.
    func set(headers: CurlHeaderList) throws(TransportError) {
        try check(headers.withRawList { relsync_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, $0) }, CURLOPT_HTTPHEADER)
        headerList = headers
    }

    /// Runs the transfer, blocking the calling thread until it ends (bounded by the timeouts set).
    ///
    /// `postFields`, when given, is sent as the request body straight from its storage (no copy);
    /// the pointer is only valid inside this call, and libcurl reads it only during
    /// `curl_easy_perform`. `sink` receives the body and header lines, and is asked whether to
    /// abort; it is kept alive across the perform.
    func perform(postFields: Data?, into sink: CurlResponseSink) -> CURLcode {
        errorBuffer[0] = 0
        let userdata = Unmanaged.passUnretained(sink).toOpaque()
        return withExtendedLifetime(sink) {
            let setup: [CURLcode] = [
                relsync_curl_setopt_write_callback(handle, curlWriteBody),
                relsync_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata),
                relsync_curl_setopt_header_callback(handle, curlWriteHeader),
                relsync_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata),
                relsync_curl_setopt_xferinfo_callback(handle, curlTransferProgress),
                relsync_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, userdata),
                relsync_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0),
            ]
            if let failed = setup.first(where: { $0 != CURLE_OK }) { return failed }
            guard let postFields else { return curl_easy_perform(handle) }
            return Self.withBytes(of: postFields) { bytes, count in
                var code = relsync_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(count))
                guard code == CURLE_OK else { return code }
                code = relsync_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, bytes)
                guard code == CURLE_OK else { return code }
                return curl_easy_perform(handle)
            }
        }
    }

    /// The status of the last response received (`CURLINFO_RESPONSE_CODE`), 0 if none.
    var responseCode: Int {
        var value = 0
        guard relsync_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &value) == CURLE_OK else { return 0 }
        return value
    }

    /// The detailed message libcurl left in the error buffer by the last call, if any.
    var errorBufferMessage: String? {
        let message = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
        return message.isEmpty ? nil : message
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(TransportError) {
        guard code == CURLE_OK else {
            throw TransportError(curlCode: code, message: "libcurl rejected option \(option.rawValue).")
        }
    }

    /// Lends a pointer to `data`'s bytes (never NULL, even when empty: a NULL
    /// `CURLOPT_POSTFIELDS` would make libcurl read the body from stdin).
    private static func withBytes<Result>(
        of data: Data,
        _ body: (UnsafeMutableRawPointer, Int) -> Result
    ) -> Result {
        if data.isEmpty {
            var empty: UInt8 = 0
            return withUnsafeMutableBytes(of: &empty) { body($0.baseAddress!, 0) }
        }
        return data.withUnsafeBytes { body(UnsafeMutableRawPointer(mutating: $0.baseAddress!), $0.count) }
    }
}

/// Intentionally not thread safe: confined to the worker thread that created it.
@available(*, unavailable)
extension CurlEasy: Sendable {}

// MARK: - C callbacks. `userdata` is the `CurlResponseSink` that `perform` keeps alive.

private func curlWriteBody(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let length = size * count
    if let data, length > 0 {
        let sink = Unmanaged<CurlResponseSink>.fromOpaque(userdata).takeUnretainedValue()
        sink.receiveBody(UnsafeRawBufferPointer(start: data, count: length))
    }
    return length
}

private func curlWriteHeader(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let length = size * count
    if let data, length > 0 {
        let sink = Unmanaged<CurlResponseSink>.fromOpaque(userdata).takeUnretainedValue()
        sink.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    }
    return length
}

private func curlTransferProgress(
    _ userdata: UnsafeMutableRawPointer?,
    _ downloadTotal: curl_off_t,
    _ downloadNow: curl_off_t,
    _ uploadTotal: curl_off_t,
    _ uploadNow: curl_off_t
) -> Int32 {
    guard let userdata else { return 0 }
    let sink = Unmanaged<CurlResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    return sink.shouldAbort ? 1 : 0
}
