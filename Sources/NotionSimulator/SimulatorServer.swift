public import Logging
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOPosix
import ServiceLifecycle
import TransportKit

/// Serves a `SimulatorEngine` over real HTTP/1.1 with Hummingbird. Every request goes to the
/// engine with its raw, still percent-encoded request target. Faults are played out on the
/// wire: a drop sends the head and part of the body, then closes the connection; a truncation
/// sends a complete, shorter 200; latency delays the answer.
public struct SimulatorServer: Sendable {
    public let engine: SimulatorEngine
    public let host: String
    /// 0 picks any free port; `run(onReady:)` reports the one bound.
    public let port: Int
    public let logger: Logger

    public init(engine: SimulatorEngine, host: String = "127.0.0.1", port: Int = 0, logger: Logger? = nil) {
        self.engine = engine
        self.host = host
        self.port = port
        self.logger = logger ?? {
            var logger = Logger(label: "notion-sim")
            logger.logLevel = .warning
            return logger
        }()
    }

    /// The largest request body read; larger ones get a Notion 400 without reaching the engine.
    static let maxBodyBytes = 8 * 1_024 * 1_024

    /// Listens until the task is cancelled, then shuts down gracefully (open connections finish
    /// their request). `onReady` gets the bound port once the socket listens (the engine's
    /// `publicBaseURL` already points at it).
    public func run(onReady: @escaping @Sendable (Int) async -> Void) async throws {
        let engine = self.engine
        let urlHost = host.contains(":") ? "[\(host)]" : host
        // HummingbirdCore's server, not Application: its responder gets the response writer, so it
        // can answer `Expect: 100-continue` and play a dropped connection out on the wire.
        let server = try HTTPServerBuilder.http1().buildServer(
            configuration: ServerConfiguration(address: .hostname(host, port: port)),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger,
            responder: { request, writer, _ in
                try await Self.respond(to: request, writer: writer, engine: engine)
            },
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                await engine.setPublicAddress(baseURL: "http://\(urlHost):\(bound)", port: bound)
                await onReady(bound)
            }
        )
        let group = ServiceGroup(services: [server], logger: logger)
        // The group runs in its own task so that cancelling ours shuts it down gracefully
        // instead of cancelling the accept loop mid-flight.
        let running = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    /// Runs a server on a free port for the duration of `body`, then stops it.
    public static func withRunningServer<T: Sendable>(
        engine: SimulatorEngine, host: String = "127.0.0.1",
        _ body: @escaping @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let server = SimulatorServer(engine: engine, host: host, port: 0)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                defer { continuation.finish() }
                try await server.run { port in continuation.yield(port) }
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                // The server stopped before listening: surface its error.
                while let next = try await group.next() { if let value = next { return value } }
                throw SimulatorError("The simulator server stopped before it listened.")
            }
            defer { group.cancelAll() }
            let result = try await body(port)
            group.cancelAll()
            return result
        }
    }

    static func respond(to request: Request, writer: consuming ResponseWriter, engine: SimulatorEngine) async throws {
        var headers = TransportKit.HTTPHeaders()
        for field in request.headers { headers.add(field.name.rawName, field.value) }
        if request.headers[.expect]?.lowercased() == "100-continue" {
            try await writer.writeInformationalHead(HTTPResponse(status: .continue))
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            let body = ByteBuffer(string: #"{"object":"error","status":400,"code":"validation_error","message":"Request body too large; the limit is 500KB."}"#)
            let head = HTTPResponse(status: .badRequest, headerFields: [
                .contentType: "application/json", .contentLength: String(body.readableBytes), .connection: "close",
            ])
            try await writer.write(response: head, body: ResponseBody(byteBuffer: body))
            return
        }
        let simRequest = SimRequest(method: request.method.rawValue, target: request.head.path ?? "/", headers: headers,
                                    body: Data(buffer.readableBytesView))
        let answer = await engine.handle(simRequest)
        if answer.delay > .zero { try await Task.sleep(for: answer.delay) }

        var fields = HTTPFields()
        for header in answer.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        let body = answer.bodyAfterFault
        switch answer.fault {
        case .none, .truncateBody:
            fields[.contentLength] = String(body.count)
            try await writer.write(response: HTTPResponse(status: .init(code: answer.status), headerFields: fields),
                                   body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        case .dropConnection:
            // Promise the whole body, send half, then fail: the connection is closed mid-body.
            fields[.contentLength] = String(body.count)
            var bodyWriter = try await writer.writeHead(HTTPResponse(status: .init(code: answer.status), headerFields: fields))
            try await bodyWriter.write(ByteBuffer(bytes: body.prefix(body.count / 2)))
            throw DroppedConnection()
        }
    }

    private struct DroppedConnection: Error {}
}
