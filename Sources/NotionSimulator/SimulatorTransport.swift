import Foundation
public import TransportKit

/// An `HTTPTransport` that calls the engine directly: no sockets, for fast client tests.
/// It honours the engine's latency and faults the way a real connection would show them.
public struct SimulatorTransport: HTTPTransport {
    public let engine: SimulatorEngine

    public init(engine: SimulatorEngine) {
        self.engine = engine
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let target = Self.target(of: request.url) else {
            throw TransportError(kind: .invalidRequest, message: "Cannot send to \(request.url): not an http(s) URL")
        }
        let response = await engine.handle(SimRequest(method: request.method, target: target, headers: request.headers,
                                                      body: request.body ?? .init()))
        if response.delay > .zero {
            if response.delay > request.timeout {
                try await Task.sleep(for: request.timeout)
                throw TransportError(kind: .timeout, message: "The simulator did not answer within \(request.timeout)")
            }
            try await Task.sleep(for: response.delay)
        }
        switch response.fault {
        case .dropConnection:
            throw TransportError(kind: .connectionDropped, message: "The simulator closed the connection mid-body")
        case .none, .truncateBody:
            return HTTPResponse(status: response.status, headers: response.headers, body: response.bodyAfterFault)
        }
    }

    /// The path and query of an absolute URL, exactly as written (still percent-encoded).
    static func target(of url: String) -> String? {
        guard let scheme = url.range(of: "://"), url.hasPrefix("http") else { return nil }
        let rest = url[scheme.upperBound...]
        guard let start = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let target = String(rest[start...])
        return target.hasPrefix("?") ? "/" + target : target
    }
}
