import Foundation
import Glibc

/// A loopback TCP listener that answers every connection with the same canned bytes and then
/// closes it, for responses an HTTP server library would refuse to produce (no response at all,
/// a truncated body, interim header blocks).
final class RawTCPServer: Sendable {
    let port: Int
    private let listener: Int32
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts listening on 127.0.0.1 on an ephemeral port.
    init(reply: [UInt8]) throws {
        let listener = try bindLoopbackSocket()
        guard listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        self.listener = listener
        self.port = try boundPort(of: listener)
        Thread { [listener, stopped] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    break
                }
                Self.serve(client, reply: reply)
            }
            stopped.signal()
        }.start()
    }

    /// Stops accepting, waits for the accept thread to end, and closes the listener.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        stopped.wait()
        close(listener)
    }

    /// Reads the request head (up to the blank line), writes `reply`, and closes the connection.
    private static func serve(_ client: Int32, reply: [UInt8]) {
        defer { close(client) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while received.firstRange(of: end) == nil, received.count < 1 << 20 {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            received.append(contentsOf: buffer[..<count])
        }
        var offset = 0
        while offset < reply.count {
            let sent = reply[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }
}

/// A TCP port on 127.0.0.1 that is bound but not listening: connecting to it is refused for as
/// long as the socket stays open (no other process can take the port meanwhile).
final class RefusingPort: Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        socket = try bindLoopbackSocket()
        port = try boundPort(of: socket)
    }

    deinit {
        close(socket)
    }
}

private func bindLoopbackSocket() throws -> Int32 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else {
        let error = errno
        close(descriptor)
        throw POSIXError(.init(rawValue: error) ?? .EIO)
    }
    return descriptor
}

private func boundPort(of descriptor: Int32) throws -> Int {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let result = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    guard result == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    return Int(UInt16(bigEndian: address.sin_port))
}
