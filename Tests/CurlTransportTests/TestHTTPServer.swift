import Foundation
import Hummingbird
import Logging

/// A Hummingbird server on 127.0.0.1 (ephemeral port), run in-process for the length of one test.
///
/// Routes (matched on the raw request target, which is also what `/echo` reports):
/// - `/status/429`: 429 with `Retry-After: 7` and a JSON body.
/// - `/sleep/<ms>`: waits, then 200 `slept`.
/// - `/bytes/<n>`: 200 with `n` bytes of a known pattern (`TestHTTPServer.pattern`).
/// - `/gzip`: a gzip-encoded body with `Content-Encoding: gzip`.
/// - `/drop`: announces 1,000,000 bytes, sends 1,000 and then fails the body stream.
/// - anything else: 200 echoing the request body, with the request's method, raw target,
///   some request headers (`x-echo-<lowercased name>`) and the client's port in response headers.
enum TestHTTPServer {
    static let gzipPlainText = "hello from gzip, hello from gzip, hello from gzip"
    private static let gzipBody = Data(base64Encoded: "H4sIAAAAAAACA8tIzcnJV0grys9VSK/KLNBRyCAgAAAqhV99MQAAAA==")!

    private static let quietLogger: Logger = {
        var logger = Logger(label: "CurlTransportTests.server")
        logger.logLevel = .critical
        return logger
    }()

    /// `count` bytes cycling through 0...250: a prime period, so reordered or lost chunks show.
    static func pattern(count: Int) -> Data {
        let block = Data((0..<251).map { UInt8($0) })
        var data = Data(capacity: count)
        while data.count < count { data.append(block.prefix(count - data.count)) }
        return data
    }

    /// Runs `body` with the server's base URL (`http://127.0.0.1:PORT`), then stops the server.
    static func withRunning<Result: Sendable>(_ body: (String) async throws -> Result) async throws -> Result {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: CallbackResponder<PeerContext> { request, context in
                try await respond(to: request, context: context)
            },
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { portContinuation.yield(port) }
                portContinuation.finish()
            },
            // Stopping by cancellation makes Hummingbird log errors ("Already closed"); they
            // are not failures of the code under test.
            logger: quietLogger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // If the server cannot start, end the port stream so the wait below ends too.
                defer { portContinuation.finish() }
                try await app.runService(gracefulShutdownSignals: [])
            }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestServerError.didNotStart }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    private static func respond(to request: Request, context: PeerContext) async throws -> Response {
        let target = request.head.path ?? "/"
        if target == "/status/429" {
            return Response(
                status: .tooManyRequests,
                headers: [.retryAfter: "7", .contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"object":"error","code":"rate_limited"}"#))
            )
        }
        if target.hasPrefix("/sleep/"), let milliseconds = Int(target.dropFirst("/sleep/".count)) {
            try await Task.sleep(for: .milliseconds(milliseconds))
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "slept")))
        }
        if target.hasPrefix("/bytes/"), let count = Int(target.dropFirst("/bytes/".count)) {
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: pattern(count: count))))
        }
        if target == "/gzip" {
            return Response(
                status: .ok,
                headers: [.contentEncoding: "gzip", .contentType: "text/plain"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: gzipBody))
            )
        }
        if target == "/drop" {
            let body = ResponseBody(contentLength: 1_000_000) { writer in
                try await writer.write(ByteBuffer(repeating: UInt8(ascii: "a"), count: 1_000))
                throw TestServerError.droppedOnPurpose
            }
            return Response(status: .ok, headers: [.contentLength: "1000000"], body: body)
        }

        var request = request
        let received = try await request.collectBody(upTo: 64 << 20)
        var headers = HTTPFields()
        func echo(_ name: String, _ value: String?) {
            if let value { headers[.init("x-echo-\(name)")!] = value }
        }
        echo("method", request.method.rawValue)
        echo("target", target)
        echo("peer-port", context.remotePort.map(String.init))
        echo("body-length", String(received.readableBytes))
        for name in [
            "Authorization", "X-Custom", "X-Empty", "Content-Type", "Content-Length", "Expect", "User-Agent",
            "Accept-Encoding",
        ] {
            echo(name.lowercased(), request.headers[.init(name)!])
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: received))
    }
}

/// Request context that records the client's port, so tests can tell connections apart.
struct PeerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remotePort: Int?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remotePort = source.channel.remoteAddress?.port
    }
}

enum TestServerError: Error {
    case didNotStart
    case droppedOnPurpose
}
