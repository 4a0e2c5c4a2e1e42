public import Foundation
public import TransportKit

/// Every failure of a `NotionClient` call. `description` is one readable line and never contains
/// the token.
public struct NotionError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Notion answered with its JSON error body.
        case api(status: Int, code: String, message: String, requestID: String?, additionalData: [String: JSONValue])
        /// A non-2xx answer without a Notion error body (an HTML page from an edge proxy, say).
        case unexpectedResponse(status: Int, requestID: String?, detail: String)
        /// A response that could not be read as the expected object.
        case decoding(endpoint: String, detail: String)
        /// No complete response arrived.
        case transport(TransportError)
        /// 429 with `rate_limit_reason: public_api_request_blocked`: Notion says retrying won't help.
        case requestBlocked(requestID: String?, message: String)
        /// Every allowed attempt failed; `last` is the last attempt's failure.
        indirect case retriesExhausted(attempts: Int, last: NotionError)
        /// The string is not a Notion id (32 hex digits or a dashed UUID).
        case invalidID(String)
        /// A data-source query could not get past the 10,000-row cap: more rows than the cap share
        /// one `created_time` minute, so a later `created_time` window makes no progress.
        case queryCapExceeded(dataSourceID: String, createdTime: Date)
    }

    public var kind: Kind
    /// The endpoint template (`GET /v1/pages/{id}/properties/{property_id}`), when known.
    public var endpoint: String?

    public init(_ kind: Kind, endpoint: String? = nil) {
        self.kind = kind
        self.endpoint = endpoint
    }

    /// The HTTP status, when the failure was an HTTP answer.
    public var status: Int? {
        switch kind {
        case .api(let status, _, _, _, _), .unexpectedResponse(let status, _, _): return status
        case .requestBlocked: return 429
        case .retriesExhausted(_, let last): return last.status
        case .decoding, .transport, .invalidID, .queryCapExceeded: return nil
        }
    }

    /// Notion's error `code` (`object_not_found`, `rate_limited`, …), when there is one.
    public var code: String? {
        switch kind {
        case .api(_, let code, _, _, _): return code
        case .requestBlocked: return "rate_limited"
        case .retriesExhausted(_, let last): return last.code
        default: return nil
        }
    }

    /// Notion's request id (from the body or the `x-notion-request-id` header), when known.
    public var requestID: String? {
        switch kind {
        case .api(_, _, _, let requestID, _), .unexpectedResponse(_, let requestID, _),
            .requestBlocked(let requestID, _):
            return requestID
        case .retriesExhausted(_, let last): return last.requestID
        default: return nil
        }
    }

    /// `additional_data` of a Notion error body (empty otherwise).
    public var additionalData: [String: JSONValue] {
        switch kind {
        case .api(_, _, _, _, let data): return data
        case .retriesExhausted(_, let last): return last.additionalData
        default: return [:]
        }
    }

    /// Whether the same work may succeed later without a change (rate limits, server trouble,
    /// connection failures, exhausted retries of those). False for every other 4xx, for a
    /// blocked integration, invalid ids, undecodable answers and the query cap.
    public var isRetryable: Bool {
        switch kind {
        case .api(let status, _, _, _, _):
            return status == 429 || status >= 500
        case .unexpectedResponse(let status, _, _): return status == 429 || status >= 500
        case .transport(let error): return error.isRetryable
        case .retriesExhausted: return true
        case .decoding, .requestBlocked, .invalidID, .queryCapExceeded: return false
        }
    }

    /// True for 400 `validation_error` "The start_cursor provided is invalid…": the cursor expired
    /// and the walk must restart.
    var isInvalidCursor: Bool {
        if case .api(400, "validation_error", let message, _, _) = kind {
            return message.hasPrefix("The start_cursor provided is invalid")
        }
        return false
    }

    public var description: String {
        let suffix = endpoint.map { " (\($0))" } ?? ""
        switch kind {
        case .api(let status, let code, let message, let requestID, _):
            let request = requestID.map { ", request id \($0)" } ?? ""
            return "Notion API error \(status) \(code): \(message)\(suffix)\(request)"
        case .unexpectedResponse(let status, let requestID, let detail):
            let request = requestID.map { ", request id \($0)" } ?? ""
            return "Notion answered HTTP \(status) without an API error body: \(detail)\(suffix)\(request)"
        case .decoding(let endpoint, let detail):
            return "Could not read Notion's response to \(endpoint): \(detail)"
        case .transport(let error):
            return "Could not reach Notion: \(error.description)\(suffix)"
        case .requestBlocked(let requestID, let message):
            let request = requestID.map { ", request id \($0)" } ?? ""
            return "Notion blocked the integration's requests (retrying won't help): \(message)\(suffix)\(request)"
        case .retriesExhausted(let attempts, let last):
            return "Gave up after \(attempts) attempts: \(last.description)"
        case .invalidID(let value):
            return "Not a Notion id (expected 32 hex digits or a UUID): \"\(value)\""
        case .queryCapExceeded(let dataSourceID, let createdTime):
            return "Data source \(dataSourceID) has more rows created in the minute "
                + "\(Timestamp.format(createdTime)) than one query can return (10,000); it cannot be read completely"
        }
    }
}
