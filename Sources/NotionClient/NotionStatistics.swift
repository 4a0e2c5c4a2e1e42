/// Counts of the HTTP requests a client sent, for the run summary and metrics.
public struct NotionStatistics: Sendable, Equatable {
    /// Requests sent per endpoint template (`"GET /v1/pages/{id}/properties/{property_id}"`), retries included.
    public var requestsByEndpoint: [String: Int]
    /// Requests that were repeats of a failed attempt.
    public var retries: Int
    /// 429 answers (rate limited; a blocked integration included).
    public var rateLimited: Int
    /// 5xx answers, 529 included, and non-JSON error pages from edge proxies.
    public var serverErrors: Int
    /// Attempts that got no complete response (connect, timeout, dropped connection).
    public var transportErrors: Int
    /// Every HTTP request sent, retries included.
    public var totalRequests: Int

    public init(
        requestsByEndpoint: [String: Int] = [:], retries: Int = 0, rateLimited: Int = 0, serverErrors: Int = 0,
        transportErrors: Int = 0, totalRequests: Int = 0
    ) {
        self.requestsByEndpoint = requestsByEndpoint
        self.retries = retries
        self.rateLimited = rateLimited
        self.serverErrors = serverErrors
        self.transportErrors = transportErrors
        self.totalRequests = totalRequests
    }
}

/// The endpoint templates used as statistics keys and in errors and logs.
enum Endpoint: String, Sendable {
    case me = "GET /v1/users/me"
    case retrieveDatabase = "GET /v1/databases/{id}"
    case retrieveDataSource = "GET /v1/data_sources/{id}"
    case queryDataSource = "POST /v1/data_sources/{id}/query"
    case retrievePage = "GET /v1/pages/{id}"
    case retrievePropertyItem = "GET /v1/pages/{id}/properties/{property_id}"
    case updatePage = "PATCH /v1/pages/{id}"

    var method: String { String(rawValue.prefix { $0 != " " }) }
}
