public import Foundation

/// One HTTP header field. Names compare case-insensitively through `HTTPHeaders`.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An ordered list of header fields with case-insensitive lookup.
public struct HTTPHeaders: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
    public private(set) var fields: [HTTPHeader]

    public init(_ fields: [HTTPHeader] = []) {
        self.fields = fields
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { HTTPHeader($0.0, $0.1) }
    }

    /// The first value of the named field, if any.
    public subscript(name: String) -> String? {
        let lower = name.lowercased()
        return fields.first { $0.name.lowercased() == lower }?.value
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append(HTTPHeader(name, value))
    }

    /// Replaces every field of that name with one field.
    public mutating func set(_ name: String, _ value: String) {
        let lower = name.lowercased()
        fields.removeAll { $0.name.lowercased() == lower }
        fields.append(HTTPHeader(name, value))
    }

    public func makeIterator() -> IndexingIterator<[HTTPHeader]> {
        fields.makeIterator()
    }
}

/// An HTTP request as sent on the wire. `url` is already percent-encoded exactly as it must be
/// sent: transports never encode or decode it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaders
    public var body: Data?
    /// The whole exchange must finish within this time.
    public var timeout: Duration
    /// Establishing the connection must finish within this time.
    public var connectTimeout: Duration

    public init(
        method: String,
        url: String,
        headers: HTTPHeaders = HTTPHeaders(),
        body: Data? = nil,
        timeout: Duration = .seconds(75),
        connectTimeout: Duration = .seconds(15)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }
}

/// A complete HTTP response. Any status is a response, not an error: callers decide what a
/// non-2xx status means.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A failure below HTTP: no complete response was received.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The connection could not be established (refused, DNS, unreachable).
        case connect
        /// The request did not finish within its timeout.
        case timeout
        /// The peer closed the connection before the response was complete.
        case connectionDropped
        /// TLS negotiation or certificate verification failed.
        case tls
        /// The request was malformed before it was sent (bad URL, bad option).
        case invalidRequest
        /// Anything else the transport reported.
        case other
    }

    public var kind: Kind
    /// The underlying library's code (for libcurl, a `CURLcode`), when there is one.
    public var code: Int32?
    /// A readable message with no secrets in it.
    public var message: String

    public init(kind: Kind, code: Int32? = nil, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// Whether repeating the same request may succeed.
    public var isRetryable: Bool {
        switch kind {
        case .connect, .timeout, .connectionDropped, .other: return true
        case .tls, .invalidRequest: return false
        }
    }

    public var description: String {
        if let code { return "\(message) (transport error \(kind.rawValue), code \(code))" }
        return "\(message) (transport error \(kind.rawValue))"
    }
}

/// Sends one HTTP request and returns the complete response. Implementations throw
/// `TransportError` when no complete response arrived, and `CancellationError` when the calling
/// task was cancelled (a cancelled request is abandoned, not retried).
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
