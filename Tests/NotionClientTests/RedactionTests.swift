import Foundation
import Logging
import NotionClient
import Testing
import TransportKit

@Suite("The token never leaks")
struct RedactionTests {
    @Test func errorsAndLogsNeverContainTheToken() async throws {
        let clock = VirtualClock()
        let (logger, logs) = CapturingLogHandler.logger()
        let echo = "Bearer \(testToken) is not valid"
        let transport = ScriptedTransport(clock: clock) { request, index in
            switch index {
            case 0: throw TransportError(kind: .connectionDropped, message: "dropped while sending \(testToken)")
            case 1: return errorResponse(status: 503, code: "service_unavailable", message: echo)
            case 2: return HTTPResponse(status: 502, body: Data("<html>\(testToken)</html>".utf8))
            default: return errorResponse(status: 401, code: "unauthorized", message: echo, additionalData: ["hint": .string(testToken)])
            }
        }
        let client = makeClient(transport: transport, clock: clock, logger: logger)
        let error = try await #require(throws: NotionError.self) { _ = try await client.me() }
        #expect(error.status == 401)
        #expect(transport.count == 4)
        #expect(transport.requests.allSatisfy { $0.request.headers["Authorization"] == "Bearer \(testToken)" })

        #expect(!error.description.contains(testToken))
        #expect(!String(reflecting: error).contains(testToken))
        #expect(error.description.contains("<redacted>"))
        #expect(!logs.all.isEmpty)
        for entry in logs.all {
            #expect(!entry.rendered.contains(testToken), "\(entry.rendered)")
        }

        let exhausted = ScriptedTransport { _, _ in throw TransportError(kind: .timeout, message: "timeout \(testToken)") }
        let second = try await #require(throws: NotionError.self) {
            _ = try await makeClient(transport: exhausted, maxAttempts: 2).me()
        }
        #expect(!second.description.contains(testToken))
        #expect(!String(reflecting: second).contains(testToken))
    }

    @Test func debugLogsOfSuccessfulRequestsCarryMetadataButNoToken() async throws {
        let (logger, logs) = CapturingLogHandler.logger()
        let transport = ScriptedTransport(responses: [
            try Fixture.response("users_me.json", headers: ["x-notion-request-id": "req-42"])
        ])
        _ = try await makeClient(transport: transport, logger: logger).me()
        let entry = try #require(logs.all.first { $0.message == "Notion request finished" })
        #expect(entry.level == .debug)
        #expect(entry.metadata["notion.request_id"] == "req-42")
        #expect(entry.metadata["http.status"] == "200")
        #expect(entry.metadata["notion.endpoint"] == "GET /v1/users/me")
        #expect(!entry.rendered.contains(testToken))
    }
}
