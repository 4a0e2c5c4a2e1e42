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
                    limiter.recover()
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

    /// A 429 arrived: the real budget (a workspace-wide limit, or a window that does not line up
    /// with ours) is smaller than configured. Each one cuts the pace by 15%, down to a quarter
    /// of the configured budget; steady sending wins it back (see `Limiter.recover`).
    func slowDown() {
        limiter.slowDown()
    }

    /// The current pace as a fraction of the configured budget (1 = as configured).
    func paceFactor() -> Double { limiter.factor }

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
    /// The configured rate (requests per second) or window limit, before any slowing down.
    private var configured: Double = 0
    /// The pace as a fraction of `configured`: cut on 429s, won back by steady sending.
    private(set) var factor = 1.0
    private var sinceSlowDown = 0

    static let slowDownFactor = 0.85
    static let minimumFactor = 0.25
    /// Requests without a 429 after which 5% of the configured pace is won back.
    static let recoveryInterval = 50

    init(_ rateLimit: RateLimit, now: Duration) {
        switch rateLimit {
        case .unlimited:
            model = .unlimited
        case .average(let rate, let burst):
            if rate.isFinite, rate > 0 {
                let size = Double(max(1, burst))
                model = .bucket(rate: rate, burst: size, tokens: size, updated: now)
                configured = rate
            } else {
                model = .unlimited
            }
        case .window(let requests, let seconds):
            if requests > 0, seconds.isFinite, seconds > 0 {
                model = .window(limit: requests, length: .milliseconds(Int64((seconds * 1000).rounded())), sent: [], head: 0)
                configured = Double(requests)
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

    /// Cuts the pace after a 429 (multiplicative decrease).
    mutating func slowDown() {
        sinceSlowDown = 0
        setFactor(max(Self.minimumFactor, factor * Self.slowDownFactor))
    }

    /// Called per request sent: every `recoveryInterval` requests since the last 429 win back
    /// 5% of the configured pace, up to the configured pace (additive increase).
    mutating func recover() {
        guard factor < 1 else { return }
        sinceSlowDown += 1
        if sinceSlowDown % Self.recoveryInterval == 0 { setFactor(min(1, factor + 0.05)) }
    }

    private mutating func setFactor(_ newFactor: Double) {
        factor = newFactor
        switch model {
        case .unlimited:
            break
        case .bucket(_, let burst, let tokens, let updated):
            model = .bucket(rate: configured * factor, burst: burst, tokens: tokens, updated: updated)
        case .window(_, let length, let sent, let head):
            // Keep the newest entries in send order; the ring restarts at index 0.
            let ordered = Array(sent[head...] + sent[..<head])
            let limit = max(1, Int((configured * factor).rounded(.down)))
            model = .window(limit: limit, length: length, sent: Array(ordered.suffix(limit)), head: 0)
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
