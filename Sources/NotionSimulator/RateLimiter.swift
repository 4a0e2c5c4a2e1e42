import Foundation

/// Per-token admission under a `RateLimitPolicy`.
struct RateLimiter {
    private struct Bucket {
        var tokens: Double
        var updated: Millis
    }

    private struct Window {
        var start: Millis
        var count: Int
    }

    let policy: RateLimitPolicy
    private var buckets: [String: Bucket] = [:]
    private var windows: [String: Window] = [:]

    init(policy: RateLimitPolicy) {
        self.policy = policy
    }

    /// Admits one request, or returns the whole seconds (≥ 1) the caller should wait.
    mutating func admit(token: String, now: Millis) -> Int? {
        switch policy {
        case .none:
            return nil
        case .average(let rps, let burst):
            var bucket = buckets[token] ?? Bucket(tokens: Double(burst), updated: now)
            let elapsed = Double(max(0, now - bucket.updated)) / 1000
            bucket.tokens = min(Double(burst), bucket.tokens + elapsed * rps)
            bucket.updated = now
            defer { buckets[token] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rps).rounded(.up)))
        case .window(let limit, let seconds):
            let length = Millis(seconds) * 1000
            var window = windows[token] ?? Window(start: now, count: 0)
            if now >= window.start + length { window = Window(start: now, count: 0) }
            defer { windows[token] = window }
            if window.count < limit {
                window.count += 1
                return nil
            }
            let remaining = window.start + length - now
            return max(1, Int((Double(remaining) / 1000).rounded(.up)))
        }
    }
}
