public import Foundation
public import TransportKit

/// A raw request as it reached the simulator.
public struct SimRequest: Sendable {
    public var method: String
    /// Path and query exactly as received, still percent-encoded: `/v1/pages/…/properties/%3AxYz?page_size=10`.
    public var target: String
    public var headers: HTTPHeaders
    public var body: Data

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data()) {
        self.method = method.uppercased()
        self.target = target
        self.headers = headers
        self.body = body
    }
}

/// How the answer must be mangled on its way out.
public enum SimFault: String, Sendable, Equatable {
    case none
    /// Send the status and headers, then close the connection mid-body.
    case dropConnection
    /// Send a 200 with only the first half of the body (Content-Length matching the cut).
    case truncateBody
}

public struct SimResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data
    public var fault: SimFault
    /// How long to wait before answering (configured latency plus jitter).
    public var delay: Duration

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data(),
                fault: SimFault = .none, delay: Duration = .zero) {
        self.status = status
        self.headers = headers
        self.body = body
        self.fault = fault
        self.delay = delay
    }

    /// The body as it must go on the wire once `fault` is applied: half of it for a truncation.
    public var bodyAfterFault: Data {
        fault == .truncateBody ? body.prefix(body.count / 2) : body
    }

    /// The body parsed as JSON, for tests and scripts.
    public func json() throws -> JSONValue { try JSONValue.parse(body) }
}

/// A Notion error object on its way to becoming a response.
struct APIError: Error, Sendable {
    var status: Int
    var code: String
    var message: String
    var additionalData: JSONObject?
    var headers: [(String, String)] = []

    static func validation(_ message: String) -> APIError {
        APIError(status: 400, code: "validation_error", message: message)
    }

    static func invalidCursor(_ reason: String) -> APIError {
        validation("The start_cursor provided is invalid: \(reason)")
    }

    static func notFound(_ kind: String, _ id: String, hint: String = "") -> APIError {
        APIError(status: 404, code: "object_not_found",
                 message: "Could not find \(kind) with ID: \(id). Make sure the relevant pages and databases are shared with your integration.\(hint)")
    }

    static let invalidURL = APIError(status: 400, code: "invalid_request_url", message: "Invalid request URL.")
    static let invalidJSON = APIError(status: 400, code: "invalid_json", message: "Error parsing JSON body.")

    static func rateLimited(reason: String, retryAfter: Int?) -> APIError {
        var data: JSONObject = ["rate_limit_reason": .string(reason)]
        var error = APIError(status: 429, code: "rate_limited",
                             message: reason == "public_api_request_blocked"
                                 ? "This integration has been blocked from making requests. Retrying won't help."
                                 : "You have been rate limited. Please try again in a few minutes.")
        if let retryAfter {
            data["retry_after"] = .string(String(retryAfter))
            error.headers.append(("Retry-After", String(retryAfter)))
        }
        error.additionalData = data
        return error
    }

    static func serverError(status: Int) -> APIError {
        switch status {
        case 500: return APIError(status: 500, code: "internal_server_error", message: "Unexpected error occurred.")
        case 502: return APIError(status: 502, code: "bad_gateway", message: "Notion encountered an issue while attempting to complete this request. Please try again.")
        case 503: return APIError(status: 503, code: "service_unavailable", message: "Notion is unavailable. This can occur when the time to respond to a request takes longer than 60 seconds, the maximum request timeout. Please try again later.")
        case 504: return APIError(status: 504, code: "gateway_timeout", message: "Notion timed out while attempting to complete this request. Please try again later.")
        case 529: return APIError(status: 529, code: "service_overload", message: "Notion is currently experiencing high demand. Please try again later.")
        default: return APIError(status: status, code: "internal_server_error", message: "Unexpected error occurred.")
        }
    }

    func body(requestID: String) -> JSONValue {
        var object: JSONObject = [
            "object": "error", "status": .int(status), "code": .string(code), "message": .string(message),
            "request_id": .string(requestID),
        ]
        if let additionalData { object["additional_data"] = .object(additionalData) }
        return .object(object)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral,
    ExpressibleByNilLiteral, ExpressibleByIntegerLiteral, ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}
