public import Foundation
import TransportKit

/// A fault scheduled for upcoming requests, for tests that need one at an exact point.
public enum InjectedFault: Sendable, Equatable {
    /// 500, 502, 503, 504 or 529 with Notion's error object.
    case serverError(Int)
    /// 429 `rate_limited` with this Retry-After.
    case rateLimited(retryAfter: Int)
    /// A text/html 502 from an edge proxy.
    case htmlBadGateway
    case dropConnection
    case truncateBody
    /// The request's `start_cursor` (if it has one) is treated as invalid.
    case invalidCursor
    /// A PATCH is saved, then answered 503 with `retry_guidance`.
    case committedWriteUnavailable
    /// 409 `conflict_error` ("Conflict occurred while saving. Please try again."); the request
    /// is not acted on (a concurrent edit won).
    case conflict
    /// The answer is sent only after this delay (on top of the configured latency): a response
    /// slower than the client's timeout.
    case slowResponse(Duration)
    /// Just before the request is answered, this page is deleted for good (emptied from the
    /// trash): from then on every request about it is 404 `object_not_found`, and it drops out
    /// of every relation. A page deleted while a client walks the workspace.
    case pageDeleted(UUID)
}

/// A mutation or lookup the simulator could not do.
public struct SimulatorError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The simulated Notion API: answers raw requests, with no sockets. Everything Notion-like
/// (routing, validation, shapes, pagination, rate limits, faults, the journal) lives here.
public actor SimulatorEngine {
    public private(set) var configuration: SimulatorConfiguration
    var workspace: Workspace
    let clock: any SimClock
    public nonisolated let seed: UInt64
    public nonisolated let botUserID: UUID
    /// `demo`, `bench`, `edge-cases` or `custom`.
    public nonisolated let label: String
    /// The port the HTTP server listens on, once one does.
    public private(set) var boundPort: Int?

    private var faultRNG: SeededGenerator
    private var requestIDs: SeededGenerator
    private var limiter: RateLimiter
    var journalState = JournalSnapshot()
    private var cursors: CursorStore
    private var queryCache: [String: [(id: UUID, key: RowKey)]] = [:]
    private var queryCacheVersion = -1
    private var scheduled: [(fault: InjectedFault, endpoint: Endpoint?)] = []

    public init(workspace spec: WorkspaceSpec, configuration: SimulatorConfiguration = SimulatorConfiguration(),
                clock: any SimClock = SystemClock()) {
        self.workspace = spec.model
        self.configuration = configuration
        self.clock = clock
        self.seed = spec.seed
        self.botUserID = spec.botUserID
        self.label = spec.label
        self.faultRNG = SeededGenerator(seed: spec.seed, stream: "faults")
        self.requestIDs = SeededGenerator(seed: spec.seed, stream: "request-ids")
        self.limiter = RateLimiter(policy: configuration.rateLimit)
        self.cursors = CursorStore(seed: spec.seed)
    }

    // MARK: Configuration, journal, faults

    public func setConfiguration(_ configuration: SimulatorConfiguration) {
        if configuration.rateLimit != self.configuration.rateLimit {
            limiter = RateLimiter(policy: configuration.rateLimit)
        }
        self.configuration = configuration
    }

    public func updateConfiguration(_ change: @Sendable (inout SimulatorConfiguration) -> Void) {
        var copy = configuration
        change(&copy)
        setConfiguration(copy)
    }

    /// Called by `SimulatorServer` once it listens: `next_url` and the manifest then point at it.
    public func setPublicAddress(baseURL: String, port: Int?) {
        configuration.publicBaseURL = baseURL
        boundPort = port
    }

    public func journal() -> JournalSnapshot { journalState }

    public func resetJournal() { journalState = JournalSnapshot() }

    /// Schedules `fault` for the next `count` requests to `endpoint` (any /v1 endpoint when nil).
    public func injectFault(_ fault: InjectedFault, on endpoint: Endpoint? = nil, count: Int = 1) {
        for _ in 0..<max(0, count) { scheduled.append((fault, endpoint)) }
    }

    /// Drops the faults scheduled with `injectFault` that no request has met yet.
    public func clearInjectedFaults() { scheduled.removeAll() }

    /// Every cursor issued so far becomes invalid (400 `The start_cursor provided is invalid…`).
    public func invalidateAllCursors() { cursors.removeAll() }

    var now: Millis { Timestamp.millis(clock.now()) }

    // MARK: Handling

    public func handle(_ request: SimRequest) async -> SimResponse {
        let (path, query) = Self.split(target: request.target)
        if path == "/__sim" || path.hasPrefix("/__sim/") {
            return admin(request, path: path)
        }
        let requestID = IDFormat.dashed(requestIDs.uuid())
        guard path == "/v1" || path.hasPrefix("/v1/") else {
            // Not the API: no journal, no faults.
            return errorResponse(.invalidURL, requestID: requestID)
        }
        let route = Route(method: request.method, path: path)
        journalState.record(route.endpoint)
        var pending: InjectedFault?
        if let index = scheduled.firstIndex(where: { $0.endpoint == nil || $0.endpoint == route.endpoint }) {
            pending = scheduled.remove(at: index).fault
        }
        if case .pageDeleted(let page)? = pending {
            deletePage(page)
            pending = nil
        }
        var extraDelay = Duration.zero
        if case .slowResponse(let delay)? = pending {
            journalState.record(.slowResponse)
            extraDelay = delay
            pending = nil
        }
        var response = respond(request, route: route, query: query, requestID: requestID, scheduled: pending)
        response.delay = latency() + extraDelay
        journalState.record(status: response.status)
        return response
    }

    private func respond(_ request: SimRequest, route: Route, query: [(key: String, value: String)],
                         requestID: String, scheduled: InjectedFault?) -> SimResponse {
        let faults = configuration.faults
        // Infrastructure faults answer before the API looks at the request.
        if scheduled == .htmlBadGateway || (scheduled == nil && faultRNG.chance(faults.htmlBadGateway)) {
            journalState.record(.htmlBadGateway)
            return htmlBadGateway()
        }
        var serverError: Int?
        if case .serverError(let status)? = scheduled {
            serverError = status
        } else if scheduled == nil, faultRNG.chance(faults.serverError), !faults.serverErrorStatuses.isEmpty {
            serverError = faults.serverErrorStatuses.randomElement(using: &faultRNG)
        }
        if let status = serverError {
            journalState.record(FaultKind.serverError(status))
            return errorResponse(.serverError(status: status), requestID: requestID)
        }
        var injectedRetryAfter: Int?
        if case .rateLimited(let retryAfter)? = scheduled {
            injectedRetryAfter = retryAfter
        } else if scheduled == nil, faultRNG.chance(faults.rateLimited) {
            injectedRetryAfter = faults.rateLimitedRetryAfter
        }
        if let retryAfter = injectedRetryAfter {
            journalState.record(.injected429)
            journalState.injected429 += 1
            return errorResponse(.rateLimited(reason: "public_api_request_rate_limit", retryAfter: max(1, retryAfter)),
                                 requestID: requestID)
        }
        if scheduled == .conflict {
            journalState.record(.conflict409)
            return errorResponse(APIError(status: 409, code: "conflict_error",
                                          message: "Conflict occurred while saving. Please try again."),
                                 requestID: requestID)
        }

        // The API proper.
        let authorization = request.headers["Authorization"] ?? ""
        let parts = authorization.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0].lowercased() == "bearer", parts[1] == configuration.token else {
            return errorResponse(APIError(status: 401, code: "unauthorized", message: "API token is invalid."),
                                 requestID: requestID)
        }
        if configuration.blocked {
            journalState.blocked429 += 1
            return errorResponse(.rateLimited(reason: "public_api_request_blocked", retryAfter: nil), requestID: requestID)
        }
        if let denied = capabilityCheck(route.endpoint) {
            return errorResponse(denied, requestID: requestID)
        }
        if let retryAfter = limiter.admit(token: configuration.token, now: now) {
            journalState.rateLimited += 1
            return errorResponse(.rateLimited(reason: "public_api_request_rate_limit", retryAfter: retryAfter),
                                 requestID: requestID)
        }
        guard let versionHeader = request.headers["Notion-Version"] else {
            return errorResponse(APIError(status: 400, code: "missing_version",
                                          message: "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`."),
                                 requestID: requestID)
        }
        guard let version = APIVersion(rawValue: versionHeader.trimmingCharacters(in: .whitespaces)) else {
            return errorResponse(.validation("Notion-Version header failed validation: `\(versionHeader)` is not a supported API version. Supported: \(SimulatorConfiguration.supportedVersions.joined(separator: ", "))."),
                                 requestID: requestID)
        }

        let context = RequestContext(request: request, query: query, version: version,
                                     cursorFault: scheduled == .invalidCursor || (scheduled == nil && faultRNG.chance(faults.cursorInvalidation)))
        let body: JSONValue
        do {
            body = try dispatch(route, context)
        } catch {
            return errorResponse(error, requestID: requestID)
        }

        var response = jsonResponse(status: 200, body: body, requestID: requestID)
        if route.endpoint == .updatePage,
           scheduled == .committedWriteUnavailable || (scheduled == nil && faultRNG.chance(faults.committedWriteUnavailable)) {
            journalState.record(.committedWrite503)
            var error = APIError.serverError(status: 503)
            error.message = "The change was saved, but the response could not be built in time. Read the object again instead of repeating the write."
            error.additionalData = [
                "from": "public_updatePage", "elapsed_ms": "55012", "deadline_ms": "55000",
                "retry_guidance": ["Read the object again to confirm the saved change.", "Do not repeat the write."],
            ]
            return errorResponse(error, requestID: requestID)
        }
        if scheduled == .dropConnection || (scheduled == nil && faultRNG.chance(faults.dropConnection)) {
            journalState.record(.dropConnection)
            response.fault = .dropConnection
        } else if scheduled == .truncateBody || (scheduled == nil && faultRNG.chance(faults.truncateBody)) {
            journalState.record(.truncateBody)
            response.fault = .truncateBody
        }
        return response
    }

    /// 403 `restricted_resource` when the integration lacks the capability the endpoint needs.
    private func capabilityCheck(_ endpoint: Endpoint) -> APIError? {
        switch endpoint {
        case .usersMe, .other:
            return nil
        case .updatePage where !configuration.canUpdateContent:
            return APIError(status: 403, code: "restricted_resource",
                            message: "Insufficient permissions for this endpoint: the integration lacks the update content capability.")
        case .updatePage:
            return nil
        default:
            guard configuration.canReadContent else {
                return APIError(status: 403, code: "restricted_resource",
                                message: "Insufficient permissions for this endpoint: the integration lacks the read content capability.")
            }
            return nil
        }
    }

    private func latency() -> Duration {
        var delay = configuration.latency
        let jitterMs = Int(configuration.latencyJitter.components.seconds * 1000
            + configuration.latencyJitter.components.attoseconds / 1_000_000_000_000_000)
        if jitterMs > 0 { delay += .milliseconds(Int.random(in: 0...jitterMs, using: &faultRNG)) }
        return delay
    }

    // MARK: Responses

    func jsonResponse(status: Int, body: JSONValue, requestID: String, extraHeaders: [(String, String)] = []) -> SimResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json; charset=utf-8")
        headers.add("x-notion-request-id", requestID)
        for (name, value) in extraHeaders { headers.add(name, value) }
        return SimResponse(status: status, headers: headers, body: body.serialized())
    }

    func errorResponse(_ error: APIError, requestID: String) -> SimResponse {
        jsonResponse(status: error.status, body: error.body(requestID: requestID), requestID: requestID,
                     extraHeaders: error.headers)
    }

    private func htmlBadGateway() -> SimResponse {
        let html = """
        <html>
        <head><title>502 Bad Gateway</title></head>
        <body>
        <center><h1>502 Bad Gateway</h1></center>
        <hr><center>cloudflare</center>
        </body>
        </html>

        """
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/html")
        headers.add("Server", "cloudflare")
        headers.add("cf-ray", String(format: "%016llx-IAD", faultRNG.next()))
        return SimResponse(status: 502, headers: headers, body: Data(html.utf8))
    }

    /// Splits a request target into its path and its query pairs (keys decoded once, values raw).
    static func split(target: String) -> (String, [(key: String, value: String)]) {
        var target = target
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if let scheme = target.range(of: "://") {
            let rest = target[scheme.upperBound...]
            target = rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { String(rest[$0...]) } ?? "/"
        }
        guard let mark = target.firstIndex(of: "?") else { return (target, []) }
        let path = String(target[..<mark])
        let query = target[target.index(after: mark)...]
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { pair -> (key: String, value: String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (PercentEncoding.decode(String(parts[0])), parts.count > 1 ? String(parts[1]) : "")
        }
        return (path, pairs)
    }

    // MARK: Cursors and query cache (used by the endpoint handlers)

    var cursorTTL: Millis {
        let ttl = configuration.cursorTTL.components
        return ttl.seconds * 1000 + ttl.attoseconds / 1_000_000_000_000_000
    }

    func issueCursor(_ state: CursorState) -> String {
        cursors.issue(state, now: now, ttl: cursorTTL)
    }

    func resolveCursor(_ token: String, context: RequestContext) throws(APIError) -> CursorState {
        if context.cursorFault {
            journalState.record(.cursorInvalidated)
            throw .invalidCursor("\(token) (the cursor was invalidated; restart the walk)")
        }
        switch cursors.lookup(token, now: now, ttl: cursorTTL) {
        case .found(let state): return state
        case .unknown: throw .invalidCursor("\(token)")
        case .expired: throw .invalidCursor("\(token) (the cursor has expired; restart the walk)")
        }
    }

    /// The ordered rows of a query, cached per workspace version and minute.
    func rows(of source: DataSourceRecord, plan: QueryPlan) -> [(id: UUID, key: RowKey)] {
        if queryCacheVersion != workspace.version {
            queryCache.removeAll()
            queryCacheVersion = workspace.version
        }
        let minute = Timestamp.floorToMinute(now)
        let cacheKey = "\(IDFormat.dashed(source.id))|\(minute)|\(plan.fingerprint)"
        if let cached = queryCache[cacheKey] { return cached }
        var rows: [(id: UUID, key: RowKey)] = []
        for id in source.pageIDs {
            guard let page = workspace.pages[id] else { continue }
            switch plan.scope {
            case .live: guard !page.inTrash, !page.isArchived else { continue }
            case .trashed: guard page.inTrash else { continue }
            case .archived: guard page.isArchived, !page.inTrash else { continue }
            }
            if let filter = plan.filter, !workspace.matches(page, filter) { continue }
            rows.append((id, workspace.rowKey(page, sorts: plan.sorts)))
        }
        rows.sort { RowKey.compare($0.key, $1.key, sorts: plan.sorts) < 0 }
        if queryCache.count > 64 { queryCache.removeAll() }
        queryCache[cacheKey] = rows
        return rows
    }

    func renderer(_ version: APIVersion) -> Renderer {
        Renderer(workspace: workspace, version: version, relationLimit: configuration.relationValueLimit,
                 mentionLimit: configuration.mentionLimit)
    }
}

/// What a handler needs to know about the request besides the route.
struct RequestContext {
    let request: SimRequest
    let query: [(key: String, value: String)]
    let version: APIVersion
    /// A cursor fault was drawn for this request: any start_cursor it carries is invalid.
    let cursorFault: Bool
}
