import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// The long variants behind `make soak` (RELSYNC_SOAK=1): a benchmark-sized workspace under
/// every Notion fault at once, and a Retry-After past a minute waited out to the end. Each
/// prints its figures (calls, retries, 429s, wall time) for docs/RELIABILITY.md.
@Suite(
    .enabled(if: E2E.enabled && E2E.env["RELSYNC_SOAK"] == "1", "make soak sets RELSYNC_SOAK=1"),
    .serialized)
struct ReliabilitySoakTests {
    static func report(_ label: String, _ run: RunResult, _ journal: JournalSnapshot, wall: Duration, exact: Bool) {
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        let faults = journal.faults.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("""
            soak[\(label)]: exit \(run.status), exact ground truth: \(exact ? "yes" : "NO")
            soak[\(label)]: wall \(String(format: "%.1f", seconds)) s; Notion calls \(journal.totalRequests) (relsync counted \(run.int("api_calls_total") ?? -1)), \
            retries \(run.int("retries") ?? -1), 429s \(journal.injected429 + journal.rateLimited) (relsync counted \(run.int("rate_limited") ?? -1))
            soak[\(label)]: pages read \(run.int("pages_read") ?? -1), edges \(run.int("edges_total") ?? -1), \
            summaries written \(run.int("summaries_written") ?? -1), data calls \(run.int("data_calls") ?? -1) (optimum \(run.int("forward_optimum") ?? -1))
            soak[\(label)]: faults \(faults); statuses \(journal.statusCounts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            """)
    }

    /// 10% 5xx (500/502/503/504/529), 10% 429, 2% dropped connections, 1% truncated bodies,
    /// on 2,000 projects × 12,000 members (past the real 10,000-row query cap) with every
    /// truncated relation paginated and every summary written back; then rounds of edits and
    /// incremental runs under the same faults. Each run ends in the exact ground truth.
    @Test(.timeLimit(.minutes(60)))
    func mixedFaultsOverABenchWorkspaceEndExactly() async throws {
        try await withScenario { scenario in
            var configuration = scenario.simulatorConfiguration
            configuration.faults = FaultConfiguration(
                serverError: 0.10, rateLimited: 0.10, rateLimitedRetryAfter: 1, dropConnection: 0.02, truncateBody: 0.01)
            let engine = SimulatorEngine(
                workspace: .bench(seed: 2026, BenchParameters(projects: 2_000, members: 12_000)), configuration: configuration)
            let projects = try #require(await engine.manifest().dataSource(named: PresetNames.projects))
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                let started = ContinuousClock.now
                let run = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                let wall = ContinuousClock.now - started
                #expect(run.status == 0, "stderr: \(run.stderr.suffix(3_000))")
                let exact = try await Self.isExact(engine, scenario, projects)
                Self.report("full", run, await engine.journal(), wall: wall, exact: exact)
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)

                let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
                let members = UUID(uuidString: (await engine.manifest()).dataSource(named: PresetNames.members)!.id)!
                var rng = SplitMix64(seed: 7)
                for round in 1...3 {
                    let truth = await engine.groundTruth()
                    let pages = truth.pages[UUID(uuidString: projects.id)!]!
                    for _ in 0..<40 {
                        let page = pages[Int(rng.next() % UInt64(pages.count))]
                        let list = truth.relation(UUID(uuidString: projects.id)!, team, page) ?? []
                        if rng.next() % 2 == 0, let victim = list.first {
                            try await engine.removeRelationTarget(page: page, property: team, target: victim)
                        } else {
                            let all = truth.pages[members]!
                            try await engine.addRelationTarget(page: page, property: team, target: all[Int(rng.next() % UInt64(all.count))])
                        }
                    }
                    await engine.resetJournal()
                    let roundStarted = ContinuousClock.now
                    let incremental = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                    let roundWall = ContinuousClock.now - roundStarted
                    #expect(incremental.status == 0, "stderr: \(incremental.stderr.suffix(3_000))")
                    Self.report("incremental \(round)", incremental, await engine.journal(), wall: roundWall,
                                exact: try await Self.isExact(engine, scenario, projects))
                    try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
                }
            }
        }
    }

    /// Retry-After: 61 (past a minute, as Notion's per-workspace limit may answer) is waited
    /// out in full, uncapped, and the run then finishes exactly.
    @Test(.timeLimit(.minutes(10)))
    func retryAfterOverAMinuteIsWaitedOut() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 501)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                await engine.injectFault(.rateLimited(retryAfter: 61), on: .queryDataSource)
                let started = ContinuousClock.now
                let run = try await scenario.reconcile(config)
                let wall = ContinuousClock.now - started
                #expect(run.status == 0, "stderr: \(run.stderr)")
                #expect(wall >= .seconds(61), "the run took \(wall): Retry-After 61 was cut short")
                #expect(run.int("rate_limited") == 1)
                Self.report("retry-after 61", run, await engine.journal(), wall: wall,
                            exact: try await Self.isExact(engine, scenario, projects))
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    static func isExact(_ engine: SimulatorEngine, _ scenario: Scenario, _ projects: SimulatorManifest.DataSource) async throws -> Bool {
        let truth = await engine.groundTruth()
        let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
        let expected = expectedEdges(truth, dataSources: [UUID(uuidString: projects.id)!], properties: [team])
        let stored = try await StoredEdges.read(schema: scenario.schema)
        // Lists completed by inference keep Notion's order for their first 25 only (PRODUCT.md).
        return stored.lists.count == expected.count && expected.allSatisfy { key, list in
            guard let got = stored.lists[key] else { return false }
            return got == list || (got.count == list.count && Set(got) == Set(list) && got.prefix(25) == list.prefix(25))
        }
    }
}
