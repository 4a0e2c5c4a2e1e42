/// Lets one operation at a time through, in arrival order, across suspension points.
///
/// `PostgresStore` shares one connection (one session) between its operations; without the
/// gate, two tasks could interleave the statements of two transactions.
actor SerialGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            // Ownership passes straight to the next waiter; `busy` stays true.
            waiters.removeFirst().resume()
        }
    }

    /// Runs `body` while holding the gate.
    nonisolated func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }
}
