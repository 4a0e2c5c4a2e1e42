public import Foundation

/// The time source of pacing and retry backoff. The default is the system's monotonic clock;
/// tests pass a virtual clock whose `sleep` advances time instantly.
public protocol NotionClock: Sendable {
    /// Monotonic time since an arbitrary, fixed origin.
    func now() -> Duration
    /// Returns once `now() >= deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Duration) async throws
    /// Wall-clock time, to turn a `Retry-After` HTTP-date into a delay.
    func wallTime() -> Date
}

/// `ContinuousClock` and `Date()`.
public struct SystemNotionClock: NotionClock {
    private let origin: ContinuousClock.Instant

    public init() {
        origin = ContinuousClock.now
    }

    public func now() -> Duration {
        ContinuousClock.now - origin
    }

    public func sleep(until deadline: Duration) async throws {
        try await ContinuousClock().sleep(until: origin.advanced(by: deadline), tolerance: nil)
    }

    public func wallTime() -> Date {
        Date()
    }
}
