import Foundation
import NotionSimulator
import Testing
import TransportKit

@Suite("Rate limits")
struct RateLimitTests {
    let world = SizedWorkspace(sizes: [1])

    func limited(_ response: SimResponse, retryAfter: Int, reason: String = "public_api_request_rate_limit",
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let json = try notionError(response, status: 429, code: "rate_limited", sourceLocation: sourceLocation)
        #expect(response.headers["Retry-After"] == String(retryAfter), sourceLocation: sourceLocation)
        #expect(json["additional_data"] == .object(["rate_limit_reason": .string(reason), "retry_after": .string(String(retryAfter))]),
                sourceLocation: sourceLocation)
    }

    @Test("average: a burst, then 429 with the seconds until a token is back")
    func averageRate() async throws {
        let clock = ManualClock(testNow)
        let engine = world.engine(SimulatorConfiguration(rateLimit: .average(requestsPerSecond: 0.5, burst: 3)), clock: clock)
        for _ in 0..<3 { _ = try await ok(engine, "GET", "/v1/users/me") }
        try limited(await call(engine, "GET", "/v1/users/me"), retryAfter: 2)
        clock.advance(by: 1)
        try limited(await call(engine, "GET", "/v1/users/me"), retryAfter: 1)
        clock.advance(by: 1)
        _ = try await ok(engine, "GET", "/v1/users/me")
        try limited(await call(engine, "GET", "/v1/users/me"), retryAfter: 2)
        let journal = await engine.journal()
        #expect(journal.rateLimited == 3)
        #expect(journal.injected429 == 0)
        #expect(journal.responses(status: 429) == 3)
    }

    @Test("window: N per fixed window from its first request; Retry-After is the time left")
    func windowRate() async throws {
        let clock = ManualClock(testNow)
        let engine = world.engine(SimulatorConfiguration(rateLimit: .window(requests: 5, seconds: 60)), clock: clock)
        for _ in 0..<5 { _ = try await ok(engine, "GET", "/v1/users/me") }
        try limited(await call(engine, "GET", "/v1/users/me"), retryAfter: 60)
        clock.advance(by: 45.5)
        try limited(await call(engine, "GET", "/v1/users/me"), retryAfter: 15)
        clock.advance(by: 14.5)
        for _ in 0..<5 { _ = try await ok(engine, "GET", "/v1/users/me") }
        try limited(await call(engine, "GET", "/v1/users/me"), retryAfter: 60)
        // Unauthenticated requests do not spend the budget.
        _ = try notionError(await call(engine, "GET", "/v1/users/me", auth: "nope"), status: 401, code: "unauthorized")
    }

    @Test("blocked: 429 public_api_request_blocked without Retry-After")
    func blocked() async throws {
        var configuration = SimulatorConfiguration()
        configuration.blocked = true
        let engine = world.engine(configuration)
        let response = await call(engine, "GET", "/v1/users/me")
        let json = try notionError(response, status: 429, code: "rate_limited")
        #expect(json["additional_data"]?["rate_limit_reason"] == "public_api_request_blocked")
        #expect(response.headers["Retry-After"] == nil)
        #expect(await engine.journal().blocked429 == 1)
    }

    @Test("policies parse from the command-line form")
    func parsing() {
        #expect(RateLimitPolicy(parsing: "none") == RateLimitPolicy.none)
        #expect(RateLimitPolicy(parsing: "average:3") == .average(requestsPerSecond: 3, burst: 3))
        #expect(RateLimitPolicy(parsing: "average:2.5:10") == .average(requestsPerSecond: 2.5, burst: 10))
        #expect(RateLimitPolicy(parsing: "window:180:60") == .window(requests: 180, seconds: 60))
        for bad in ["", "average", "average:0", "window:10", "window:0:60", "burst:3", "average:3:0"] {
            #expect(RateLimitPolicy(parsing: bad) == nil, "\(bad)")
        }
    }
}

@Suite("Faults")
struct FaultTests {
    let world = SizedWorkspace(sizes: [30])

    @Test("scheduled 5xx faults are Notion error objects", arguments: [
        (500, "internal_server_error"), (502, "bad_gateway"), (503, "service_unavailable"),
        (504, "gateway_timeout"), (529, "service_overload"),
    ])
    func serverErrors(status: Int, code: String) async throws {
        let engine = world.engine()
        await engine.injectFault(.serverError(status), on: .queryDataSource)
        _ = try await ok(engine, "GET", "/v1/users/me")
        let path = "/v1/data_sources/\(dashed(world.sources.id))/query"
        _ = try notionError(await call(engine, "POST", path, body: [:]), status: status, code: code)
        _ = try await ok(engine, "POST", path, body: [:])
        #expect(await engine.journal().faults[FaultKind.serverError(status).rawValue] == 1)
    }

    @Test("injected 429 carries the configured Retry-After and is counted apart from the limiter")
    func injected429() async throws {
        var configuration = SimulatorConfiguration()
        configuration.faults.rateLimited = 1
        configuration.faults.rateLimitedRetryAfter = 7
        let engine = world.engine(configuration)
        let response = await call(engine, "GET", "/v1/users/me")
        _ = try notionError(response, status: 429, code: "rate_limited")
        #expect(response.headers["Retry-After"] == "7")
        let journal = await engine.journal()
        #expect(journal.injected429 == 1)
        #expect(journal.rateLimited == 0)
        #expect(journal.faults(.injected429) == 1)
    }

    @Test("an edge-proxy 502 is HTML with no Notion JSON and no request id")
    func htmlBadGateway() async throws {
        let engine = world.engine()
        await engine.injectFault(.htmlBadGateway)
        let response = await call(engine, "GET", "/v1/users/me", auth: nil)
        #expect(response.status == 502)
        #expect(response.headers["Content-Type"] == "text/html")
        #expect(response.headers["x-notion-request-id"] == nil)
        #expect(response.headers["cf-ray"] != nil)
        #expect(throws: JSONParseError.self) { try response.json() }
    }

    @Test("drop and truncate through the in-process transport")
    func dropAndTruncate() async throws {
        let engine = world.engine()
        let transport = SimulatorTransport(engine: engine)
        let request = HTTPRequest(method: "GET", url: "http://sim.local/v1/pages/\(dashed(world.pages[30]!))",
                                  headers: ["Authorization": "Bearer \(token)", "Notion-Version": "2025-09-03"])
        let whole = try await transport.send(request)
        #expect(whole.status == 200)
        await engine.injectFault(.truncateBody)
        let cut = try await transport.send(request)
        #expect(cut.status == 200)
        #expect(cut.body.count == whole.body.count / 2)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(cut.body) }
        await engine.injectFault(.dropConnection)
        await #expect {
            try await transport.send(request)
        } throws: { error in
            (error as? TransportError)?.kind == .connectionDropped
        }
        let journal = await engine.journal()
        #expect(journal.faults(.truncateBody) == 1)
        #expect(journal.faults(.dropConnection) == 1)
    }

    @Test("cursor invalidation: scheduled, by probability and all at once")
    func cursorInvalidation() async throws {
        let engine = world.engine()
        let property = "/v1/pages/\(dashed(world.pages[30]!))/properties/\(world.dual.property.id)?page_size=10"
        let first = try await ok(engine, "GET", property)
        let cursor = try #require(first["next_cursor"]?.stringValue)
        let next = "/v1/pages/\(dashed(world.pages[30]!))/properties/\(world.dual.property.id)?start_cursor=\(cursor)"
        await engine.injectFault(.invalidCursor)
        let invalid = try notionError(await call(engine, "GET", next), status: 400, code: "validation_error")
        #expect(invalid["message"]?.stringValue?.hasPrefix("The start_cursor provided is invalid") == true)
        _ = try await ok(engine, "GET", next)
        await engine.invalidateAllCursors()
        _ = try notionError(await call(engine, "GET", next), status: 400, code: "validation_error")
        #expect(await engine.journal().faults(.cursorInvalidated) == 1)

        var configuration = SimulatorConfiguration()
        configuration.faults.cursorInvalidation = 1
        await engine.setConfiguration(configuration)
        let again = try await ok(engine, "GET", property)
        let fresh = try #require(again["next_cursor"]?.stringValue)
        let path = "/v1/pages/\(dashed(world.pages[30]!))/properties/\(world.dual.property.id)?start_cursor=\(fresh)"
        _ = try notionError(await call(engine, "GET", path), status: 400, code: "validation_error")
    }

    @Test("a committed write answered 503 was saved")
    func committedWrite() async throws {
        let engine = world.engine()
        let page = world.pages[30]!
        await engine.injectFault(.committedWriteUnavailable)
        let response = await call(engine, "PATCH", "/v1/pages/\(dashed(page))",
                                  body: ["properties": ["Notes": ["rich_text": [["text": ["content": "saved"]]]]]])
        let json = try notionError(response, status: 503, code: "service_unavailable")
        #expect(json["additional_data"]?["retry_guidance"]?.arrayValue?.count == 2)
        let read = try await ok(engine, "GET", "/v1/pages/\(dashed(page))")
        #expect(read["properties"]?["Notes"]?["rich_text"]?[0]?["plain_text"] == "saved")
    }

    @Test("random faults follow the configured probability and the seed")
    func probabilities() async throws {
        func run() async -> [Int] {
            var configuration = SimulatorConfiguration()
            configuration.faults.serverError = 0.3
            let engine = world.engine(configuration)
            var statuses: [Int] = []
            for _ in 0..<200 { statuses.append(await call(engine, "GET", "/v1/users/me").status) }
            return statuses
        }
        let first = await run()
        let failures = first.filter { $0 >= 500 }.count
        #expect((30...90).contains(failures), "\(failures) of 200")
        #expect(Set(first.filter { $0 >= 500 }) == [500, 502, 503, 504, 529])
        #expect(await run() == first)
    }

    @Test("latency is reported for the transport and the server to wait")
    func latency() async throws {
        var configuration = SimulatorConfiguration()
        configuration.latency = .milliseconds(30)
        configuration.latencyJitter = .milliseconds(20)
        let engine = world.engine(configuration)
        let response = await call(engine, "GET", "/v1/users/me")
        #expect(response.delay >= .milliseconds(30) && response.delay <= .milliseconds(50))
        let transport = SimulatorTransport(engine: engine)
        let clock = ContinuousClock()
        let start = clock.now
        _ = try await transport.send(HTTPRequest(method: "GET", url: "http://sim.local/v1/users/me",
                                                 headers: ["Authorization": "Bearer \(token)", "Notion-Version": "2025-09-03"]))
        #expect(clock.now - start >= .milliseconds(30))
        let slow = HTTPRequest(method: "GET", url: "http://sim.local/v1/users/me",
                               headers: ["Authorization": "Bearer \(token)", "Notion-Version": "2025-09-03"],
                               timeout: .milliseconds(5))
        await #expect {
            try await transport.send(slow)
        } throws: { error in
            (error as? TransportError)?.kind == .timeout
        }
    }
}
