import Foundation
import Glibc
import NotionSimulator
import PostgresStore
import Testing

/// Notion misbehaving, one fault at a time, injected at an exact point: the real binary
/// against the simulator and a real PostgreSQL. Each test checks that the fault really
/// happened, and that nothing was lost, duplicated or left half-done (docs/RELIABILITY.md).
/// Serialized: its parameterized cases would otherwise start a dozen relsync processes at
/// once, starving timing-sensitive tests elsewhere in the suite on a 2-core machine.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"), .serialized)
struct ReliabilityNotionEndToEndTests {
    struct FaultCase: Sendable, CustomTestStringConvertible {
        var name: String
        var fault: InjectedFault
        var endpoint: Endpoint
        var count = 2
        /// The journal's count of this fault must equal `expected` afterwards.
        var kind: FaultKind
        var expected = 2
        var notionExtra = ""
        var testDescription: String { name }
    }

    static let faults: [FaultCase] = [
        FaultCase(name: "500 on a query", fault: .serverError(500), endpoint: .queryDataSource, kind: .http500),
        FaultCase(name: "502 on a property item", fault: .serverError(502), endpoint: .retrievePageProperty, kind: .http502),
        FaultCase(name: "503 on a schema read", fault: .serverError(503), endpoint: .retrieveDataSource, kind: .http503),
        FaultCase(name: "504 on a query", fault: .serverError(504), endpoint: .queryDataSource, kind: .http504),
        FaultCase(name: "529 on a property item", fault: .serverError(529), endpoint: .retrievePageProperty, kind: .http529),
        FaultCase(name: "HTML 502 from an edge proxy", fault: .htmlBadGateway, endpoint: .queryDataSource, kind: .htmlBadGateway),
        FaultCase(name: "connection dropped mid-body (read)", fault: .dropConnection, endpoint: .retrievePageProperty, kind: .dropConnection),
        FaultCase(name: "truncated JSON", fault: .truncateBody, endpoint: .queryDataSource, kind: .truncateBody),
        FaultCase(name: "429 Retry-After 1 s", fault: .rateLimited(retryAfter: 1), endpoint: .queryDataSource, kind: .injected429),
        // Two walks (Projects and the Members targets) start together, one request at a time:
        // their first requests carry no cursor (the faults pass unused); the third request
        // continues a walk, and its cursor expires.
        FaultCase(name: "query cursor expires mid-walk", fault: .invalidCursor, endpoint: .queryDataSource, count: 3,
                  kind: .cursorInvalidated, expected: 1, notionExtra: "max_concurrent_requests: 1"),
        FaultCase(name: "relation cursor expires mid-walk", fault: .invalidCursor, endpoint: .retrievePageProperty,
                  kind: .cursorInvalidated, expected: 1, notionExtra: "max_concurrent_requests: 1"),
        FaultCase(name: "500 on a summary write", fault: .serverError(500), endpoint: .updatePage, kind: .http500),
        FaultCase(name: "connection dropped after a summary write", fault: .dropConnection, endpoint: .updatePage,
                  kind: .dropConnection),
    ]

    /// Each fault is retried (or the walk restarted) and the run ends in the exact ground truth:
    /// edges, positions, summaries, and an edge history that adds up.
    @Test(arguments: faults)
    func injectedFaultEndsInTheExactTruth(_ c: FaultCase) async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 101)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(
                    port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects), notionExtra: c.notionExtra)
                await engine.injectFault(c.fault, on: c.endpoint, count: c.count)
                let run = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                #expect(run.status == 0, "stderr: \(run.stderr)")
                #expect(await engine.journal().faults(c.kind) == c.expected, "the fault was not injected as planned")
                #expect((run.int("retries") ?? 0) >= 1 || c.kind == .cursorInvalidated)
                #expect((run.json?["warnings"] as? [String])?.isEmpty == true, "\(run.stdout)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// A 429's Retry-After is waited out before anything else is sent.
    @Test func retryAfterIsWaitedOut() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 102)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                await engine.injectFault(.rateLimited(retryAfter: 3), on: .retrieveDataSource)
                let started = ContinuousClock.now
                let run = try await scenario.reconcile(config)
                let elapsed = ContinuousClock.now - started
                #expect(run.status == 0, "stderr: \(run.stderr)")
                #expect(elapsed >= .seconds(3), "the run took \(elapsed): Retry-After 3 was not honoured")
                #expect(run.int("rate_limited") == 1)
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// Retry-After past a minute (Notion's per-workspace limit) is honoured uncapped: the run
    /// pauses every request for the whole 61 s. Here the pause is observed, then the run is
    /// stopped with SIGTERM (which must end it promptly, recorded as failed); `make soak` waits
    /// the 61 s out to the end.
    @Test func retryAfterOverAMinuteIsNotCapped() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 103)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                await engine.injectFault(.rateLimited(retryAfter: 61), on: .queryDataSource)
                let process = try RelsyncProcess(
                    ["reconcile", "--config", config, "--log-level", "notice"], environment: scenario.environment)
                let paused = await Reliability.waitUntil(.seconds(60)) {
                    process.stderrSoFar.contains("Notion asked to slow down; pausing all requests")
                }
                #expect(paused, "stderr: \(process.stderrSoFar)")
                #expect(process.stderrSoFar.contains("retry.delay_ms=61000"), "stderr: \(process.stderrSoFar)")
                // Nothing is sent while the pause lasts.
                let before = await engine.journal().totalRequests
                try await Task.sleep(for: .seconds(3))
                #expect(await engine.journal().totalRequests == before, "requests went out during Retry-After")
                process.send(SIGTERM)
                let result = try #require(await process.wait(atMost: .seconds(20)), "SIGTERM did not end the pause")
                #expect(result.status == 143, "stderr: \(result.stderr)")
                #expect(Reliability.lines(result.stderr).last?.hasPrefix("relsync: stopped by SIGTERM") == true, "\(result.stderr)")
                #expect(try await Reliability.lastRun(schema: scenario.schema)?.outcome == "failed")
                let next = try await scenario.reconcile(config)
                #expect(next.status == 0, "stderr: \(next.stderr)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// A storm of 429s (one after another, on the calls that run three at once) slows the run
    /// down; it still finishes exactly, and counts every one.
    @Test func rateLimitStormIsRiddenOut() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 104)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(
                    port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects), notionExtra: "max_attempts: 20")
                await engine.injectFault(.rateLimited(retryAfter: 1), on: .retrievePageProperty, count: 12)
                let run = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                #expect(run.status == 0, "stderr: \(run.stderr)")
                #expect(await engine.journal().injected429 == 12)
                #expect(run.int("rate_limited") == 12)
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// A storm that outlasts every attempt ends the run with exit 69 and one line; the run is
    /// recorded as failed, what was applied is whole, and the next run converges.
    @Test func rateLimitStormPastEveryAttemptExits69() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 105)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(
                    port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects), notionExtra: "max_attempts: 2")
                await engine.injectFault(.rateLimited(retryAfter: 1), on: .retrievePageProperty, count: 1_000)
                let run = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                #expect(run.status == 69, "stderr: \(run.stderr)")
                // Log lines (notice: migrations, retries) come first; the failure is the last line.
                let last = Reliability.lines(run.stderr).last ?? ""
                #expect(last.hasPrefix("relsync: Notion unavailable: Gave up after 2 attempts"), "\(run.stderr)")
                let recorded = try #require(try await Reliability.lastRun(schema: scenario.schema))
                #expect(recorded.outcome == "failed")
                #expect(recorded.error?.contains("Gave up after 2 attempts") == true)
                await engine.clearInjectedFaults()
                let next = try await scenario.reconcile(config)
                #expect(next.status == 0, "stderr: \(next.stderr)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// `public_api_request_blocked`: retrying won't help, so relsync stops at once (one
    /// request), exits 69 with a line that says so, and writes nothing.
    @Test func blockedIntegrationStopsAtOnce() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 106) { $0.blocked = true }
            let run = try await withSimulator(engine) { port in
                try await scenario.reconcile(try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects)))
            }
            #expect(run.status == 69, "stderr: \(run.stderr)")
            #expect(Reliability.lines(run.stderr).count == 1, "\(run.stderr)")
            #expect(run.stderr.contains("Notion blocked the integration's requests (retrying won't help)"), "\(run.stderr)")
            #expect(await engine.journal().blocked429 == 1, "a blocked request was repeated")
            let db = try await Reliability.admin()
            defer { db.close() }
            #expect(try await db.query("SELECT to_regnamespace($1) IS NULL", [db.quoteIdentifier(scenario.schema)]).scalar == "t")
        }
    }

    /// 503 after a write that was in fact saved ("Read the object again instead of repeating
    /// the write"): relsync reads the page back, finds its summary there, and records it;
    /// the write is not repeated.
    @Test func savedWriteAnswered503IsReadBackNotRepeated() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 107)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                await engine.injectFault(.committedWriteUnavailable, on: .updatePage, count: 2)
                let run = try await scenario.reconcile(config)
                #expect(run.status == 0, "stderr: \(run.stderr)")
                let journal = await engine.journal()
                #expect(journal.faults(.committedWrite503) == 2)
                let written = try #require(run.int("summaries_written"))
                #expect(journal.requests(.updatePage) == written, "a saved write was repeated")
                #expect(journal.requests(.retrievePage) == 2, "the two unanswered writes were not read back")
                #expect(run.int("write_failures") == 0)
                #expect((run.json?["warnings"] as? [String])?.isEmpty == true, "\(run.stdout)")
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
                let again = try await scenario.reconcile(config)
                #expect(again.int("summaries_written") == 0)
                #expect(await engine.journal().requests(.updatePage) == written)
            }
        }
    }

    /// A summary write answered 200 with a body cut short: whether it landed is unknown, so the
    /// page is read back (it did land) and the write is not repeated; the run succeeds.
    @Test func writeWithAnUnreadableAnswerIsReadBack() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 112)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                await engine.injectFault(.truncateBody, on: .updatePage, count: 2)
                let run = try await scenario.reconcile(config)
                #expect(run.status == 0, "stderr: \(run.stderr)")
                let journal = await engine.journal()
                #expect(journal.faults(.truncateBody) == 2)
                let written = try #require(run.int("summaries_written"))
                #expect(journal.requests(.updatePage) == written, "a write that landed was repeated")
                #expect(journal.requests(.retrievePage) == 2)
                #expect(run.int("write_failures") == 0)
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// 409 conflict on a write ("Conflict occurred while saving"): the page is read back, the
    /// write was not saved, so it is sent again, and lands.
    @Test func conflictIsReadBackThenRetried() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 108)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                await engine.injectFault(.conflict, on: .updatePage, count: 2)
                let run = try await scenario.reconcile(config)
                #expect(run.status == 0, "stderr: \(run.stderr)")
                let journal = await engine.journal()
                #expect(journal.faults(.conflict409) == 2)
                let written = try #require(run.int("summaries_written"))
                #expect(journal.requests(.updatePage) == written + 2)
                #expect(journal.requests(.retrievePage) == 2, "a conflicted write was not read back")
                #expect(run.int("write_failures") == 0)
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
                let again = try await scenario.reconcile(config)
                #expect(again.int("summaries_written") == 0)
            }
        }
    }

    /// A response slower than `notion.timeout_seconds` is abandoned by the client and the read
    /// repeated; the run converges.
    @Test func responsePastTheClientTimeoutIsRetried() async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 109)
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(
                    port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects), notionExtra: "timeout_seconds: 1")
                await engine.injectFault(.slowResponse(.seconds(4)), on: .queryDataSource)
                await engine.injectFault(.slowResponse(.seconds(4)), on: .retrievePageProperty)
                let run = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                #expect(run.status == 0, "stderr: \(run.stderr)")
                #expect(await engine.journal().faults(.slowResponse) == 2)
                #expect((run.int("retries") ?? 0) >= 2)
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
            }
        }
    }

    /// A page deleted between the query that returned it and its property-item calls: the
    /// call says 404, relsync confirms the page is gone, stores it as trashed and removes its
    /// edges — on a full read and on an incremental one — and the run succeeds.
    @Test(arguments: ["full", "incremental"])
    func pageDeletedMidRunLosesItsEdges(_ mode: String) async throws {
        try await withScenario { scenario in
            let (engine, projects) = await Reliability.engine(scenario, seed: 110)
            let projectsID = UUID(uuidString: projects.id)!
            let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects))
                let first = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                #expect(first.status == 0, "stderr: \(first.stderr)")
                let victim = await Reliability.truncatedPage(engine, projects, minimum: 100)
                #expect(try await StoredEdges.read(schema: scenario.schema).lists[
                    TruthKey(dataSourceID: projectsID, propertyID: team, pageID: victim)] != nil)
                // An edit, so that an incremental read returns the page again.
                try await engine.addRelationTarget(
                    page: victim, property: team, target: await Reliability.spareMember(engine, for: victim, projects))
                await engine.injectFault(.pageDeleted(victim), on: .retrievePageProperty)
                let run = try await scenario.reconcile(
                    config, ["--relations-strategy", "paginate"] + (mode == "full" ? ["--full"] : []))
                #expect(run.status == 0, "stderr: \(run.stderr)")
                #expect(await engine.journal().faults(.pageDeleted) == 1)
                #expect(await engine.journal().responses(status: 404) >= 1)
                try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
                let db = try await Reliability.admin()
                defer { db.close() }
                let trashed = try await db.query(
                    "SELECT in_trash FROM \(db.quoteIdentifier(scenario.schema)).pages WHERE page_id = $1", [victim.uuidString])
                #expect(trashed.scalar == "t")
            }
        }
    }

    /// A relation whose target data source is not shared with the integration: reported as a
    /// warning, not fatal; everything that can be read is, exactly.
    @Test func unsharedTargetIsReportedNotFatal() async throws {
        try await withScenario { scenario in
            var spec = WorkspaceSpec(seed: 111)
            let projects = spec.addDataSource("Projects")
            let members = spec.addDataSource("Members")
            let vendors = spec.addDataSource("Vendors", shared: false)
            let team = spec.addRelation("Team", from: projects, to: members, syncedName: "Projects")
            let suppliers = spec.addRelation("Suppliers", from: projects, to: vendors)
            let memberIDs = spec.addPages(60, to: members) { "Member \($0)" }
            let vendorIDs = spec.addPages(40, to: vendors) { "Vendor \($0)" }
            for index in 0..<12 {
                let page = spec.addPage("Project \(index)", to: projects)
                spec.setRelation(team.property, of: page, to: Array(memberIDs.dropFirst(index).prefix(index * 4)))
                spec.setRelation(suppliers.property, of: page, to: Array(vendorIDs.prefix(index * 3)))
            }
            let engine = SimulatorEngine(workspace: spec, configuration: scenario.simulatorConfiguration)
            let run = try await withSimulator(engine) { port in
                try await scenario.reconcile(try scenario.writeConfig(port: port, sync: "  - data_source: \(projects.id)\n"))
            }
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let warnings = run.json?["warnings"] as? [String] ?? []
            #expect(warnings.contains { $0.contains(vendors.id.uuidString.lowercased()) && $0.contains("not shared") }, "\(warnings)")
            let truth = await engine.groundTruth()
            let stored = try await StoredEdges.read(schema: scenario.schema)
            expectExact(stored, expectedEdges(truth, dataSources: [projects.id]))
            #expect(stored.lists.keys.contains { $0.propertyID == team.property.id })
            #expect(!stored.lists.keys.contains { $0.propertyID == suppliers.property.id })
        }
    }
}
