internal import CCurl
import TransportKit

/// Owns one libcurl `curl_slist` of request header lines and frees it in `deinit`.
///
/// libcurl does not copy the list passed as `CURLOPT_HTTPHEADER`: `CurlEasy` keeps a reference
/// to the list it was given until its next reset, so the list outlives every transfer using it.
final class CurlHeaderList {
    private var list: UnsafeMutablePointer<curl_slist>?

    init() {}

    deinit {
        curl_slist_free_all(list)
    }

    /// Appends one raw header line (`Name: value`). libcurl copies the string.
    func append(_ line: String) throws(TransportError) {
        let appended = line.withCString { curl_slist_append(list, $0) }
        guard let appended else {
            // On failure curl_slist_append leaves the existing list untouched and still ours.
            throw TransportError(kind: .other, message: "libcurl could not allocate a request header.")
        }
        list = appended
    }

    /// Lends the raw list to `body`, for `curl_easy_setopt(CURLOPT_HTTPHEADER)` only.
    func withRawList<Result>(_ body: (UnsafeMutablePointer<curl_slist>?) -> Result) -> Result {
        body(list)
    }
}

/// Intentionally not thread safe: used only by the worker thread that owns its `CurlEasy`.
@available(*, unavailable)
extension CurlHeaderList: Sendable {}
