import Foundation
import Logging
import NotionClient
import Synchronization
import Testing
import TransportKit

@Suite("Pacing")
struct PacerTests {
    private func sendTimes(_ rateLimit: RateLimit, requests: Int) async throws -> ([Duration], VirtualClock) {
        let clock = VirtualClock()
        let transport = ScriptedTransport(clock: clock, responses: [try Fixture.response("users_me.json")])
        let client = makeClient(transport: transport, clock: clock, rateLimit: rateLimit)
        for _ in 0..<requests { _ = try await client.me() }
        return (transport.requests.map(\.at), clock)
    }

    @Test func averageModelSpendsTheBurstThenSpacesRequests() async throws {
        let (times, _) = try await sendTimes(.average(requestsPerSecond: 2, burst: 4), requests: 8)
        let expected: [Duration] = [.zero, .zero, .zero, .zero, .milliseconds(500), .seconds(1), .milliseconds(1500), .seconds(2)]
        #expect(zip(times, expected).allSatisfy { abs(($0 - $1).seconds) < 0.001 })
    }

    @Test func defaultBudgetNeverSleepsWithinTheBurst() async throws {
        let (times, clock) = try await sendTimes(.average(requestsPerSecond: 3, burst: 3), requests: 3)
        #expect(times == [.zero, .zero, .zero])
        #expect(clock.sleeps.isEmpty)
    }

    @Test func windowModelSpendsTheWholeWindowAtOnce() async throws {
        let (times, _) = try await sendTimes(.window(requests: 5, seconds: 10), requests: 12)
        let expected: [Duration] = Array(repeating: .zero, count: 5) + Array(repeating: .seconds(10), count: 5)
            + [.seconds(20), .seconds(20)]
        #expect(times == expected)
    }

    @Test func windowModelSlidesRatherThanResetting() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport(clock: clock, responses: [try Fixture.response("users_me.json")])
        let client = makeClient(transport: transport, clock: clock, rateLimit: .window(requests: 3, seconds: 60))
        _ = try await client.me()  // t = 0
        try await clock.sleep(until: .seconds(30))
        _ = try await client.me()  // t = 30
        _ = try await client.me()  // t = 30
        _ = try await client.me()  // must wait for the first to leave the window: t = 60
        _ = try await client.me()  // then for the second: t = 90
        #expect(transport.requests.map(\.at) == [.zero, .seconds(30), .seconds(30), .seconds(60), .seconds(90)])
    }

    @Test func unlimitedNeverSleeps() async throws {
        let (times, clock) = try await sendTimes(.unlimited, requests: 50)
        #expect(times.allSatisfy { $0 == .zero })
        #expect(clock.sleeps.isEmpty)
    }

    @Test func inFlightRequestsStayWithinTheLimit() async throws {
        actor Gauge {
            var current = 0
            var peak = 0
            func enter() {
                current += 1
                peak = max(peak, current)
            }
            func leave() { current -= 1 }
        }
        let gauge = Gauge()
        let response = try Fixture.response("users_me.json")
        let transport = ScriptedTransport { _, _ in
            await gauge.enter()
            try await Task.sleep(for: .milliseconds(20))
            await gauge.leave()
            return response
        }
        let client = makeClient(transport: transport, maxConcurrent: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { _ = try await client.me() } }
            try await group.waitForAll()
        }
        #expect(transport.count == 8)
        #expect(await gauge.peak == 2)
    }

    @Test func cancelledWaiterGivesUpItsPlace() async throws {
        let response = try Fixture.response("users_me.json")
        let release = Mutex(false)
        let transport = ScriptedTransport { _, _ in
            while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            return response
        }
        let client = makeClient(transport: transport, maxConcurrent: 1)
        let holder = Task { try await client.me() }
        while transport.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let waiter = Task { try await client.me() }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        release.withLock { $0 = true }
        _ = try await holder.value
        _ = try await client.me()  // the slot was returned
        #expect(transport.count == 2)
    }
}
