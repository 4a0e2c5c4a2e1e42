import Foundation
import Glibc
import NotionSimulator
import PostgresStore
import Testing

/// Helpers shared by the reliability and security suites (docs/RELIABILITY.md).
enum Reliability {
    /// A demo workspace small enough for a run of about a second: 300 members (three query
    /// pages, so cursors are used), "Everyone" with 250 of them (three property-item pages),
    /// the boundary sizes 25, 26, 100 and 101, and pages with no truncated relation.
    static func engine(
        _ scenario: Scenario, seed: UInt64, projects: Int = 30, members: Int = 300,
        configure: (inout SimulatorConfiguration) -> Void = { _ in }
    ) async -> (SimulatorEngine, SimulatorManifest.DataSource) {
        var configuration = scenario.simulatorConfiguration
        configure(&configuration)
        let engine = SimulatorEngine(
            workspace: .demo(
                seed: seed, DemoParameters(projects: projects, members: members, tasks: 5, tags: 2, everyoneSize: 250)),
            configuration: configuration)
        let projects = await engine.manifest().dataSource(named: PresetNames.projects)!
        return (engine, projects)
    }

    /// A page of `projects` whose Team Members list Notion truncates (more than 25 targets).
    static func truncatedPage(_ engine: SimulatorEngine, _ projects: SimulatorManifest.DataSource, minimum: Int = 26) async -> UUID {
        let truth = await engine.groundTruth()
        let id = UUID(uuidString: projects.id)!
        let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
        return truth.pages[id]!.first { (truth.relation(id, team, $0)?.count ?? 0) >= minimum }!
    }

    /// A member page that is not in `page`'s Team Members yet.
    static func spareMember(_ engine: SimulatorEngine, for page: UUID, _ projects: SimulatorManifest.DataSource) async -> UUID {
        let truth = await engine.groundTruth()
        let manifest = await engine.manifest()
        let members = UUID(uuidString: manifest.dataSource(named: PresetNames.members)!.id)!
        let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
        let list = Set(truth.relation(UUID(uuidString: projects.id)!, team, page) ?? [])
        return truth.pages[members]!.first { !list.contains($0) }!
    }

    /// Opens an administrative connection to the test database.
    static func admin(_ url: String = E2E.databaseURL) async throws -> PostgresConnection {
        try await PostgresConnection.connect(url: url, logger: E2E.logger)
    }

    /// Takes, on its own connection, the advisory lock every apply transaction of `schema`
    /// takes first (`relsync.apply:<schema>`): a relsync run then waits inside its first apply
    /// transaction until the connection is closed.
    static func holdApplyLock(schema: String) async throws -> PostgresConnection {
        let db = try await admin()
        _ = try await db.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", ["relsync.apply:" + schema])
        return db
    }

    /// Starts `relsync reconcile --config config` with the apply lock of `scenario`'s schema held
    /// on another connection, and waits until the run is blocked inside its first apply
    /// transaction. Returns the process, the connection holding the lock (close it to let the
    /// run go on) and the blocked backend's pid (nil if the run never got there).
    static func reconcileBlockedInsideApply(
        _ scenario: Scenario, config: String
    ) async throws -> (process: RelsyncProcess, lock: PostgresConnection, backend: Int?) {
        let lock = try await holdApplyLock(schema: scenario.schema)
        let application = uniqueApplicationName()
        var environment = scenario.environment
        environment["PGAPPNAME"] = application
        let process = try RelsyncProcess(["reconcile", "--config", config], environment: environment)
        return (process, lock, try await waitForBlockedBackend(application: application))
    }

    /// The backend of the relsync process started with `PGAPPNAME=application`, once it waits
    /// for a lock inside a transaction.
    static func waitForBlockedBackend(application: String, timeout: Duration = .seconds(60)) async throws -> Int? {
        let db = try await admin()
        defer { db.close() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let rows = try await db.query(
                """
                SELECT pid FROM pg_stat_activity
                WHERE application_name = $1 AND wait_event_type = 'Lock' AND xact_start IS NOT NULL
                """, [application])
            if let pid = rows.scalar.flatMap({ Int($0) }) { return pid }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func waitUntil(_ timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// The newest row of the runs table: (outcome, error).
    static func lastRun(schema: String, url: String = E2E.databaseURL) async throws -> (outcome: String, error: String?)? {
        let db = try await admin(url)
        defer { db.close() }
        let rows = try await db.query(
            "SELECT outcome, error FROM \(db.quoteIdentifier(schema)).runs ORDER BY run_id DESC LIMIT 1")
        guard let row = rows.rows.first else { return nil }
        return (row[0] ?? "", row[1])
    }

    /// Every non-empty line of stderr; the last is the one a failure prints.
    static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n")
    }

    static func uniqueApplicationName() -> String {
        "relsync_test_\(UInt32.random(in: 0...UInt32.max))"
    }
}

extension RelsyncProcess {
    /// Sends `signal` (SIGTERM, SIGINT) to the process.
    func send(_ signal: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
    }

    /// What the process has written to stderr so far.
    var stderrSoFar: String {
        (try? String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
    }

    /// Waits at most `timeout` for the process to end; nil if it is still running then.
    func wait(atMost timeout: Duration) async -> RunResult? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : await wait()
    }
}
