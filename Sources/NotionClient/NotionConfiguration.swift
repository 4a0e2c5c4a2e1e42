/// How fast the client may send requests. One budget is shared by every call of one client.
public enum RateLimit: Sendable, Equatable {
    /// No client-side pacing (the in-flight limit and the server's `Retry-After` still apply).
    case unlimited
    /// A token bucket: on average `requestsPerSecond`, with up to `burst` requests sent at once
    /// after a quiet period. Notion's long-standing wording ("an average of three requests per
    /// second, some bursts allowed").
    case average(requestsPerSecond: Double, burst: Int)
    /// At most `requests` requests in any `seconds`-long window, sent as soon as the window has
    /// budget (a burst spends it at once). Notion's 2026 wording: 180 per 60 s, or 600 per 60 s on
    /// Business and Enterprise plans.
    case window(requests: Int, seconds: Double)
}

/// When and how often a failed request is repeated.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in total, the first one included. 1 disables retries.
    public var maxAttempts: Int
    /// The backoff base: the n-th retry waits `initialDelay · 2ⁿ` (n from 0), jittered to 0.5–1.5×.
    public var initialDelay: Duration
    /// The cap of a computed backoff. A server's `Retry-After` is never capped.
    public var maxBackoff: Duration

    public init(maxAttempts: Int = 10, initialDelay: Duration = .milliseconds(500), maxBackoff: Duration = .seconds(30)) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxBackoff = maxBackoff
    }
}

/// Everything a `NotionClient` needs to know. `description` never shows the token.
public struct NotionConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The integration token (`ntn_…` or `secret_…`), sent as `Authorization: Bearer`.
    public var token: String
    /// Scheme and host (and port) of the API, without `/v1`. A simulator's URL in tests.
    public var baseURL: String
    /// The `Notion-Version` header sent on every request.
    public var version: String
    /// The client-side budget. Default: 3 requests per second on average with a burst of 3, i.e. at
    /// most one second's worth of requests at once after a pause: the documented average, without
    /// relying on the unpublished size of Notion's burst allowance.
    public var rateLimit: RateLimit
    /// Requests in flight at once, across all callers of the client. Default 3.
    public var maxConcurrentRequests: Int
    /// The whole exchange of one request must finish within this time. Default 75 s (Notion's own
    /// request deadline is 60 s, after which it answers 503 itself).
    public var timeout: Duration
    /// Retries of failed requests.
    public var retry: RetryPolicy

    public init(
        token: String,
        baseURL: String = "https://api.notion.com",
        version: String = "2025-09-03",
        rateLimit: RateLimit = .average(requestsPerSecond: 3, burst: 3),
        maxConcurrentRequests: Int = 3,
        timeout: Duration = .seconds(75),
        retry: RetryPolicy = RetryPolicy()
    ) {
        self.token = token
        self.baseURL = baseURL
        self.version = version
        self.rateLimit = rateLimit
        self.maxConcurrentRequests = maxConcurrentRequests
        self.timeout = timeout
        self.retry = retry
    }

    public var description: String {
        "NotionConfiguration(baseURL: \(baseURL), version: \(version), token: <redacted>, "
            + "rateLimit: \(rateLimit), maxConcurrentRequests: \(maxConcurrentRequests), "
            + "timeout: \(timeout), retry: maxAttempts \(retry.maxAttempts))"
    }

    public var debugDescription: String { description }

    /// `dump()` and debuggers see the same fields as `description`, never the token.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "baseURL": baseURL, "version": version, "token": "<redacted>", "rateLimit": rateLimit,
                "maxConcurrentRequests": maxConcurrentRequests, "timeout": timeout, "retry": retry,
            ],
            displayStyle: .struct
        )
    }
}
