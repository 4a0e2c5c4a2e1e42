import Foundation
import NotionSimulator
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 client on a raw socket, so the tests see exactly what went over
/// the wire: the request target unaltered, and whether the connection closed early.
final class RawConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        /// The peer closed before Content-Length bytes arrived.
        var closedEarly: Bool
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(port: Int) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw Failure(description: "connect() failed") }
    }

    deinit { close(fd) }

    func send(_ method: String, _ target: String, headers: [String: String] = [:], body: String = "") throws {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        try write(text)
    }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { rawSend(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "send() failed") }
            sent += n
        }
    }

    /// Reads more bytes; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw Failure(description: "recv() failed or timed out") }
        if n == 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// Reads one response (by Content-Length).
    func receive() throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if let range = buffer.firstRange(of: separator) { headEnd = range.lowerBound; break }
            guard try fill() else { throw Failure(description: "closed before the head") }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        buffer.removeFirst(headEnd! + 4)
        let status = Int(head[0].split(separator: " ")[1])!
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var closedEarly = false
        while buffer.count < length {
            guard try fill() else { closedEarly = true; break }
        }
        let body = Array(buffer.prefix(length))
        buffer.removeFirst(body.count)
        return Response(status: status, headers: headers, body: body, closedEarly: closedEarly)
    }

    /// Whether the peer has closed the connection (reads until end of stream).
    func isClosedByPeer() throws -> Bool {
        try !fill()
    }
}

private func rawSend(_ fd: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.send(fd, pointer, count, 0)
    #else
    return Darwin.send(fd, pointer, count, 0)
    #endif
}

/// Runs blocking socket work off the cooperative thread pool.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

let apiHeaders = ["Authorization": "Bearer \(token)", "Notion-Version": "2025-09-03"]

@Suite("HTTP server", .serialized, .timeLimit(.minutes(1)))
struct HTTPServerTests {
    @Test("the raw %3A property id reaches the engine intact; double encoding is 404")
    func rawTargets() async throws {
        let world = SizedWorkspace(sizes: [101])
        let engine = world.engine()
        let page = dashed(world.pages[101]!)
        try await SimulatorServer.withRunningServer(engine: engine) { port in
            let responses = try await onThread {
                let connection = try RawConnection(port: port)
                var out: [RawConnection.Response] = []
                for id in ["%3AxYz", "%253AxYz", ":xYz"] {
                    try connection.send("GET", "/v1/pages/\(page)/properties/\(id)?page_size=100", headers: apiHeaders)
                    out.append(try connection.receive())
                }
                return out
            }
            #expect(responses.map(\.status) == [200, 404, 200])
            let first = try JSONValue.parse(Data(responses[0].body))
            #expect(first["results"]?.arrayValue?.count == 100)
            #expect(first["property_item"]?["next_url"]?.stringValue?.hasPrefix("http://127.0.0.1:\(port)/v1/pages/\(page)/properties/%3AxYz?start_cursor=") == true)
            #expect(responses[0].headers["x-notion-request-id"] != nil)
            let manifest = await engine.manifest()
            #expect(manifest.port == port)
        }
    }

    @Test("a drop fault sends the head and part of the body, then closes the connection")
    func dropReallyDrops() async throws {
        let world = SizedWorkspace(sizes: [30])
        let engine = world.engine()
        await engine.injectFault(.dropConnection)
        try await SimulatorServer.withRunningServer(engine: engine) { port in
            let (response, closed) = try await onThread {
                let connection = try RawConnection(port: port)
                try connection.send("POST", "/v1/data_sources/\(dashed(world.sources.id))/query", headers: apiHeaders, body: "{}")
                let response = try connection.receive()
                return (response, try connection.isClosedByPeer())
            }
            #expect(response.status == 200)
            #expect(response.closedEarly)
            #expect(response.body.count < Int(response.headers["content-length"]!)!)
            #expect(closed)
        }
    }

    @Test("a truncation is a complete, shorter 200 and the connection stays usable; latency delays")
    func truncateKeepsConnection() async throws {
        let world = SizedWorkspace(sizes: [30])
        var configuration = SimulatorConfiguration()
        configuration.latency = .milliseconds(100)
        let engine = world.engine(configuration)
        await engine.injectFault(.truncateBody)
        try await SimulatorServer.withRunningServer(engine: engine) { port in
            let started = Date()
            let (cut, whole) = try await onThread {
                let connection = try RawConnection(port: port)
                let target = "/v1/pages/\(dashed(world.pages[30]!))"
                try connection.send("GET", target, headers: apiHeaders)
                let cut = try connection.receive()
                try connection.send("GET", target, headers: apiHeaders)
                return (cut, try connection.receive())
            }
            #expect(Date().timeIntervalSince(started) >= 0.2)
            #expect(cut.status == 200 && whole.status == 200)
            #expect(!cut.closedEarly)
            #expect(cut.body.count == whole.body.count / 2)
            #expect(cut.headers["content-length"] == String(cut.body.count))
            #expect((try? JSONValue.parse(Data(whole.body))) != nil)
        }
    }

    @Test("Expect: 100-continue is answered before the body is sent")
    func expectContinue() async throws {
        let world = SizedWorkspace(sizes: [1])
        let engine = world.engine()
        try await SimulatorServer.withRunningServer(engine: engine) { port in
            let (interim, final) = try await onThread {
                let connection = try RawConnection(port: port)
                let body = #"{"properties":{"Notes":{"rich_text":[{"text":{"content":"continued"}}]}}}"#
                var head = "PATCH /v1/pages/\(dashed(world.pages[1]!)) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                for (name, value) in apiHeaders { head += "\(name): \(value)\r\n" }
                head += "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                try connection.write(head)
                let interim = try connection.receive()
                try connection.write(body)
                return (interim, try connection.receive())
            }
            #expect(interim.status == 100)
            #expect(final.status == 200)
            let page = try JSONValue.parse(Data(final.body))
            #expect(page["properties"]?["Notes"]?["rich_text"]?[0]?["plain_text"] == "continued")
        }
    }

    @Test("admin endpoints over HTTP, and a stopped server releases its port")
    func adminOverHTTP() async throws {
        let world = SizedWorkspace(sizes: [1])
        let token = "ntn_admin_over_http_\(UInt64.random(in: 0...UInt64.max))"
        let engine = world.engine(SimulatorConfiguration(token: token))
        let port = try await SimulatorServer.withRunningServer(engine: engine) { port in
            let response = try await onThread {
                let connection = try RawConnection(port: port)
                try connection.send("GET", "/__sim/manifest")
                return try connection.receive()
            }
            let manifest = try JSONValue.parse(Data(response.body))
            #expect(manifest["base_url"] == .string("http://127.0.0.1:\(port)"))
            #expect(manifest["token"] == .string(token))
            return port
        }
        try await Task.sleep(for: .milliseconds(200))
        // Nothing answers on the port any more, or (tests run in parallel, and the kernel hands
        // freed ports out again) another test's simulator, with another token, does.
        let answer: JSONValue? = try await onThread {
            guard let connection = try? RawConnection(port: port) else { return nil }
            try connection.send("GET", "/__sim/manifest")
            return try? JSONValue.parse(Data(connection.receive().body))
        }
        if let answer { #expect(answer["token"] != .string(token), "the stopped server still answers on port \(port)") }
    }
}
