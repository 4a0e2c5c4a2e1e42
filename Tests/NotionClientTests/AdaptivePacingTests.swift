@testable import NotionClient
import Testing

/// After a 429 the pace drops (the real budget is smaller than configured) and steady sending
/// wins it back: multiplicative decrease, additive increase.
@Suite("Adaptive pacing")
struct AdaptivePacingTests {
    /// The spacing between requests once the bucket's burst is spent.
    func spacing(_ limiter: Limiter) -> Double {
        var limiter = limiter
        var now = Duration.zero
        // Drain the burst.
        while limiter.readyTime(now: now) <= now { limiter.take(now: now) }
        now = limiter.readyTime(now: now)
        limiter.take(now: now)
        return (limiter.readyTime(now: now) - now).seconds
    }

    @Test func aRateLimitSlowsTheBucketAndSendingRecovers() {
        var limiter = Limiter(.average(requestsPerSecond: 4, burst: 2), now: .zero)
        #expect(abs(spacing(limiter) - 0.25) < 1e-6)
        limiter.slowDown()
        #expect(abs(limiter.factor - 0.85) < 1e-9)
        #expect(abs(spacing(limiter) - 1 / (4 * 0.85)) < 1e-6)
        for _ in 0..<Limiter.recoveryInterval { limiter.recover() }
        #expect(abs(limiter.factor - 0.90) < 1e-9)
        for _ in 0..<(Limiter.recoveryInterval * 10) { limiter.recover() }
        #expect(limiter.factor == 1)
        #expect(abs(spacing(limiter) - 0.25) < 1e-6)
    }

    @Test func slowingDownStopsAtAQuarterOfTheBudget() {
        var limiter = Limiter(.average(requestsPerSecond: 3, burst: 3), now: .zero)
        for _ in 0..<50 { limiter.slowDown() }
        #expect(limiter.factor == Limiter.minimumFactor)
    }

    @Test func aRateLimitShrinksTheWindowKeepingTheNewestSends() {
        var limiter = Limiter(.window(requests: 10, seconds: 60), now: .zero)
        for second in 0..<10 { limiter.take(now: .seconds(second)) }
        #expect(limiter.readyTime(now: .seconds(10)) == .seconds(60))
        limiter.slowDown()  // 10 × 0.85 → 8 per window: the two oldest sends drop out
        #expect(limiter.readyTime(now: .seconds(10)) == .seconds(62))
        limiter.take(now: .seconds(62))
        #expect(limiter.readyTime(now: .seconds(62)) == .seconds(63))
    }

    @Test func unlimitedStaysUnlimited() {
        var limiter = Limiter(.unlimited, now: .zero)
        limiter.slowDown()
        #expect(limiter.readyTime(now: .zero) == .zero)
    }
}
