import Foundation

/// How requests are limited, per token.
public enum RateLimitPolicy: Sendable, Equatable, CustomStringConvertible {
    case none
    /// A token bucket: `requestsPerSecond` on average, at most `burst` at once.
    case average(requestsPerSecond: Double, burst: Int)
    /// `requests` per fixed window of `seconds`, the window starting at its first request
    /// (Notion's 2026 wording: 180 per 60 s, 600 on Business and Enterprise).
    case window(requests: Int, seconds: Int)

    /// Parses `none`, `average:RPS[:BURST]` or `window:N:SECONDS`.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.first {
        case "none" where parts.count == 1:
            self = .none
        case "average" where parts.count == 2 || parts.count == 3:
            guard let rps = Double(parts[1]), rps > 0, rps.isFinite else { return nil }
            let burst = parts.count == 3 ? Int(parts[2]) : max(1, Int(rps.rounded(.up)))
            guard let burst, burst >= 1 else { return nil }
            self = .average(requestsPerSecond: rps, burst: burst)
        case "window" where parts.count == 3:
            guard let n = Int(parts[1]), n >= 1, let s = Int(parts[2]), s >= 1 else { return nil }
            self = .window(requests: n, seconds: s)
        default:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .average(let rps, let burst): return "average:\(rps):\(burst)"
        case .window(let n, let s): return "window:\(n):\(s)"
        }
    }
}

/// Randomly injected failures. Each probability is per /v1 request, drawn from the seed.
public struct FaultConfiguration: Sendable, Equatable {
    /// A 5xx answer; the status is drawn from `serverErrorStatuses`.
    public var serverError: Double = 0
    /// Which 5xx statuses `serverError` picks from (500, 502, 503, 504, 529).
    public var serverErrorStatuses: [Int] = [500, 502, 503, 504, 529]
    /// A 429 `rate_limited` that the rate limiter did not cause.
    public var rateLimited: Double = 0
    /// The Retry-After, in seconds, of injected 429s.
    public var rateLimitedRetryAfter: Int = 1
    /// Status and headers are sent, then the connection closes mid-body.
    public var dropConnection: Double = 0
    /// A 200 whose body is cut in half (the Content-Length matches the cut body).
    public var truncateBody: Double = 0
    /// A 502 text/html page from an "edge proxy": no Notion JSON, no x-notion-request-id.
    public var htmlBadGateway: Double = 0
    /// A PATCH that is saved but answered 503 `service_unavailable` with `retry_guidance`.
    public var committedWriteUnavailable: Double = 0
    /// A request carrying a `start_cursor` is told the cursor is invalid.
    public var cursorInvalidation: Double = 0

    public init(serverError: Double = 0, serverErrorStatuses: [Int] = [500, 502, 503, 504, 529],
                rateLimited: Double = 0, rateLimitedRetryAfter: Int = 1, dropConnection: Double = 0,
                truncateBody: Double = 0, htmlBadGateway: Double = 0, committedWriteUnavailable: Double = 0,
                cursorInvalidation: Double = 0) {
        self.serverError = serverError
        self.serverErrorStatuses = serverErrorStatuses
        self.rateLimited = rateLimited
        self.rateLimitedRetryAfter = rateLimitedRetryAfter
        self.dropConnection = dropConnection
        self.truncateBody = truncateBody
        self.htmlBadGateway = htmlBadGateway
        self.committedWriteUnavailable = committedWriteUnavailable
        self.cursorInvalidation = cursorInvalidation
    }

    public static let none = FaultConfiguration()
}

/// Everything about the simulator's behaviour that is not the workspace.
public struct SimulatorConfiguration: Sendable, Equatable {
    /// The bearer token clients must send.
    public var token = "secret_simulator_token"
    public var rateLimit: RateLimitPolicy = .none
    /// Every authenticated request gets 429 `public_api_request_blocked` ("Retrying won't help").
    public var blocked = false
    /// The integration's "read content" capability: without it every request but `users/me`
    /// is answered 403 `restricted_resource`.
    public var canReadContent = true
    /// The "update content" capability: without it `PATCH /v1/pages/{id}` is answered 403.
    public var canUpdateContent = true
    public var faults = FaultConfiguration.none
    /// Added to every /v1 answer.
    public var latency: Duration = .zero
    /// A uniformly random extra delay in 0...latencyJitter.
    public var latencyJitter: Duration = .zero
    /// Rows one filter+sort walk can yield (Notion: 10,000).
    public var queryResultCap = 10_000
    /// How long a cursor stays valid after it was issued.
    public var cursorTTL: Duration = .seconds(600)
    /// Relation values in page objects show this many references (Notion: 25).
    public var relationValueLimit = 25
    /// Page mentions and person mentions a title / rich_text value shows in a page object (Notion: 25).
    public var mentionLimit = 25
    /// Whether a relation write on a dual relation bumps last_edited_time of the pages on the other side.
    public var dualRelationWriteTouchesOtherSide = true
    /// Where `next_url` and the manifest point. The HTTP server sets it to its bound address.
    public var publicBaseURL = "https://api.notion.com"

    public init(token: String = "secret_simulator_token", rateLimit: RateLimitPolicy = .none,
                faults: FaultConfiguration = .none, latency: Duration = .zero, latencyJitter: Duration = .zero,
                queryResultCap: Int = 10_000, cursorTTL: Duration = .seconds(600)) {
        self.token = token
        self.rateLimit = rateLimit
        self.faults = faults
        self.latency = latency
        self.latencyJitter = latencyJitter
        self.queryResultCap = queryResultCap
        self.cursorTTL = cursorTTL
    }

    /// The Notion-Version values the simulator answers.
    public static let supportedVersions = ["2022-06-28", "2025-09-03", "2026-03-11"]
}
