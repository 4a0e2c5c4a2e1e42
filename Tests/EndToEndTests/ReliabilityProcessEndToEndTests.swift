import Foundation
import Glibc
import NotionSimulator
import PostgresStore
import Testing

/// SIGTERM and SIGINT during a run (systemd stopping the unit, Ctrl-C): the run stops after the
/// PostgreSQL transaction in progress, is recorded as failed, exits 143 / 130 with one line, and
/// the next run converges. SIGKILL loops and overlapping runs are in CrashSafetyEndToEndTests
/// (docs/RELIABILITY.md).
/// Serialized, to keep the load it adds to the parallel suite modest on a 2-core machine.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"), .serialized)
struct ReliabilityProcessEndToEndTests {
    /// A signal in the middle of reading relations: prompt exit with the signal's code, one
    /// line, the metrics file says so, the run is recorded as failed, the next run converges.
    @Test(arguments: [SIGTERM, SIGINT])
    func signalMidRunStopsCleanly(_ signal: Int32) async throws {
        try await withScenario { scenario in
            // 40 ms per request: the run lasts several seconds, so the signal lands inside it.
            let (engine, projects) = await Reliability.engine(scenario, seed: 301) { $0.latency = .milliseconds(40) }
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(
                    port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects), notionExtra: "max_concurrent_requests: 1")
                let metrics = scenario.dir.appendingPathComponent("relsync.prom").path
                let process = try RelsyncProcess(
                    ["reconcile", "--config", config, "--relations-strategy", "paginate", "--metrics-file", metrics],
                    environment: scenario.environment)
                let reading = await Reliability.waitUntil(.seconds(60)) {
                    await engine.journal().requests(.retrievePageProperty) >= 3
                }
                #expect(reading, "the run never reached its relation reads")
                process.send(signal)
                let result = try #require(await process.wait(atMost: .seconds(30)), "the signal did not stop the run")
                let code: Int32 = signal == SIGTERM ? 143 : 130
                let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
                #expect(result.status == code, "stderr: \(result.stderr)")
                #expect(process.process.terminationReason == .exit, "killed by the signal instead of handling it")
                let lines = Reliability.lines(result.stderr)
                #expect(lines.last?.hasPrefix("relsync: stopped by \(name)") == true, "\(result.stderr)")
                #expect(lines.filter { $0.hasPrefix("relsync: ") }.count == 1, "\(result.stderr)")
                let recorded = try #require(try await Reliability.lastRun(schema: scenario.schema))
                #expect(recorded.outcome == "failed")
                #expect(recorded.error?.contains("stopped before it finished") == true, "\(recorded.error ?? "")")
                let prom = try String(contentsOfFile: metrics, encoding: .utf8)
                #expect(prom.contains("relsync_last_run_exit_code \(code)\n"), "\(prom)")
                // Nothing more is sent once it has stopped.
                let sent = await engine.journal().totalRequests
                try await Task.sleep(for: .milliseconds(500))
                #expect(await engine.journal().totalRequests == sent)

                await engine.updateConfiguration { $0.latency = .zero }
                let next = try await scenario.reconcile(config)
                #expect(next.status == 0, "stderr: \(next.stderr)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// SIGTERM while an apply transaction is in progress: that transaction is finished
    /// (committed whole), then the run stops, exit 143; the next run converges.
    @Test func sigtermInsideATransactionFinishesIt() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 302)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                let migrate = try await runRelsync(["migrate", "--config", config], environment: scenario.environment)
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                let (process, lock, blocked) = try await Reliability.reconcileBlockedInsideApply(scenario, config: config)
                #expect(blocked != nil, "relsync never waited inside its apply transaction")
                process.send(SIGTERM)
                try await Task.sleep(for: .milliseconds(500))
                #expect(process.process.isRunning, "it exited without finishing the transaction in progress")
                lock.close()
                let result = try #require(await process.wait(atMost: .seconds(30)))
                #expect(result.status == 143, "stderr: \(result.stderr)")
                // The first apply (the relation targets' pages) committed whole; nothing after it ran.
                let db = try await Reliability.admin()
                defer { db.close() }
                let schema = db.quoteIdentifier(scenario.schema)
                let members = try #require(await engine.manifest().dataSource(named: PresetNames.members))
                let pages = try await db.query(
                    "SELECT count(*) FROM \(schema).pages WHERE data_source_id = $1", [members.id])
                #expect(pages.scalar == String(members.pageCount))
                let edges = try await db.query("SELECT count(*) FROM \(schema).edges")
                #expect(edges.scalar == "0", "the run went on after SIGTERM")
                #expect(try await Reliability.lastRun(schema: scenario.schema)?.outcome == "failed")

                let next = try await scenario.reconcile(config)
                #expect(next.status == 0, "stderr: \(next.stderr)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// A second SIGTERM does not wait: relsync exits at once, and PostgreSQL rolls back the
    /// transaction the dropped connection had open.
    @Test func secondSigtermExitsAtOnceAndTheTransactionRollsBack() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 303)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                let migrate = try await runRelsync(["migrate", "--config", config], environment: scenario.environment)
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                let (process, lock, blocked) = try await Reliability.reconcileBlockedInsideApply(scenario, config: config)
                #expect(blocked != nil)
                process.send(SIGTERM)
                try await Task.sleep(for: .milliseconds(300))
                process.send(SIGTERM)
                let result = try #require(await process.wait(atMost: .seconds(10)), "a second SIGTERM did not exit at once")
                #expect(result.status == 143, "stderr: \(result.stderr)")
                #expect(result.stderr.contains("SIGTERM again: exiting at once"))
                lock.close()
                let db = try await Reliability.admin()
                defer { db.close() }
                let pages = try await db.query("SELECT count(*) FROM \(db.quoteIdentifier(scenario.schema)).pages")
                #expect(pages.scalar == "0", "the interrupted transaction was kept")

                let next = try await scenario.reconcile(config)
                #expect(next.status == 0, "stderr: \(next.stderr)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }
}
