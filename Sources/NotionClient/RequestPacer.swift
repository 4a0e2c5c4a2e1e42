import Synchronization

/// The one budget shared by every request of a client: a rate model (token bucket or sliding
/// window), an in-flight limit, and a pause that a server's `Retry-After` imposes on all callers.
///
/// A caller calls `acquire()` before sending and `release()` when the exchange is over. `acquire`
/// never sleeps while the budget has room.
actor RequestPacer {
    private let clock: any NotionClock
    private var limiter: Limiter
    private var pausedUntil: Duration = .zero
    private let slots: Slots

    init(rateLimit: RateLimit, maxConcurrent: Int, clock: any NotionClock) {
        self.clock = clock
        self.limiter = Limiter(rateLimit, now: clock.now())
        self.slots = Slots(limit: max(1, maxConcurrent))
    }

    /// Waits for an in-flight slot and for rate budget, then takes both.
    func acquire() async throws {
        try await slots.wait()
        do {
            while true {
                try Task.checkCancellation()
                let now = clock.now()
                if now < pausedUntil {
                    try await clock.sleep(until: pausedUntil)
                    continue
                }
                let readyAt = limiter.readyTime(now: now)
                if readyAt <= now {
                    limiter.take(now: now)
                    return
                }
                try await clock.sleep(until: readyAt)
            }
        } catch {
            slots.signal()
            throw error
        }
    }

    /// Returns the in-flight slot taken by `acquire()`.
    nonisolated func release() {
        slots.signal()
    }

    /// Holds every caller until `deadline` (a `Retry-After`). A later pause extends an earlier one.
    func pause(until deadline: Duration) {
        if deadline > pausedUntil { pausedUntil = deadline }
    }

    /// The end of the current pause, if one is in force.
    func pauseDeadline() -> Duration? {
        pausedUntil > clock.now() ? pausedUntil : nil
    }
}

/// The rate models, as pure state over a monotonic time.
struct Limiter {
    private enum Model {
        case unlimited
        /// Token bucket: `tokens` available at `updated`, refilled at `rate` per second up to `burst`.
        case bucket(rate: Double, burst: Double, tokens: Double, updated: Duration)
        /// Sliding log: the send times of the last `limit` requests, oldest first.
        case window(limit: Int, length: Duration, sent: [Duration], head: Int)
    }
    private var model: Model

    init(_ rateLimit: RateLimit, now: Duration) {
        switch rateLimit {
        case .unlimited:
            model = .unlimited
        case .average(let rate, let burst):
            if rate.isFinite, rate > 0 {
                let size = Double(max(1, burst))
                model = .bucket(rate: rate, burst: size, tokens: size, updated: now)
            } else {
                model = .unlimited
            }
        case .window(let requests, let seconds):
            if requests > 0, seconds.isFinite, seconds > 0 {
                model = .window(limit: requests, length: .milliseconds(Int64((seconds * 1000).rounded())), sent: [], head: 0)
            } else {
                model = .unlimited
            }
        }
    }

    /// The earliest time at which one more request fits the budget (`<= now` when it fits now).
    func readyTime(now: Duration) -> Duration {
        switch model {
        case .unlimited:
            return now
        case .bucket(let rate, let burst, let tokens, let updated):
            let current = min(burst, tokens + (now - updated).seconds * rate)
            if current >= 1 - 1e-9 { return now }
            return now + .nanoseconds(Int64(((1 - current) / rate * 1e9).rounded(.up)))
        case .window(let limit, let length, let sent, let head):
            if sent.count < limit { return now }
            // `sent` is a ring buffer once full; `head` is the oldest entry.
            return sent[head] + length
        }
    }

    /// Spends one request of budget at `now` (call only when `readyTime(now:) <= now`).
    mutating func take(now: Duration) {
        switch model {
        case .unlimited:
            break
        case .bucket(let rate, let burst, let tokens, let updated):
            let current = min(burst, tokens + (now - updated).seconds * rate)
            model = .bucket(rate: rate, burst: burst, tokens: max(0, current - 1), updated: now)
        case .window(let limit, let length, var sent, var head):
            model = .unlimited  // release the array's storage so it is mutated in place
            if sent.count < limit {
                sent.append(now)
            } else {
                sent[head] = now
                head = (head + 1) % limit
            }
            model = .window(limit: limit, length: length, sent: sent, head: head)
        }
    }
}

/// A counting semaphore for in-flight requests, FIFO, cancellable while waiting.
final class Slots: Sendable {
    private struct State {
        var available: Int
        var nextID: UInt64 = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var cancelled: Set<UInt64> = []
    }
    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(available: limit))
    }

    func wait() async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if state.available > 0 {
                        state.available -= 1
                        return .success(())
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index).continuation
                }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
        // A cancellation that arrived after the slot was granted leaves the id marked; clear it.
        state.withLock { _ = $0.cancelled.remove(id) }
    }

    func signal() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
