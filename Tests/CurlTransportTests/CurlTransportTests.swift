import CurlTransport
import Foundation
import Testing
import TransportKit

/// The bearer token every request carries; no error description may ever contain it.
private let token = "secret_4b1d2c9e7f0a5531d6e8"

private func request(
    _ method: String,
    _ url: String,
    headers: HTTPHeaders = [:],
    body: Data? = nil,
    timeout: Duration = .seconds(20)
) -> HTTPRequest {
    var headers = headers
    headers.set("Authorization", "Bearer \(token)")
    return HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout, connectTimeout: .seconds(5))
}

/// Sends `request`, which must fail with a `TransportError` of `kind` whose description holds
/// no credential, and returns that error.
@discardableResult
private func expectFailure(
    _ kind: TransportError.Kind,
    _ request: HTTPRequest,
    using transport: CurlTransport = CurlTransport(),
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> TransportError {
    let error = try #require(
        await #expect(throws: TransportError.self, sourceLocation: sourceLocation) {
            try await transport.send(request)
        },
        sourceLocation: sourceLocation
    )
    #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
    let description = String(describing: error)
    #expect(!description.contains(token), "\(description)", sourceLocation: sourceLocation)
    #expect(!description.contains("Bearer"), "\(description)", sourceLocation: sourceLocation)
    return error
}

@Suite("CurlTransport against live loopback servers", .timeLimit(.minutes(1)))
struct CurlTransportTests {
    // MARK: Responses

    @Test(arguments: ["GET", "POST", "PATCH", "PUT", "DELETE"])
    func echoesMethodHeadersAndBody(method: String) async throws {
        try await TestHTTPServer.withRunning { base in
            let body = method == "GET" ? nil : Data(#"{"properties":{"Name":{"title":"ü ✓"}}}"#.utf8)
            var headers: HTTPHeaders = ["X-Custom": "a: b, c", "X-Empty": ""]
            if body != nil { headers.add("Content-Type", "application/json") }

            let response = try await CurlTransport().send(
                request(method, base + "/v1/echo?filter=a%26b", headers: headers, body: body)
            )

            #expect(response.status == 200)
            #expect(response.headers["x-echo-method"] == method)
            #expect(response.headers["x-echo-target"] == "/v1/echo?filter=a%26b")
            #expect(response.headers["x-echo-authorization"] == "Bearer \(token)")
            #expect(response.headers["x-echo-x-custom"] == "a: b, c")
            #expect(response.headers["x-echo-x-empty"] == "")
            #expect(response.headers["x-echo-user-agent"] == "relsync/0.1")
            #expect(response.headers["x-echo-expect"] == nil)
            #expect(response.headers["x-echo-content-type"] == (body == nil ? nil : "application/json"))
            #expect(response.body == (body ?? Data()))
        }
    }

    @Test func postWithoutBodySendsEmptyBodyAndNoDefaultContentType() async throws {
        try await TestHTTPServer.withRunning { base in
            let transport = CurlTransport(configuration: .init(userAgent: "relsync-test/9"))
            let response = try await transport.send(request("POST", base + "/echo"))
            #expect(response.status == 200)
            #expect(response.headers["x-echo-content-length"] == "0")
            #expect(response.headers["x-echo-content-type"] == nil)
            #expect(response.headers["x-echo-user-agent"] == "relsync-test/9")
            #expect(response.body.isEmpty)
        }
    }

    @Test func nonSuccessStatusIsAResponseWithHeaders() async throws {
        try await TestHTTPServer.withRunning { base in
            let response = try await CurlTransport().send(request("GET", base + "/status/429"))
            #expect(response.status == 429)
            #expect(response.headers["retry-after"] == "7")
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(String(decoding: response.body, as: UTF8.self) == #"{"object":"error","code":"rate_limited"}"#)
        }
    }

    @Test func percentEncodedURLArrivesByteForByte() async throws {
        try await TestHTTPServer.withRunning { base in
            let transport = CurlTransport()
            for target in [
                "/v1/pages/x/properties/%3AxYz",
                "/v1/pages/x/properties/%3A%5Cn%7B?start_cursor=a%2Fb%3D",
                "/v1/a/./b/../%2e%2E/c",
            ] {
                let response = try await transport.send(request("GET", base + target))
                #expect(response.headers["x-echo-target"] == target)
            }
        }
    }

    @Test func gzipBodiesAreAcceptedAndDecoded() async throws {
        try await TestHTTPServer.withRunning { base in
            let transport = CurlTransport()
            let echo = try await transport.send(request("GET", base + "/echo"))
            #expect(echo.headers["x-echo-accept-encoding"]?.contains("gzip") == true)

            let response = try await transport.send(request("GET", base + "/gzip"))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == TestHTTPServer.gzipPlainText)
        }
    }

    @Test func largeBodiesBothWays() async throws {
        try await TestHTTPServer.withRunning { base in
            let transport = CurlTransport()
            let upload = TestHTTPServer.pattern(count: 8 << 20)
            let echoed = try await transport.send(request("PATCH", base + "/echo", body: upload))
            #expect(echoed.headers["x-echo-body-length"] == String(upload.count))
            #expect(echoed.headers["x-echo-expect"] == nil)
            #expect(echoed.body == upload)

            let count = 12_345_678
            let download = try await transport.send(request("GET", base + "/bytes/\(count)"))
            #expect(download.body.count == count)
            #expect(download.body == TestHTTPServer.pattern(count: count))
        }
    }

    @Test func interimHeaderBlocksAreDropped() async throws {
        let reply = "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\nX-Folded: first\r\n  second\r\nConnection: close\r\n\r\nok"
        let server = try RawTCPServer(reply: Array(reply.utf8))
        defer { server.stop() }
        let response = try await CurlTransport().send(request("GET", "http://127.0.0.1:\(server.port)/"))
        #expect(response.status == 200)
        #expect(response.headers["X-Final"] == "yes")
        #expect(response.headers["X-Interim"] == nil)
        #expect(response.headers["X-Folded"] == "first second")
        #expect(response.body == Data("ok".utf8))
    }

    // MARK: Concurrency and connection reuse

    @Test func manyConcurrentRequestsAreAnsweredCorrectly() async throws {
        try await TestHTTPServer.withRunning { base in
            let transport = CurlTransport(configuration: .init(maxConnections: 8))
            let ports = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let body = Data("request \(index)".utf8)
                        let response = try await transport.send(request("POST", base + "/echo/\(index)", body: body))
                        #expect(response.headers["x-echo-target"] == "/echo/\(index)")
                        #expect(response.body == body)
                        return response.headers["x-echo-peer-port"]
                    }
                }
                var ports: Set<String?> = []
                for try await port in group { ports.insert(port) }
                return ports
            }
            #expect(ports.count <= 8, "at most maxConnections connections: \(ports)")
        }
    }

    @Test func requestsRunInParallel() async throws {
        try await TestHTTPServer.withRunning { base in
            let transport = CurlTransport(configuration: .init(maxConnections: 8))
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            let response = try await transport.send(request("GET", base + "/sleep/500"))
                            #expect(response.status == 200)
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // One after the other would take 4 s.
            #expect(elapsed < .seconds(3.5), "8 requests of 500 ms took \(elapsed) (one after another would take 4 s)")
        }
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        try await TestHTTPServer.withRunning { base in
            let transport = CurlTransport()
            var ports: Set<String> = []
            for index in 0..<30 {
                let method = ["GET", "POST", "PATCH"][index % 3]
                let body: Data? = method == "GET" ? nil : Data("{}".utf8)
                let response = try await transport.send(request(method, base + "/echo", body: body))
                ports.insert(try #require(response.headers["x-echo-peer-port"]))
            }
            #expect(ports.count == 1, "30 sequential requests used connections from ports \(ports)")
        }
    }

    // MARK: Failures

    @Test func connectionRefusedIsConnect() async throws {
        let refusing = try RefusingPort()
        let error = try await expectFailure(.connect, request("GET", "http://127.0.0.1:\(refusing.port)/v1/users/me"))
        #expect(error.code == 7)
        #expect(error.isRetryable)
        #expect(error.message.contains("127.0.0.1"))
    }

    @Test func urlUserInfoNeverAppearsInErrors() async throws {
        let refusing = try RefusingPort()
        let error = try await expectFailure(
            .connect,
            request("GET", "http://relsync:hunter2-password@127.0.0.1:\(refusing.port)/")
        )
        #expect(!String(describing: error).contains("hunter2-password"))
    }

    @Test func slowServerIsTimeout() async throws {
        try await TestHTTPServer.withRunning { base in
            let clock = ContinuousClock()
            let start = clock.now
            let error = try await expectFailure(
                .timeout,
                request("GET", base + "/sleep/3000", timeout: .milliseconds(300))
            )
            #expect(error.code == 28)
            #expect(clock.now - start < .milliseconds(2500))
        }
    }

    @Test func droppedMidBodyIsConnectionDropped() async throws {
        try await TestHTTPServer.withRunning { base in
            let error = try await expectFailure(.connectionDropped, request("GET", base + "/drop"))
            #expect(error.code == 18)  // CURLE_PARTIAL_FILE
        }
    }

    @Test func truncatedBodyIsConnectionDropped() async throws {
        let server = try RawTCPServer(reply: Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this".utf8))
        defer { server.stop() }
        let error = try await expectFailure(.connectionDropped, request("GET", "http://127.0.0.1:\(server.port)/"))
        #expect(error.code == 18)  // CURLE_PARTIAL_FILE
    }

    @Test func closeWithoutResponseIsConnectionDropped() async throws {
        let server = try RawTCPServer(reply: [])
        defer { server.stop() }
        let error = try await expectFailure(.connectionDropped, request("POST", "http://127.0.0.1:\(server.port)/"))
        #expect(error.code == 52)  // CURLE_GOT_NOTHING
        #expect(error.isRetryable)
    }

    @Test func tlsToPlainHTTPServerIsTLS() async throws {
        try await TestHTTPServer.withRunning { base in
            let url = base.replacingOccurrences(of: "http://", with: "https://") + "/echo"
            let error = try await expectFailure(.tls, request("GET", url))
            #expect(!error.isRetryable)
        }
    }

    @Test func malformedRequestsAreInvalidRequest() async throws {
        let refusing = try RefusingPort()
        let base = "http://127.0.0.1:\(refusing.port)"
        let unsupported = try await expectFailure(.invalidRequest, request("GET", "ftp://127.0.0.1/file"))
        #expect(unsupported.code == 1)  // CURLE_UNSUPPORTED_PROTOCOL
        try await expectFailure(.invalidRequest, request("GET", "http://[::1/"))
        try await expectFailure(.invalidRequest, request("GET", base + "/a b"))
        try await expectFailure(.invalidRequest, request("GET", base + "/ü"))
        try await expectFailure(.invalidRequest, request("GE T", base + "/"))
        try await expectFailure(.invalidRequest, request("GET", base + "/", headers: ["Bad Name": "x"]))
        let injected = try await expectFailure(
            .invalidRequest,
            request("GET", base + "/", headers: ["X-Note": "Bearer \(token)\r\nX-Injected: 1"])
        )
        #expect(injected.message.contains("X-Note"))
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        try await TestHTTPServer.withRunning { base in
            let clock = ContinuousClock()
            let start = clock.now
            let transport = CurlTransport()
            await #expect(throws: CancellationError.self) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        _ = try await transport.send(request("GET", base + "/sleep/5000", timeout: .seconds(30)))
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    group.cancelAll()
                    try await group.waitForAll()
                }
            }
            #expect(clock.now - start < .milliseconds(3000))
        }
    }
}
