import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// PostgreSQL failing under a run: the connection killed inside a transaction, a statement
/// cancelled by `statement_timeout`, a disk-full error. Each time the run fails with one clear
/// line and its documented exit code, nothing of the failed transaction is kept, and the next
/// run converges exactly (docs/RELIABILITY.md). Unreachable-at-start and a restart mid-run are
/// in BadInputEndToEndTests and CrashSafetyEndToEndTests.
/// Serialized, to keep the load it adds to the parallel suite modest on a 2-core machine.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"), .serialized)
struct ReliabilityPostgresEndToEndTests {
    /// A first, complete run; then edits in Notion, so the next run has edges to add and remove.
    static func prepare(_ engine: SimulatorEngine, _ scenario: Scenario, _ projects: SimulatorManifest.DataSource, config: String) async throws {
        let first = try await scenario.reconcile(config)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let truth = await engine.groundTruth()
        let projectsID = UUID(uuidString: projects.id)!
        let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
        for (index, page) in truth.pages[projectsID]!.prefix(12).enumerated() {
            if index % 2 == 0, let victim = truth.relation(projectsID, team, page)?.first {
                try await engine.removeRelationTarget(page: page, property: team, target: victim)
            } else {
                try await engine.addRelationTarget(
                    page: page, property: team, target: await Reliability.spareMember(engine, for: page, projects))
            }
        }
    }

    /// The run that failed wrote nothing: the edges are as before it, and no history row
    /// carries its run id.
    static func expectNothingKept(_ scenario: Scenario, before: StoredEdges, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let after = try await StoredEdges.read(schema: scenario.schema)
        #expect(after.lists == before.lists && after.positions == before.positions,
                "the failed run left part of its changes", sourceLocation: sourceLocation)
        let db = try await Reliability.admin()
        defer { db.close() }
        let schema = db.quoteIdentifier(scenario.schema)
        let history = try await db.query(
            "SELECT count(*) FROM \(schema).edge_history WHERE run_id = (SELECT max(run_id) FROM \(schema).runs)")
        #expect(history.scalar == "0", "history rows of the failed run", sourceLocation: sourceLocation)
    }

    /// The connection killed with `pg_terminate_backend` while relsync is inside an apply
    /// transaction: exit 69, one line; the transaction is gone; the next run converges.
    @Test func connectionKilledInsideATransaction() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 201)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                try await Self.prepare(engine, scenario, projects, config: config)
                let before = try await StoredEdges.read(schema: scenario.schema)

                let (process, lock, pid) = try await Reliability.reconcileBlockedInsideApply(scenario, config: config)
                let backend = try #require(pid, "relsync never waited inside its apply transaction")
                let killed = try await lock.query("SELECT pg_terminate_backend($1)", [String(backend)])
                #expect(killed.scalar == "t")
                lock.close()
                let result = try #require(await process.wait(atMost: .seconds(60)))
                #expect(result.status == 69, "stderr: \(result.stderr)")
                let last = Reliability.lines(result.stderr).last ?? ""
                #expect(last.hasPrefix("relsync: PostgreSQL unavailable:"), "\(result.stderr)")
                try await Self.expectNothingKept(scenario, before: before)

                let next = try await scenario.reconcile(config)
                #expect(next.status == 0, "stderr: \(next.stderr)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// `postgres.statement_timeout` bounds every statement: one that waits past it (here, for a
    /// lock another session holds) is cancelled by the server, its transaction rolled back, the
    /// run recorded as failed, exit 69 with one line; the next run converges.
    @Test func statementTimeoutCancelsAndRollsBack() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 202)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                try await Self.prepare(engine, scenario, projects, config: config)
                let before = try await StoredEdges.read(schema: scenario.schema)

                let plain = try String(contentsOfFile: config, encoding: .utf8)
                let bounded = plain.replacingOccurrences(
                    of: "  views_schema: \(scenario.viewsSchema)\n",
                    with: "  views_schema: \(scenario.viewsSchema)\n  statement_timeout: 2s\n")
                #expect(bounded != plain)
                try bounded.write(toFile: config, atomically: true, encoding: .utf8)

                let lock = try await Reliability.holdApplyLock(schema: scenario.schema)
                let started = ContinuousClock.now
                let result = try await scenario.reconcile(config)
                let elapsed = ContinuousClock.now - started
                lock.close()
                #expect(result.status == 69, "stderr: \(result.stderr)")
                let last = Reliability.lines(result.stderr).last ?? ""
                #expect(last.hasPrefix("relsync: PostgreSQL cancelled a statement: canceling statement due to statement timeout"), "\(result.stderr)")
                #expect(elapsed < .seconds(60), "the wait was not bounded")
                let recorded = try #require(try await Reliability.lastRun(schema: scenario.schema))
                #expect(recorded.outcome == "failed")
                #expect(recorded.error?.contains("statement timeout") == true, "\(recorded.error ?? "")")
                try await Self.expectNothingKept(scenario, before: before)

                try plain.write(toFile: config, atomically: true, encoding: .utf8)
                let next = try await scenario.reconcile(config)
                #expect(next.status == 0, "stderr: \(next.stderr)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// A disk-full error (SQLSTATE 53100, raised where the edges are written) is surfaced as
    /// one clear line, exit 69; the transaction is rolled back; once there is room again the
    /// next run converges.
    @Test func diskFullIsSurfacedClearly() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 203)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                try await Self.prepare(engine, scenario, projects, config: config)
                let before = try await StoredEdges.read(schema: scenario.schema)

                let db = try await Reliability.admin()
                defer { db.close() }
                let schema = db.quoteIdentifier(scenario.schema)
                try await db.executeScript(
                    """
                    CREATE FUNCTION \(schema).test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'could not extend file "base/16384/2619": No space left on device'
                            USING ERRCODE = 'disk_full', HINT = 'Check free disk space.';
                    END $$;
                    CREATE TRIGGER test_disk_full BEFORE INSERT ON \(schema).edges
                        FOR EACH ROW EXECUTE FUNCTION \(schema).test_disk_full();
                    """)
                let result = try await scenario.reconcile(config)
                #expect(result.status == 69, "stderr: \(result.stderr)")
                let last = Reliability.lines(result.stderr).last ?? ""
                #expect(last.hasPrefix("relsync: PostgreSQL is out of disk space (SQLSTATE 53100: could not extend file"), "\(result.stderr)")
                #expect(last.contains("No space left on device"))
                let recorded = try #require(try await Reliability.lastRun(schema: scenario.schema))
                #expect(recorded.outcome == "failed")
                try await Self.expectNothingKept(scenario, before: before)

                try await db.executeScript("DROP TRIGGER test_disk_full ON \(schema).edges")
                let next = try await scenario.reconcile(config)
                #expect(next.status == 0, "stderr: \(next.stderr)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }
}
