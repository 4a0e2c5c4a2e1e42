import Foundation
import Logging
import NotionClient
import Testing
import TransportKit

@Suite("Retries")
struct RetryTests {
    let dataSourceID = "6c4240a9-a3ce-413e-9fd0-8a51a4d0a49b"
    let pageID1 = "60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7"

    /// Fails with `failure` for the first `failures` requests, then answers `success`.
    private func transport(
        clock: VirtualClock, failures: Int, success: HTTPResponse, failure: @escaping @Sendable () throws -> HTTPResponse
    ) -> ScriptedTransport {
        ScriptedTransport(clock: clock) { _, index in index < failures ? try failure() : success }
    }

    @Test func rateLimitedHonoursRetryAfterSeconds() async throws {
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 1, success: try Fixture.response("users_me.json")) {
            try Fixture.response("error_429.json", status: 429, headers: ["Retry-After": "2"])
        }
        let client = makeClient(transport: transport, clock: clock)
        _ = try await client.me()
        #expect(transport.count == 2)
        #expect(transport.requests[1].at == .seconds(2))
        let stats = client.statistics()
        #expect(stats.rateLimited == 1 && stats.retries == 1 && stats.totalRequests == 2)
    }

    @Test func rateLimitedFallsBackToAdditionalDataRetryAfter() async throws {
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 1, success: try Fixture.response("users_me.json")) {
            try Fixture.response("error_429.json", status: 429)  // additional_data.retry_after = "12"
        }
        _ = try await makeClient(transport: transport, clock: clock).me()
        #expect(transport.requests[1].at == .seconds(12))
    }

    @Test func retryAfterIsNeverCapped() async throws {
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 1, success: try Fixture.response("users_me.json")) {
            errorResponse(status: 429, code: "rate_limited", headers: ["Retry-After": "150"])
        }
        _ = try await makeClient(transport: transport, clock: clock).me()
        #expect(transport.requests[1].at == .seconds(150))
    }

    @Test func retryAfterAsHTTPDate() async throws {
        let clock = VirtualClock(wallOrigin: Date(timeIntervalSince1970: 1_790_000_000))
        // 1_790_000_090 is Mon, 21 Sep 2026 14:14:50 GMT: 90 s after the clock's wall origin.
        let transport = transport(clock: clock, failures: 1, success: try Fixture.response("users_me.json")) {
            errorResponse(status: 429, code: "rate_limited", headers: ["Retry-After": "Mon, 21 Sep 2026 14:14:50 GMT"])
        }
        _ = try await makeClient(transport: transport, clock: clock).me()
        #expect(transport.requests[1].at == .seconds(90))
    }

    @Test func rateLimitPausesEveryCallerOfTheClient() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport(clock: clock) { request, index in
            if index == 0 { return errorResponse(status: 429, code: "rate_limited", headers: ["Retry-After": "7"]) }
            return try Fixture.response(request.url.contains("databases") ? "database.json" : "users_me.json")
        }
        let client = makeClient(transport: transport, clock: clock, maxAttempts: 1)
        let error = try await #require(throws: NotionError.self) { _ = try await client.me() }
        #expect(error.status == 429)
        // Another call of the same client waits out the server's Retry-After too.
        _ = try await client.retrieveDatabase("248104cd477e80fdb757e945d38000bd")
        #expect(transport.requests[1].at == .seconds(7))
    }

    @Test func serviceOverloadWithoutRetryAfterBacksOffWithJitter() async throws {
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 1, success: try Fixture.response("users_me.json")) {
            errorResponse(status: 529, code: "service_overload")
        }
        let client = makeClient(transport: transport, clock: clock)
        _ = try await client.me()
        let wait = transport.requests[1].at
        #expect(wait >= .milliseconds(250) && wait <= .milliseconds(750))
        #expect(client.statistics().serverErrors == 1)
    }

    @Test(arguments: [500, 502, 503, 504])
    func serverErrorsOfReadsAreRetried(status: Int) async throws {
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 2, success: try Fixture.response("data_source.json")) {
            errorResponse(status: status, code: "internal_server_error")
        }
        _ = try await makeClient(transport: transport, clock: clock).retrieveDataSource(dataSourceID)
        #expect(transport.count == 3)
    }

    @Test func queryIsAReadAndIsRetriedOn503WithGuidance() async throws {
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 1, success: try Fixture.response("query_legacy_type.json")) {
            try Fixture.response("error_503_query.json", status: 503)
        }
        let pages = try await makeClient(transport: transport, clock: clock).queryDataSource(dataSourceID).collect()
        #expect(pages.count == 1)
        #expect(transport.count == 2)
        #expect(transport.requests.allSatisfy { $0.method == "POST" })
    }

    @Test(arguments: [TransportError.Kind.connect, .timeout, .connectionDropped])
    func transportFailuresOfReadsAreRetried(kind: TransportError.Kind) async throws {
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 2, success: try Fixture.response("users_me.json")) {
            throw TransportError(kind: kind, code: 7, message: "curl said no")
        }
        let client = makeClient(transport: transport, clock: clock)
        _ = try await client.me()
        #expect(transport.count == 3)
        #expect(client.statistics().transportErrors == 2)
    }

    @Test func tlsFailureIsNotRetried() async throws {
        let transport = ScriptedTransport { _, _ in throw TransportError(kind: .tls, message: "bad certificate") }
        let error = try await #require(throws: NotionError.self) { _ = try await makeClient(transport: transport).me() }
        guard case .transport(let underlying) = error.kind else {
            Issue.record("expected a transport error, got \(error)")
            return
        }
        #expect(underlying.kind == .tls)
        #expect(transport.count == 1)
    }

    @Test func truncatedJSONOfAReadIsRetried() async throws {
        let full = try Fixture.data("data_source.json")
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 1, success: HTTPResponse(status: 200, body: full)) {
            HTTPResponse(status: 200, body: full.prefix(200))
        }
        let source = try await makeClient(transport: transport, clock: clock).retrieveDataSource(dataSourceID)
        #expect(source.title == "Projects")
        #expect(transport.count == 2)
    }

    @Test func edgeProxyHTMLIsARetryableServerErrorForReads() async throws {
        let clock = VirtualClock()
        let transport = transport(clock: clock, failures: 1, success: try Fixture.response("users_me.json")) {
            try Fixture.response("error_edge.html", status: 502, headers: ["cf-ray": "abc"])
        }
        _ = try await makeClient(transport: transport, clock: clock).me()
        #expect(transport.count == 2)

        let failing = ScriptedTransport { _, _ in try Fixture.response("error_edge.html", status: 403) }
        let error = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: failing, maxAttempts: 2).me()
        }
        guard case .retriesExhausted(2, let last) = error.kind, case .unexpectedResponse(403, _, let detail) = last.kind else {
            Issue.record("expected exhausted retries of an unexpected response, got \(error)")
            return
        }
        #expect(detail.contains("text/html"))
        #expect(error.description.contains("502 Bad Gateway"))
    }

    @Test func blockedIntegrationFailsAtOnce() async throws {
        let transport = ScriptedTransport(responses: [try Fixture.response("error_429_blocked.json", status: 429)])
        let client = makeClient(transport: transport)
        let error = try await #require(throws: NotionError.self) { _ = try await client.me() }
        guard case .requestBlocked = error.kind else {
            Issue.record("expected requestBlocked, got \(error)")
            return
        }
        #expect(error.isRetryable == false)
        #expect(transport.count == 1)
        #expect(client.statistics().rateLimited == 1)
    }

    @Test(arguments: [400, 401, 403, 404, 409])
    func clientErrorsAreNotRetried(status: Int) async throws {
        let transport = ScriptedTransport(responses: [errorResponse(status: status, code: "some_code")])
        let error = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: transport).updatePage(pageID1, properties: [:])
        }
        #expect(error.status == status)
        #expect(transport.count == 1)
    }

    @Test func idempotentPatchIsRetriedAfterServerErrorsAndDroppedConnections() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport(clock: clock) { _, index in
            switch index {
            case 0: return errorResponse(status: 502, code: "bad_gateway")
            case 1: throw TransportError(kind: .connectionDropped, message: "reset")
            case 2: return errorResponse(status: 503, code: "service_unavailable")
            default: return try Fixture.response("page_2026_03_11.json")
            }
        }
        _ = try await makeClient(transport: transport, clock: clock).updatePage(pageID1, properties: [:])
        #expect(transport.count == 4)
    }

    @Test func nonIdempotentPatchIsRetriedOnlyWhenNotionDidNotActOnIt() async throws {
        let clock = VirtualClock()
        let rateLimited = transport(clock: clock, failures: 1, success: try Fixture.response("page_2026_03_11.json")) {
            errorResponse(status: 429, code: "rate_limited", headers: ["Retry-After": "1"])
        }
        _ = try await makeClient(transport: rateLimited, clock: clock).updatePage(pageID1, properties: [:], idempotent: false)
        #expect(rateLimited.count == 2)

        for failure in [
            errorResponse(status: 500, code: "internal_server_error"), errorResponse(status: 502, code: "bad_gateway"),
        ] {
            let transport = ScriptedTransport(responses: [failure, try Fixture.response("page_2026_03_11.json")])
            let error = try await #require(throws: NotionError.self) {
                _ = try await makeClient(transport: transport).updatePage(pageID1, properties: [:], idempotent: false)
            }
            #expect(error.status == failure.status)
            #expect(transport.count == 1)
        }

        let dropped = ScriptedTransport { _, _ in throw TransportError(kind: .timeout, message: "timed out") }
        _ = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: dropped).updatePage(pageID1, properties: [:], idempotent: false)
        }
        #expect(dropped.count == 1)
    }

    @Test func patchAnswered503WithRetryGuidanceIsNotRepeated() async throws {
        let transport = ScriptedTransport(responses: [
            try Fixture.response("error_503_retry_guidance.json", status: 503), try Fixture.response("page_2026_03_11.json"),
        ])
        let error = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: transport).updatePage(pageID1, properties: [:])
        }
        #expect(transport.count == 1)
        #expect(error.status == 503)
        #expect(error.code == "service_unavailable")
        #expect(error.additionalData["retry_guidance"] != nil)
    }

    @Test func retriesStopAfterMaxAttempts() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport(clock: clock) { _, _ in errorResponse(status: 500, code: "internal_server_error") }
        let (logger, logs) = CapturingLogHandler.logger()
        let client = makeClient(transport: transport, clock: clock, maxAttempts: 6, logger: logger)
        let error = try await #require(throws: NotionError.self) { _ = try await client.retrieveDataSource(dataSourceID) }
        guard case .retriesExhausted(let attempts, let last) = error.kind else {
            Issue.record("expected retriesExhausted, got \(error)")
            return
        }
        #expect(attempts == 6)
        #expect(last.status == 500)
        #expect(error.status == 500)
        #expect(error.isRetryable)
        #expect(transport.count == 6)
        #expect(client.statistics().retries == 5)

        // Backoff: initialDelay·2ⁿ jittered 0.5–1.5×, capped at 30 s.
        let sleeps = clock.sleeps
        #expect(sleeps.count == 5)
        for (n, sleep) in sleeps.enumerated() {
            let base = 0.5 * pow(2, Double(n))
            #expect(sleep.seconds >= 0.5 * base - 0.001 && sleep.seconds <= min(1.5 * base, 30) + 0.001)
        }
        let retries = logs.all.filter { $0.message == "Notion request failed; retrying" }
        #expect(retries.count == 5)
        #expect(retries.allSatisfy { $0.level == .warning && $0.metadata["http.status"] == "500" })
    }

    @Test func backoffIsCappedAtMaxBackoff() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport(clock: clock) { _, index in
            index < 8 ? errorResponse(status: 504, code: "gateway_timeout") : try Fixture.response("users_me.json")
        }
        var configuration = NotionConfiguration(token: testToken, rateLimit: .unlimited)
        configuration.retry = RetryPolicy(maxAttempts: 9, initialDelay: .seconds(1), maxBackoff: .seconds(4))
        let client = NotionClient(
            configuration: configuration, transport: transport, logger: .init(label: "t") { _ in SwiftLogNoOpLogHandler() },
            clock: clock)
        _ = try await client.me()
        #expect(clock.sleeps.count == 8)
        #expect(clock.sleeps.allSatisfy { $0 <= .seconds(4) })
        #expect(clock.sleeps.suffix(4).allSatisfy { $0 == .seconds(4) })  // 1·2⁴·0.5 = 8 s > 4 s
    }
}
