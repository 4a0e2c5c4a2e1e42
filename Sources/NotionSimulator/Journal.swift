import Foundation

/// The /v1 endpoints, named by their templates.
public enum Endpoint: String, Sendable, CaseIterable, Codable {
    case usersMe = "GET /v1/users/me"
    case retrieveDatabase = "GET /v1/databases/{id}"
    case queryDatabase = "POST /v1/databases/{id}/query"
    case retrieveDataSource = "GET /v1/data_sources/{id}"
    case queryDataSource = "POST /v1/data_sources/{id}/query"
    case retrievePage = "GET /v1/pages/{id}"
    case updatePage = "PATCH /v1/pages/{id}"
    case retrievePageProperty = "GET /v1/pages/{id}/properties/{property_id}"
    /// Any other /v1 request (answered 400 `invalid_request_url`).
    case other = "other"
}

/// Failures the simulator injects, as counted in the journal.
public enum FaultKind: String, Sendable, CaseIterable, Codable {
    case http500 = "http_500"
    case http502 = "http_502"
    case http503 = "http_503"
    case http504 = "http_504"
    case http529 = "http_529"
    case injected429 = "injected_429"
    case dropConnection = "drop_connection"
    case truncateBody = "truncate_body"
    case htmlBadGateway = "html_502"
    case cursorInvalidated = "cursor_invalidated"
    case committedWrite503 = "committed_write_503"
    case conflict409 = "conflict_409"
    case slowResponse = "slow_response"
    case pageDeleted = "page_deleted"

    public static func serverError(_ status: Int) -> FaultKind {
        switch status {
        case 502: return .http502
        case 503: return .http503
        case 504: return .http504
        case 529: return .http529
        default: return .http500
        }
    }
}

/// What the simulator served since the last reset.
public struct JournalSnapshot: Sendable, Equatable, Codable {
    public var totalRequests = 0
    /// Keyed by `Endpoint.rawValue`.
    public var requestsByEndpoint: [String: Int] = [:]
    /// Keyed by the status code as a string ("200", "429", …).
    public var statusCounts: [String: Int] = [:]
    /// 429s from the rate limiter.
    public var rateLimited = 0
    /// 429s injected as faults.
    public var injected429 = 0
    /// 429s with `public_api_request_blocked`.
    public var blocked429 = 0
    /// Keyed by `FaultKind.rawValue`.
    public var faults: [String: Int] = [:]

    public init() {}

    public func requests(_ endpoint: Endpoint) -> Int { requestsByEndpoint[endpoint.rawValue] ?? 0 }
    public func responses(status: Int) -> Int { statusCounts[String(status)] ?? 0 }
    public func faults(_ kind: FaultKind) -> Int { faults[kind.rawValue] ?? 0 }

    enum CodingKeys: String, CodingKey {
        case totalRequests = "total_requests"
        case requestsByEndpoint = "requests_by_endpoint"
        case statusCounts = "status_counts"
        case rateLimited = "rate_limited_429"
        case injected429 = "injected_429"
        case blocked429 = "blocked_429"
        case faults
    }

    mutating func record(_ endpoint: Endpoint) {
        totalRequests += 1
        requestsByEndpoint[endpoint.rawValue, default: 0] += 1
    }

    mutating func record(status: Int) {
        statusCounts[String(status), default: 0] += 1
    }

    mutating func record(_ fault: FaultKind) {
        faults[fault.rawValue, default: 0] += 1
    }
}
