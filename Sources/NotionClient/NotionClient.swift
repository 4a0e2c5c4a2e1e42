import Foundation
public import Logging
public import TransportKit
import Synchronization

/// A client of the Notion REST API for what relsync needs: schema, rows, complete relations,
/// and property writes. One instance paces all of its callers against one shared budget
/// (`NotionConfiguration.rateLimit`), retries what is safe to retry, and counts every request.
public final class NotionClient: Sendable {
    let configuration: NotionConfiguration
    let transport: any HTTPTransport
    let logger: Logger
    let clock: any NotionClock
    let pacer: RequestPacer
    private let baseURL: String
    private let counters = Mutex(NotionStatistics())

    /// - Parameters:
    ///   - configuration: token, endpoint, version, budget and retry policy.
    ///   - transport: sends the HTTP requests (libcurl in production, a simulator in tests).
    ///   - logger: receives debug lines per request and notice/warning lines per retry; never the token.
    public convenience init(configuration: NotionConfiguration, transport: any HTTPTransport, logger: Logger) {
        self.init(configuration: configuration, transport: transport, logger: logger, clock: SystemNotionClock())
    }

    /// As `init(configuration:transport:logger:)`, with the time source of pacing and backoff
    /// (a virtual clock makes tests fast and exact).
    public init(configuration: NotionConfiguration, transport: any HTTPTransport, logger: Logger, clock: any NotionClock) {
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
        self.clock = clock
        self.pacer = RequestPacer(
            rateLimit: configuration.rateLimit, maxConcurrent: configuration.maxConcurrentRequests, clock: clock)
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
    }

    /// A snapshot of the request counters.
    public func statistics() -> NotionStatistics {
        counters.withLock { $0 }
    }

    // MARK: - Endpoints

    /// `GET /v1/users/me`: the integration's bot user (its id marks the integration's own edits).
    public func me() async throws -> NotionUser {
        try await send(.me, path: "/v1/users/me", safety: .read) { data in
            try JSONDecoding.decode(NotionUser.self, from: data, endpoint: Endpoint.me.rawValue)
        }
    }

    /// `GET /v1/databases/{id}`: the container and its data sources.
    public func retrieveDatabase(_ id: String) async throws -> NotionDatabase {
        let id = try Self.requireID(id)
        return try await send(.retrieveDatabase, path: "/v1/databases/\(id)", safety: .read) { data in
            try JSONDecoding.decode(NotionDatabase.self, from: data, endpoint: Endpoint.retrieveDatabase.rawValue)
        }
    }

    /// `GET /v1/data_sources/{id}`: the schema.
    public func retrieveDataSource(_ id: String) async throws -> NotionDataSource {
        let id = try Self.requireID(id)
        return try await send(.retrieveDataSource, path: "/v1/data_sources/\(id)", safety: .read) { data in
            try JSONDecoding.decode(NotionDataSource.self, from: data, endpoint: Endpoint.retrieveDataSource.rawValue)
        }
    }

    /// Every page of a data source that matches `filter`, oldest `created_time` first, read
    /// lazily 100 at a time, past the 10,000-row cap of one query (see `DataSourcePages`).
    /// - Parameters:
    ///   - filter: a Notion filter object, or nil for every row.
    ///   - filterProperties: property ids (or names) to keep in each page's `properties`; nil for all.
    public func queryDataSource(_ id: String, filter: JSONValue? = nil, filterProperties: [String]? = nil) -> DataSourcePages {
        DataSourcePages(client: self, dataSourceID: id, filter: filter, filterProperties: filterProperties)
    }

    /// The complete list of page ids of one relation property of one page, in Notion's order
    /// (see `RelationTargets`).
    /// - Parameter propertyID: the property id as Notion returned it (URL-encoded ids are sent as they are).
    public func relationTargets(pageID: String, propertyID: String) -> RelationTargets {
        RelationTargets(client: self, pageID: pageID, propertyID: propertyID)
    }

    /// `GET /v1/pages/{id}`: one page, e.g. to read back a write whose answer was lost.
    /// - Parameter filterProperties: property ids (or names) to keep in `properties`; nil for all.
    public func retrievePage(_ id: String, filterProperties: [String]? = nil) async throws -> NotionPage {
        let id = try Self.requireID(id)
        let query = (filterProperties ?? []).map { ("filter_properties", PathEncoding.queryValue($0)) }
        return try await send(.retrievePage, path: "/v1/pages/\(id)", query: query, safety: .read) { data in
            try JSONDecoding.decode(NotionPage.self, from: data, endpoint: Endpoint.retrievePage.rawValue)
        }
    }

    /// `PATCH /v1/pages/{id}` with `{"properties": properties}`; returns the updated page.
    /// - Parameter idempotent: true when repeating the request cannot do harm (it sets whole
    ///   property values, the usual case): it is then also retried after 500/502/503/504 and
    ///   connection failures. A 503 whose body carries `retry_guidance` (the write may have been
    ///   saved) is never repeated: the error is thrown so the caller re-reads the page.
    public func updatePage(_ id: String, properties: JSONValue, idempotent: Bool = true) async throws -> NotionPage {
        let id = try Self.requireID(id)
        let body: JSONValue = ["properties": properties]
        return try await send(
            .updatePage, path: "/v1/pages/\(id)", body: body, safety: idempotent ? .idempotentWrite : .write
        ) { data in
            try JSONDecoding.decode(NotionPage.self, from: data, endpoint: Endpoint.updatePage.rawValue)
        }
    }

    // MARK: - Internal pages of the walks

    func fetchQueryPage(dataSourceID: String, body: JSONValue, filterProperties: [String]?) async throws -> QueryPage {
        let query = (filterProperties ?? []).map { ("filter_properties", PathEncoding.queryValue($0)) }
        return try await send(
            .queryDataSource, path: "/v1/data_sources/\(dataSourceID)/query", query: query, body: body, safety: .read
        ) { data in
            try JSONDecoding.decode(QueryPage.self, from: data, endpoint: Endpoint.queryDataSource.rawValue)
        }
    }

    func fetchRelationPage(pageID: String, propertyID: String, cursor: String?) async throws -> RelationItemPage {
        var query = [("page_size", "100")]
        if let cursor { query.append(("start_cursor", PathEncoding.queryValue(cursor))) }
        let path = "/v1/pages/\(pageID)/properties/\(PathEncoding.pathSegment(propertyID))"
        return try await send(.retrievePropertyItem, path: path, query: query, safety: .read) { data in
            try JSONDecoding.decode(RelationItemPage.self, from: data, endpoint: Endpoint.retrievePropertyItem.rawValue)
        }
    }

    static func requireID(_ id: String) throws(NotionError) -> String {
        guard let normalized = NotionID.normalize(id) else { throw NotionError(.invalidID(id)) }
        return normalized
    }

    // MARK: - Sending, classifying, retrying

    enum RequestSafety {
        /// GET, and POST …/query: safe to repeat after any transient failure.
        case read
        /// A write that sets whole values: repeated after 5xx and connection failures too.
        case idempotentWrite
        /// Repeated only after 429/529 (Notion did not act on it) and failed connects.
        case write
    }

    private enum Decision {
        case fail(NotionError)
        /// Retry after `delay` (nil: jittered backoff); `pauseAll` pauses every caller (429/529).
        case retry(NotionError, delay: Duration?, pauseAll: Bool)
    }

    func makeRequest(_ endpoint: Endpoint, path: String, query: [(String, String)], body: JSONValue?) -> HTTPRequest {
        var url = baseURL + path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        }
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer \(configuration.token)")
        headers.add("Notion-Version", configuration.version)
        let data = body?.serialized()
        if data != nil { headers.add("Content-Type", "application/json") }
        return HTTPRequest(method: endpoint.method, url: url, headers: headers, body: data, timeout: configuration.timeout)
    }

    func send<T>(
        _ endpoint: Endpoint, path: String, query: [(String, String)] = [], body: JSONValue? = nil,
        safety: RequestSafety, decode: (Data) throws -> T
    ) async throws -> T {
        let request = makeRequest(endpoint, path: path, query: query, body: body)
        let maxAttempts = max(1, configuration.retry.maxAttempts)
        var attempt = 0
        while true {
            attempt += 1
            try await pacer.acquire()
            counters.withLock { stats in
                stats.totalRequests += 1
                stats.requestsByEndpoint[endpoint.rawValue, default: 0] += 1
                if attempt > 1 { stats.retries += 1 }
            }
            let started = clock.now()
            let outcome: Result<HTTPResponse, any Error>
            do {
                outcome = .success(try await transport.send(request))
            } catch {
                outcome = .failure(error)
            }
            pacer.release()

            let decision: Decision
            switch outcome {
            case .success(let response):
                let requestID = response.headers["x-notion-request-id"]
                logger.debug(
                    "Notion request finished",
                    metadata: [
                        "http.method": "\(endpoint.method)", "notion.endpoint": "\(endpoint.rawValue)",
                        "http.status": "\(response.status)", "notion.request_id": "\(requestID ?? "")",
                        "duration_ms": "\((clock.now() - started).milliseconds)",
                    ])
                if (200..<300).contains(response.status) {
                    do {
                        return try decode(response.body)
                    } catch {
                        let failure = redacted(asNotionError(error, endpoint: endpoint))
                        // A truncated or garbled body of a read is read again (a write was applied
                        // already); well-formed JSON of an unexpected shape would only fail again.
                        guard safety == .read, case .decoding = failure.kind, !Self.isWellFormedJSON(response.body) else {
                            throw failure
                        }
                        decision = .retry(failure, delay: nil, pauseAll: false)
                    }
                } else {
                    decision = classify(response, endpoint: endpoint, safety: safety)
                }
            case .failure(let error as TransportError):
                counters.withLock { $0.transportErrors += 1 }
                let failure = redacted(NotionError(.transport(error), endpoint: endpoint.rawValue))
                let repeatable = safety == .write ? error.kind == .connect : error.isRetryable
                decision = repeatable ? .retry(failure, delay: nil, pauseAll: false) : .fail(failure)
            case .failure(let error):
                throw error
            }

            switch decision {
            case .fail(let error):
                throw error
            case .retry(let error, let explicitDelay, let pauseAll):
                let delay = explicitDelay ?? backoff(retry: attempt - 1)
                let deadline = clock.now() + delay
                if pauseAll {
                    // The budget is shared: every caller waits, whether or not this one retries,
                    // and the pace slows: a 429 says the real budget is smaller than configured.
                    await pacer.pause(until: deadline)
                    if error.status == 429 { await pacer.slowDown() }
                }
                guard attempt < maxAttempts else {
                    logger.warning(
                        "Notion request failed; no attempts left",
                        metadata: metadata(endpoint, error, ["retry.attempts": "\(attempt)"]))
                    throw NotionError(.retriesExhausted(attempts: attempt, last: error), endpoint: endpoint.rawValue)
                }
                logger.log(
                    level: pauseAll ? .notice : .warning,
                    pauseAll ? "Notion asked to slow down; pausing all requests" : "Notion request failed; retrying",
                    metadata: metadata(
                        endpoint, error,
                        [
                            "retry.attempt": "\(attempt)", "retry.delay_ms": "\(delay.milliseconds)",
                            "retry.server_delay": "\(explicitDelay != nil)",
                        ]))
                if !pauseAll {
                    try await clock.sleep(until: deadline)
                }
            }
        }
    }

    private func classify(_ response: HTTPResponse, endpoint: Endpoint, safety: RequestSafety) -> Decision {
        let status = response.status
        let headerRequestID = response.headers["x-notion-request-id"]
        let error: NotionError
        var additionalData: [String: JSONValue] = [:]
        var isJSONError = false
        if let body = try? JSONDecoder().decode(ErrorBody.self, from: response.body) {
            isJSONError = true
            additionalData = body.additionalData
            error = NotionError(
                .api(
                    status: status, code: body.code, message: body.message, requestID: body.requestID ?? headerRequestID,
                    additionalData: body.additionalData), endpoint: endpoint.rawValue)
        } else {
            error = NotionError(
                .unexpectedResponse(status: status, requestID: headerRequestID, detail: Self.describeBody(response)),
                endpoint: endpoint.rawValue)
        }
        let failure = redacted(error)
        let code = error.code

        if status == 429 || code == "rate_limited" {
            counters.withLock { $0.rateLimited += 1 }
            if additionalData["rate_limit_reason"]?.stringValue == "public_api_request_blocked" {
                let message: String
                if case .api(_, _, let text, _, _) = failure.kind { message = text } else { message = "" }
                return .fail(NotionError(.requestBlocked(requestID: failure.requestID, message: message), endpoint: endpoint.rawValue))
            }
            return .retry(failure, delay: retryAfter(response, additionalData), pauseAll: true)
        }
        if status >= 500 || !isJSONError { counters.withLock { $0.serverErrors += 1 } }
        if status == 529 || code == "service_overload" {
            return .retry(failure, delay: retryAfter(response, additionalData), pauseAll: true)
        }
        let serverTrouble = [500, 502, 503, 504].contains(status)
        let repeatable: Bool
        switch safety {
        case .read:
            repeatable = serverTrouble || !isJSONError
        case .idempotentWrite:
            // A 503 with retry_guidance says the write may have been saved: never repeat it.
            repeatable = serverTrouble && !(status == 503 && additionalData["retry_guidance"] != nil)
        case .write:
            repeatable = false
        }
        return repeatable ? .retry(failure, delay: retryAfter(response, additionalData), pauseAll: false) : .fail(failure)
    }

    /// `Retry-After` as delta-seconds or an HTTP-date, else `additional_data.retry_after`. Never capped.
    func retryAfter(_ response: HTTPResponse, _ additionalData: [String: JSONValue]) -> Duration? {
        if let header = response.headers["Retry-After"]?.trimmingCharacters(in: .whitespaces), !header.isEmpty {
            if let seconds = Double(header), seconds.isFinite, seconds >= 0 {
                return .milliseconds(Int64((seconds * 1000).rounded(.up)))
            }
            if let date = Timestamp.parseHTTPDate(header) {
                let seconds = max(0, date.timeIntervalSince(clock.wallTime()))
                return .milliseconds(Int64((seconds * 1000).rounded(.up)))
            }
        }
        switch additionalData["retry_after"] {
        case .string(let text)?:
            if let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0 {
                return .milliseconds(Int64((seconds * 1000).rounded(.up)))
            }
        case .number(let seconds)? where seconds.isFinite && seconds >= 0:
            return .milliseconds(Int64((seconds * 1000).rounded(.up)))
        default:
            break
        }
        return nil
    }

    /// `initialDelay · 2^retry`, jittered to 0.5–1.5×, capped at `maxBackoff`.
    func backoff(retry: Int) -> Duration {
        let policy = configuration.retry
        let base = policy.initialDelay.seconds * pow(2, Double(min(retry, 40)))
        let jittered = base * Double.random(in: 0.5...1.5)
        let capped = min(jittered, policy.maxBackoff.seconds)
        return .nanoseconds(Int64((max(0, capped) * 1e9).rounded()))
    }

    private func asNotionError(_ error: any Error, endpoint: Endpoint) -> NotionError {
        if var notionError = error as? NotionError {
            if notionError.endpoint == nil { notionError.endpoint = endpoint.rawValue }
            return notionError
        }
        return NotionError(.decoding(endpoint: endpoint.rawValue, detail: "\(error)"), endpoint: endpoint.rawValue)
    }

    /// The error with every occurrence of the token replaced, wherever the text came from.
    func redacted(_ error: NotionError) -> NotionError {
        error.redacting(configuration.token)
    }

    private func metadata(_ endpoint: Endpoint, _ error: NotionError, _ extra: Logger.Metadata) -> Logger.Metadata {
        var result: Logger.Metadata = [
            "http.method": "\(endpoint.method)", "notion.endpoint": "\(endpoint.rawValue)",
            "error": "\(error.description)",
        ]
        if let status = error.status { result["http.status"] = "\(status)" }
        if let code = error.code { result["notion.code"] = "\(code)" }
        if let requestID = error.requestID { result["notion.request_id"] = "\(requestID)" }
        if case .transport(let transportError) = error.kind { result["transport.kind"] = "\(transportError.kind.rawValue)" }
        result.merge(extra) { _, new in new }
        return result
    }

    private static func isWellFormedJSON(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil
    }

    /// A short, single-line description of a non-Notion error body.
    private static func describeBody(_ response: HTTPResponse) -> String {
        let contentType = response.headers["Content-Type"] ?? "no content type"
        let text = String(decoding: response.body.prefix(160), as: UTF8.self)
        let oneLine = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        if oneLine.isEmpty { return "empty body (\(contentType))" }
        return "\(contentType) body \"\(oneLine)\(response.body.count > 160 ? "…" : "")\""
    }
}

extension NotionError {
    /// A copy with `secret` replaced by `<redacted>` in every text it carries.
    func redacting(_ secret: String) -> NotionError {
        guard !secret.isEmpty else { return self }
        func clean(_ text: String) -> String {
            text.contains(secret) ? text.replacingOccurrences(of: secret, with: "<redacted>") : text
        }
        func cleanJSON(_ value: JSONValue) -> JSONValue {
            switch value {
            case .string(let text): return .string(clean(text))
            case .array(let values): return .array(values.map(cleanJSON))
            case .object(let members): return .object(members.mapValues(cleanJSON))
            default: return value
            }
        }
        var copy = self
        switch kind {
        case .api(let status, let code, let message, let requestID, let data):
            copy.kind = .api(
                status: status, code: clean(code), message: clean(message), requestID: requestID.map(clean),
                additionalData: data.mapValues(cleanJSON))
        case .unexpectedResponse(let status, let requestID, let detail):
            copy.kind = .unexpectedResponse(status: status, requestID: requestID.map(clean), detail: clean(detail))
        case .decoding(let endpoint, let detail):
            copy.kind = .decoding(endpoint: endpoint, detail: clean(detail))
        case .transport(var error):
            error.message = clean(error.message)
            copy.kind = .transport(error)
        case .requestBlocked(let requestID, let message):
            copy.kind = .requestBlocked(requestID: requestID.map(clean), message: clean(message))
        case .retriesExhausted(let attempts, let last):
            copy.kind = .retriesExhausted(attempts: attempts, last: last.redacting(secret))
        case .invalidID(let value):
            copy.kind = .invalidID(clean(value))
        case .queryCapExceeded:
            break
        }
        return copy
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }

    var milliseconds: Int64 {
        let (s, attoseconds) = components
        return s * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
