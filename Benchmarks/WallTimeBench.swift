import Foundation
import NotionSimulator

/// (b) Wall time of a full reconcile under a simulated budget, against the floor the budget
/// sets for the calls relsync made. The simulator enforces the budget (429 with Retry-After past
/// it); relsync is configured with the same budget, as a user would.
enum WallTimeBench {
    struct Budget {
        var name: String
        var server: RateLimitPolicy
        var client: Pacing
    }

    /// The least time `calls` admitted requests need under `policy`: a token bucket spends its
    /// burst at once, then one request per 1/rate; a fixed window admits `n` per window, so the
    /// last request goes out at the start of window ⌈calls/n⌉.
    static func floorSeconds(_ policy: RateLimitPolicy, calls: Int) -> Double {
        switch policy {
        case .none: return 0
        case .average(let rate, let burst): return Double(max(0, calls - burst)) / rate
        case .window(let n, let s): return Double(max(0, ceilDiv(calls, n) - 1) * s)
        }
    }

    static func run(_ env: BenchEnvironment, _ results: Results) async throws {
        let workload = env.quick
            ? Workloads.generated(seed: env.seed, projects: 800, members: 2_000, writeBack: false)
            : Workloads.generated(seed: env.seed, writeBack: false)
        var budgets: [Budget] = []
        if !env.quick {
            budgets.append(Budget(name: "3 req/s average (burst 3)", server: .average(requestsPerSecond: 3, burst: 3),
                                  client: .average(requestsPerSecond: 3, burst: 3)))
        }
        budgets.append(Budget(name: "180 requests per 60 s window", server: .window(requests: 180, seconds: 60),
                              client: .window(requests: 180, seconds: 60)))
        // More calls make the pacing matter more: prefer the strategy that reads everything.
        let strategy: String? = env.strategies.contains("paginate") ? "paginate" : nil

        // The same run unthrottled: the part of the wall time that is relsync's own work.
        let unthrottled = try await reconcile(workload, server: .none, client: .unthrottled, strategy: strategy, env)

        for budget in budgets {
            let run = try await reconcile(workload, server: budget.server, client: budget.client, strategy: strategy, env)
            let admitted = run.journal.totalRequests - run.journal.rateLimited
            let floor = floorSeconds(budget.server, calls: admitted)
            let target: Target = admitted > 500 ? .ratioAtMost(1.05) : .none
            var notes = [
                "\(run.journal.totalRequests) requests (\(admitted) admitted, \(run.journal.rateLimited) answered 429); "
                    + "relsync counted \(run.summary.retries) retries, \(run.summary.rateLimited) rate-limited",
                String(format: "relsync's own duration %.2f s; the same run unthrottled took %.2f s", run.summary.durationSeconds,
                       unthrottled.wall),
                "data calls \(run.journal.dataCalls), forward optimum \(run.optimum): "
                    + String(format: "the budget floor at the optimum would be %.1f s",
                             floorSeconds(budget.server, calls: run.optimum + (admitted - run.journal.dataCalls))),
            ]
            if admitted <= 500 { notes.append("the ≤ 1.05× target applies to runs over 500 calls; this one made \(admitted)") }
            if strategy == nil { notes.append("relsync's default relations strategy (the binary has no --relations-strategy flag)") }
            results.add(Figure(
                bench: "walltime", name: "full reconcile under \(budget.name) · \(workload.name)",
                value: run.wall, unit: "s", floor: floor, floorName: "budget floor for \(admitted) calls",
                target: target, correct: run.complete, notes: notes))
        }
        try await latency(workload, strategy: env.strategies.contains("auto") ? "auto" : nil, env, results)
    }

    /// The round trip of the latency run: Notion's is typically 60–150 ms from a server nearby.
    static let roundTrip: Duration = .milliseconds(90)

    /// Wall time with real round trips and budget to spare: what overlapping independent walks
    /// saves. The floor is the chain of round trips no run can avoid: users/me, one schema read
    /// per configured data source (they resolve the config, in order), then the longest query
    /// walk (its cursors chain: each page needs the previous one's), or every request spread over
    /// the requests in flight, whichever is longer.
    static func latency(_ workload: Workload, strategy: String?, _ env: BenchEnvironment, _ results: Results) async throws {
        let unthrottled = try await reconcile(workload, server: .none, client: .unthrottled, strategy: strategy, env)
        let rtt = Double(roundTrip.components.attoseconds) / 1e18 + Double(roundTrip.components.seconds)
        let run = try await reconcile(
            workload, server: .none, client: .unthrottled, strategy: strategy, latency: roundTrip, env)
        let longestWalk = run.walks.max() ?? 1
        let chain = 1 + workload.configured.count + longestWalk
        let inFlight = 3
        let spread = ceilDiv(run.journal.totalRequests, inFlight)
        let floor = Double(max(chain, spread)) * rtt
        results.add(Figure(
            bench: "walltime", name: "full reconcile, \(Int(rtt * 1000)) ms round trips, no rate limit · \(workload.name)",
            value: run.wall, unit: "s", floor: floor,
            floorName: "\(max(chain, spread)) round trips that cannot overlap", target: .none, correct: run.complete,
            notes: [
                "\(run.journal.totalRequests) requests, \(inFlight) in flight at most; the unavoidable chain is 1 (users/me) + "
                    + "\(workload.configured.count) schema reads + \(longestWalk) pages of the longest query walk = \(chain) round trips",
                String(
                    format: "relsync's own duration %.2f s; the same run on plain loopback took %.2f s: relsync's and "
                        + "PostgreSQL's own work, which overlapping round trips cannot hide", run.summary.durationSeconds, unthrottled.wall),
                "relations strategy: \(strategy ?? "relsync's default")",
            ]))
    }

    struct Run {
        var wall: Double
        var summary: RunSummaryJSON
        var journal: JournalSnapshot
        var optimum: Int
        var complete: Bool
        /// Query pages of each data source read: ⌈pages/100⌉.
        var walks: [Int]
    }

    static func reconcile(_ workload: Workload, server: RateLimitPolicy, client: Pacing, strategy: String?,
                          latency: Duration = .zero, _ env: BenchEnvironment) async throws -> Run {
        let scenario = try env.scenario("wall")
        var configuration = scenario.simulatorConfiguration(rateLimit: server)
        configuration.latency = latency
        let engine = SimulatorEngine(workspace: workload.spec, configuration: configuration)
        let truth = await engine.groundTruth()
        do {
            let run = try await SimulatorServer.withRunningServer(engine: engine) { port -> Run in
                let config = try scenario.writeConfig(port: port, workload: workload, pacing: client)
                await engine.resetJournal()
                let (child, summary) = try await scenario.reconcile(
                    config, ["--full", "--no-write-back"] + scenario.strategyArguments(strategy))
                return Run(wall: child.wallSeconds, summary: summary, journal: await engine.journal(),
                           optimum: workload.forwardOptimum(truth),
                           complete: summary.edgesTotal == workload.expectedEdges(truth),
                           walks: workload.readSources.map { max(1, ceilDiv(truth.pages[$0]?.count ?? 0, 100)) })
            }
            await scenario.dropSchemas()
            return run
        } catch {
            await scenario.dropSchemas()
            throw error
        }
    }
}
