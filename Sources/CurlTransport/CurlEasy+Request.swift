internal import CCurl
import Foundation
import TransportKit

extension CurlEasy {
    /// Runs one request to completion on the calling thread (a `CurlWorkerPool` worker).
    ///
    /// Returns the response for any status, `TransportError` when no complete response arrived,
    /// or `CancellationError` when `cancellation` was set before or during the transfer.
    func exchange(
        _ request: HTTPRequest,
        configuration: CurlTransport.Configuration,
        cancellation: CurlCancellation
    ) -> Result<HTTPResponse, any Error> {
        reset()
        do {
            try configure(for: request, configuration: configuration)
        } catch {
            return .failure(error)
        }
        let sink = CurlResponseSink(cancellation: cancellation)
        let code = perform(postFields: Self.postFields(of: request), into: sink)
        if code == CURLE_OK {
            return .success(HTTPResponse(status: responseCode, headers: sink.headers, body: sink.body))
        }
        if code == CURLE_ABORTED_BY_CALLBACK, cancellation.isCancelled {
            return .failure(CancellationError())
        }
        let detail = errorBufferMessage ?? TransportError.curlDescription(of: code)
        let message = Self.redact(
            "\(request.method) \(Self.origin(of: request.url)) failed: \(detail)",
            secretsOf: request
        )
        return .failure(TransportError(curlCode: code, message: message))
    }

    private func configure(for request: HTTPRequest, configuration: CurlTransport.Configuration) throws(TransportError) {
        try Self.validate(request)

        try set(CURLOPT_URL, request.url)
        // The URL is sent exactly as given: no dot-segment squashing, no re-encoding.
        try set(CURLOPT_PATH_AS_IS, 1)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        if request.method == "HEAD" {
            try set(CURLOPT_NOBODY, 1)
        } else {
            try set(CURLOPT_CUSTOMREQUEST, request.method)
        }

        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        // "" offers every encoding this libcurl can decode (gzip, deflate, …) and decodes the
        // body; the response headers still describe the encoded body as the server sent it.
        try set(CURLOPT_ACCEPT_ENCODING, "")
        try set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
        try set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout))
        try set(CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0)
        try set(CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0)
        try set(CURLOPT_USERAGENT, configuration.userAgent)
        try set(headers: Self.headerList(for: request))
    }

    /// The body to send, if any. POST, PUT and PATCH always send one (empty when `nil`), so that
    /// a `Content-Length: 0` goes out and libcurl never falls back to reading stdin.
    private static func postFields(of request: HTTPRequest) -> Data? {
        if let body = request.body { return body }
        switch request.method {
        case "POST", "PUT", "PATCH": return Data()
        default: return nil
        }
    }

    private static func headerList(for request: HTTPRequest) throws(TransportError) -> CurlHeaderList {
        let list = CurlHeaderList()
        for field in request.headers {
            // "Name;" is libcurl's spelling for a header with an empty value ("Name:" removes it).
            try list.append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        // An empty "Name:" line removes a header libcurl would otherwise add by itself.
        if request.headers["Expect"] == nil {
            try list.append("Expect:")  // no 100-continue round trip before large bodies
        }
        if request.headers["Content-Type"] == nil, postFields(of: request) != nil {
            try list.append("Content-Type:")  // not libcurl's default form-urlencoded
        }
        return list
    }

    /// Rejects what libcurl would silently alter or what would corrupt the request on the wire.
    /// Messages name the offending part, never a header value.
    private static func validate(_ request: HTTPRequest) throws(TransportError) {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(isTokenByte) else {
            throw TransportError(kind: .invalidRequest, message: "The HTTP method is not a valid token.")
        }
        // Already percent-encoded, so printable ASCII only: anything else would be re-encoded.
        guard !request.url.isEmpty, request.url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw TransportError(
                kind: .invalidRequest,
                message: "The URL contains spaces, control or non-ASCII characters; it must be percent-encoded."
            )
        }
        for field in request.headers {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(isTokenByte) else {
                throw TransportError(kind: .invalidRequest, message: "A request header name is not a valid token.")
            }
            guard !field.value.utf8.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) else {
                throw TransportError(
                    kind: .invalidRequest,
                    message: "The value of request header \(field.name) contains a line break or NUL."
                )
            }
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// Whole milliseconds, rounded up, at least 1: libcurl reads 0 as "no timeout".
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 1 }
        guard seconds < Int64(Int.max / 1000) - 1 else { return Int.max }
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let partial = (attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond
        return max(1, Int(seconds * 1000 + partial))
    }

    /// `scheme://host:port` of `url`, without user info, path or query, for error messages.
    static func origin(of url: String) -> String {
        guard let separator = url.range(of: "://") else { return "(unparsable URL)" }
        let authority = url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        return String(url[..<separator.upperBound] + host)
    }

    /// Removes from `message` every credential the request carries: values of credential
    /// headers, with and without their scheme word, and URL user info. libcurl does not echo
    /// them today; this keeps it that way whatever a future libcurl writes.
    static func redact(_ message: String, secretsOf request: HTTPRequest) -> String {
        let credentialHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "x-api-key"]
        var secrets: [String] = []
        for field in request.headers where credentialHeaders.contains(field.name.lowercased()) {
            secrets.append(field.value)
            if let space = field.value.firstIndex(of: " ") {
                secrets.append(String(field.value[field.value.index(after: space)...]))
            }
        }
        if let separator = request.url.range(of: "://") {
            let authority = request.url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            if let at = authority.lastIndex(of: "@") { secrets.append(String(authority[..<at])) }
        }
        var redacted = message
        for secret in secrets.sorted(by: { $0.count > $1.count }) where secret.count >= 4 {
            redacted = redacted.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return redacted
    }
}
