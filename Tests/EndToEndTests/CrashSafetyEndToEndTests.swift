import Foundation
import Glibc
import NotionSimulator
import PostgresStore
import ReconcilerCore
import Testing

/// Runs killed at any moment, runs racing each other, and PostgreSQL restarting under a run:
/// the next run always converges, with nothing lost or duplicated.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct CrashSafetyEndToEndTests {
    static func demoEngine(_ scenario: Scenario, seed: UInt64, latency: Duration) async -> (SimulatorEngine, SimulatorManifest.DataSource) {
        var configuration = scenario.simulatorConfiguration
        configuration.latency = latency
        let engine = SimulatorEngine(
            workspace: .demo(seed: seed, DemoParameters(projects: 60, members: 1_050, tasks: 10, tags: 2)),
            configuration: configuration)
        let projects = await engine.manifest().dataSource(named: PresetNames.projects)!
        return (engine, projects)
    }

    static func syncYAML(_ projects: SimulatorManifest.DataSource) -> String {
        """
          - data_source: \(projects.id)
            relations: [Team Members]
            write_back:
              - relation: Team Members
                property: Team Members (all)
        """
    }

    /// Checks PostgreSQL and the summaries against the truth.
    static func expectConverged(_ engine: SimulatorEngine, _ scenario: Scenario, _ projects: SimulatorManifest.DataSource) async throws {
        let projectsID = UUID(uuidString: projects.id)!
        let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
        let summary = projects.properties.first { $0.name == PresetNames.teamMembersAll }!.id
        let truth = await engine.groundTruth()
        let stored = try await StoredEdges.read(schema: scenario.schema)
        expectExact(stored, expectedEdges(truth, dataSources: [projectsID], properties: [team]))
        await WriteBackEndToEndTests.expectSummaries(engine, schema: scenario.schema, dataSource: projectsID, relation: team, property: summary, format: .names)
        // The history adds up: for every edge, added minus removed is 1 while it exists.
        let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
        defer { db.close() }
        let schema = db.quoteIdentifier(scenario.schema)
        let unbalanced = try await db.query(
            """
            SELECT count(*) FROM (
              SELECT h.from_page_id, h.to_page_id,
                     sum(CASE h.change WHEN 'added' THEN 1 ELSE -1 END) AS net,
                     bool_or(e.to_page_id IS NOT NULL) AS present
              FROM \(schema).edge_history h
              LEFT JOIN \(schema).edges e USING (source_data_source_id, property_id, from_page_id, to_page_id)
              GROUP BY 1, 2) x
            WHERE net <> (CASE WHEN present THEN 1 ELSE 0 END)
            """)
        #expect(unbalanced.scalar == "0", "edge_history disagrees with edges")
    }

    /// SIGKILL at seeded random moments of reconcile-with-write-back runs, with edits between;
    /// then one uninterrupted run converges exactly and the next writes nothing.
    @Test func killedRunsConverge() async throws {
        try await withScenario { scenario in
            // 20 ms per request stretches a run over a second or so, so the kills land inside it.
            let (engine, projects) = await Self.demoEngine(scenario, seed: 31, latency: .milliseconds(20))
            let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
            let projectsID = UUID(uuidString: projects.id)!
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: Self.syncYAML(projects))
                let arguments = ["reconcile", "--config", config]
                var rng = SplitMix64(seed: 2026)
                var killed = 0
                for round in 0..<20 {
                    // An edit before each round, so there is always something to do.
                    let truth = await engine.groundTruth()
                    let pages = truth.pages[projectsID]!
                    let page = pages[Int(rng.next() % UInt64(pages.count))]
                    let list = truth.relation(projectsID, team, page) ?? []
                    if round % 3 == 0, let victim = list.first {
                        try await engine.removeRelationTarget(page: page, property: team, target: victim)
                    } else {
                        let members = truth.pages[UUID(uuidString: (await engine.manifest()).dataSource(named: PresetNames.members)!.id)!]!
                        try await engine.addRelationTarget(page: page, property: team, target: members[Int(rng.next() % UInt64(members.count))])
                    }
                    let process = try RelsyncProcess(round % 2 == 0 ? arguments + ["--full"] : arguments, environment: scenario.environment)
                    try await Task.sleep(for: .milliseconds(50 + Int(rng.next() % 700)))
                    if process.process.isRunning { killed += 1 }
                    process.kill()
                    let result = await process.wait()
                    #expect(result.status == 0 || process.process.terminationReason == .uncaughtSignal,
                            "round \(round): \(result.stderr)")
                }
                #expect(killed >= 10, "only \(killed) of 20 runs were still running when killed: the test proves too little")
                let final = try await scenario.reconcile(config)
                #expect(final.status == 0, "\(final.stderr)")
                try await Self.expectConverged(engine, scenario, projects)
                let patches = await engine.journal().requests(.updatePage)
                let again = try await scenario.reconcile(config)
                #expect(again.status == 0)
                #expect(await engine.journal().requests(.updatePage) == patches, "a converged state wrote again")
                // A killed run's row (if it got as far as writing one) was closed as abandoned by
                // the run after it: nothing is left running, and nothing failed otherwise.
                let db = try await Reliability.admin()
                defer { db.close() }
                let outcomes = try await db.query(
                    """
                    SELECT count(*) FILTER (WHERE outcome = 'running'),
                           count(*) FILTER (WHERE outcome = 'failed' AND error NOT LIKE 'abandoned:%'),
                           count(*) FILTER (WHERE outcome = 'failed' AND error LIKE 'abandoned:%')
                    FROM \(db.quoteIdentifier(scenario.schema)).runs
                    """)
                #expect(outcomes.rows.first?[0] == "0", "runs left running after the killed ones")
                #expect(outcomes.rows.first?[1] == "0", "runs failed for another reason than being killed")
                print("killed runs: \(killed) killed while running, \(outcomes.rows.first?[2] ?? "?") closed as abandoned")
            }
        }
    }

    /// Two runs at once: one works, the other exits 75 at once with one line; with --wait
    /// the second waits its turn.
    @Test func overlappingRunsDoNotCollide() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Self.demoEngine(scenario, seed: 32, latency: .milliseconds(15))
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: Self.syncYAML(projects))
                let migrate = try await runRelsync(["migrate", "--config", config], environment: scenario.environment)
                #expect(migrate.status == 0)
                // Each second run starts once the first holds the lock (its first query is sent
                // after the lock is taken): a fixed head start lost the race on a loaded machine.
                func queries() async -> Int { await engine.journal().requests(.queryDataSource) }
                var before = await queries()
                let a = try RelsyncProcess(["reconcile", "--config", config], environment: scenario.environment)
                #expect(await Reliability.waitUntil(.seconds(60)) { await queries() > before })
                let b = try RelsyncProcess(["reconcile", "--config", config], environment: scenario.environment)
                let (ra, rb) = (await a.wait(), await b.wait())
                #expect(ra.status == 0, "\(ra.stderr)")
                #expect(rb.status == 75, "\(rb.stderr)")
                #expect(rb.stderr.contains("another relsync run holds the lock"))
                #expect(rb.stderr.split(separator: "\n").count == 1)

                before = await queries()
                let c = try RelsyncProcess(["reconcile", "--config", config, "--full"], environment: scenario.environment)
                #expect(await Reliability.waitUntil(.seconds(60)) { await queries() > before })
                let d = try RelsyncProcess(["reconcile", "--config", config, "--wait", "120"], environment: scenario.environment)
                let (rc, rd) = (await c.wait(), await d.wait())
                #expect(rc.status == 0, "\(rc.stderr)")
                #expect(rd.status == 0, "\(rd.stderr)")
                try await Self.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// PostgreSQL restarted under a run: the run fails cleanly (exit 69) or finishes, and the
    /// next run converges. Uses a private cluster so other tests are not disturbed.
    @Test(.enabled(if: getuid() == 0, "starting a private PostgreSQL cluster needs root (runuser -u postgres)"))
    func postgresRestartMidRun() async throws {
        let cluster = try await PrivateCluster.start()
        defer { cluster.stop() }
        try await withScenario { scenario in
            let (engine, projects) = await Self.demoEngine(scenario, seed: 33, latency: .milliseconds(10))
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: Self.syncYAML(projects), databaseURL: cluster.url)
                let first = try await runRelsync(["reconcile", "--config", config], environment: scenario.environment)
                #expect(first.status == 0, "\(first.stderr)")
                // Changes, then a full run that PostgreSQL restarts under.
                let truth = await engine.groundTruth()
                let projectsID = UUID(uuidString: projects.id)!
                let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
                for page in truth.pages[projectsID]!.prefix(10) {
                    if let victim = truth.relation(projectsID, team, page)?.first {
                        try await engine.removeRelationTarget(page: page, property: team, target: victim)
                    }
                }
                let run = try RelsyncProcess(["reconcile", "--config", config, "--full"], environment: scenario.environment)
                try await Task.sleep(for: .milliseconds(500))
                try cluster.restart()
                let interrupted = await run.wait()
                #expect([0, 69].contains(interrupted.status), "\(interrupted.stderr)")
                if interrupted.status == 69 {
                    // The last line is the one that says what failed (libpq's notice of the
                    // shutdown may be logged before it).
                    let last = interrupted.stderr.split(separator: "\n").last ?? ""
                    #expect(last.hasPrefix("relsync: PostgreSQL unavailable"), "\(interrupted.stderr)")
                }
                let next = try await runRelsync(["reconcile", "--config", config], environment: scenario.environment)
                #expect(next.status == 0, "\(next.stderr)")
                let stored = try await StoredEdges.read(url: cluster.url, schema: scenario.schema)
                expectExact(stored, expectedEdges(await engine.groundTruth(), dataSources: [projectsID], properties: [team]))
            }
        }
    }
}

/// A deterministic generator for test schedules.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A throwaway PostgreSQL cluster owned by one test (initdb as the postgres user).
struct PrivateCluster {
    let dir: String
    let port: Int
    let bin: String
    var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    static func start() async throws -> PrivateCluster {
        let bin = try shell("ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1").trimmingCharacters(in: .whitespacesAndNewlines)
        let dir = "/tmp/relsync-pg-\(UInt32.random(in: 0...UInt32.max))"
        let port = Int(try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'")
            .trimmingCharacters(in: .whitespacesAndNewlines))!
        _ = try shell("mkdir -p \(dir) && chown postgres \(dir) && runuser -u postgres -- \(bin)/initdb -A trust -U postgres -D \(dir)/data >/dev/null")
        let cluster = PrivateCluster(dir: dir, port: port, bin: bin)
        try cluster.pgctl("start -w")
        return cluster
    }

    func pgctl(_ command: String) throws {
        _ = try shell(
            "runuser -u postgres -- \(bin)/pg_ctl -D \(dir)/data -l \(dir)/log -o '-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=off' \(command) >/dev/null")
    }

    func restart() throws { try pgctl("restart -m immediate -w") }

    func stop() {
        _ = try? pgctl("stop -m immediate")
        _ = try? shell("rm -rf \(dir)")
    }

    /// Runs a shell command with `system(3)`, which waits on its own child: Foundation's
    /// `Process.waitUntilExit` was seen to hang here when other processes exit concurrently.
    @discardableResult
    static func shell(_ command: String) throws -> String {
        let output = "/tmp/relsync-sh-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(output) }
        let status = system("(\(command)) > \(output)")
        guard status == 0 else { throw PrivateClusterError(message: "\(command) exited \(status)") }
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }

    func shell(_ command: String) throws -> String { try Self.shell(command) }
}

struct PrivateClusterError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
