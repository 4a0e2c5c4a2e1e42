public import TransportKit

/// An `HTTPTransport` over libcurl.
///
/// Each request runs its blocking `curl_easy_perform` on one of at most
/// `Configuration.maxConnections` dedicated threads (never on Swift's cooperative pool), so that
/// many requests can be in flight at once. Each thread keeps its libcurl handle, and with it the
/// keep-alive connection, between requests. Further requests wait for a free thread.
///
/// Every request is bounded by its own `timeout` and `connectTimeout`. Cancelling the calling
/// task aborts the transfer within about a second and throws `CancellationError`; every other
/// failure is a `TransportError` whose message holds no header values and no body.
/// A response with any status, 4xx and 5xx included, is returned, not thrown.
public final class CurlTransport: HTTPTransport {
    public struct Configuration: Sendable {
        /// Sent as `User-Agent` unless the request sets its own.
        public var userAgent: String
        /// Verify the server's certificate chain and host name. Turn off only for local testing.
        public var verifyTLS: Bool
        /// Requests that may run at once; each has its own connection. At least 1.
        public var maxConnections: Int

        public init(userAgent: String = "relsync/0.1", verifyTLS: Bool = true, maxConnections: Int = 8) {
            self.userAgent = userAgent
            self.verifyTLS = verifyTLS
            self.maxConnections = maxConnections
        }
    }

    public let configuration: Configuration
    private let workers: CurlWorkerPool

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.workers = CurlWorkerPool(maximumWorkers: configuration.maxConnections, name: "relsync.curl")
    }

    deinit {
        workers.shutdown()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let configuration = self.configuration
        let cancellation = CurlCancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                workers.submit { easy in
                    let result: Result<HTTPResponse, any Error>
                    if cancellation.isCancelled {
                        result = .failure(CancellationError())
                    } else if let easy {
                        result = easy.exchange(request, configuration: configuration, cancellation: cancellation)
                    } else {
                        result = .failure(TransportError(kind: .other, message: "libcurl could not create a handle."))
                    }
                    return { continuation.resume(with: result) }
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}
