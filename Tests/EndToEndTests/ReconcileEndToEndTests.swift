import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// The real binary against the simulator and PostgreSQL, compared with the simulator's ground
/// truth exactly: every edge and every position.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct ReconcileEndToEndTests {
    /// Relation sizes 0, 1, 25, 26, 100, 101 and 1,003 on dual and single relations, self
    /// relations, targets in a data source that is not configured, and hostile names.
    @Test func edgeCasesLandExactlyAndASecondRunChangesNothing() async throws {
        try await withScenario { scenario in
            let engine = SimulatorEngine(workspace: .edgeCases(seed: 7), configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let sources = try #require(manifest.dataSource(named: PresetNames.edgeSources))
            let members = try #require(manifest.dataSource(named: PresetNames.edgeMembers))
            let unconfigured = try #require(manifest.dataSource(named: PresetNames.edgeUnconfigured))

            let (first, second) = try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: """
                      - data_source: \(sources.id)
                      - data_source: \(members.id.replacingOccurrences(of: "-", with: ""))
                    """)
                let first = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                let second = try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
                return (first, second)
            }
            #expect(first.status == 0, "stderr: \(first.stderr)")
            #expect(second.status == 0, "stderr: \(second.stderr)")

            let truth = await engine.groundTruth()
            let configured: Set<UUID> = [UUID(uuidString: sources.id)!, UUID(uuidString: members.id)!]
            let stored = try await StoredEdges.read(schema: scenario.schema)
            expectExactWithPositions(stored, expectedEdges(truth, dataSources: configured))
            // Every boundary size is present, so the comparison above covered them.
            let sizes = Set(expectedEdges(truth, dataSources: configured).values.map(\.count))
            for size in [1, 25, 26, 100, 101, 1_003] { #expect(sizes.contains(size), "size \(size)") }

            // The second run changes nothing.
            #expect(second.int("edges_added") == 0)
            #expect(second.int("edges_removed") == 0)
            #expect(second.int("edges_repositioned") == 0)
            #expect(first.int("edges_added") == truth.relations.filter { configured.contains($0.key.dataSourceID) }.values.reduce(0) { $0 + $1.count })

            // Titles of pages in the unconfigured target data source were read, hostile ones intact.
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let titles = try await db.query(
                "SELECT page_id, title FROM \(db.quoteIdentifier(scenario.schema)).pages WHERE data_source_id = $1", [unconfigured.id])
            #expect(titles.count == truth.pages[UUID(uuidString: unconfigured.id)!]?.count)
            for row in titles.rows {
                #expect(row[1] == truth.titles[UUID(uuidString: row[0]!)!])
            }
            let hostileMember = try await db.query(
                "SELECT count(*) FROM \(db.quoteIdentifier(scenario.schema)).pages WHERE title = $1", [#"O'Brien "quoted""#])
            // It titles a member and a source page; both arrive intact.
            #expect(hostileMember.scalar == String(truth.titles.values.filter { $0 == #"O'Brien "quoted""# }.count))
            #expect(hostileMember.scalar == "2")

            // One join view per relation, named safely, holding exactly the relation's edges.
            let relations = try await db.query(
                "SELECT property_id, join_view, property_name FROM \(db.quoteIdentifier(scenario.schema)).relations ORDER BY join_view")
            #expect(relations.count == stored.lists.keys.reduce(into: Set<String>()) { $0.insert("\($1.dataSourceID)/\($1.propertyID)") }.count)
            for row in relations.rows {
                let view = row[1]!
                #expect(view.utf8.count <= 63)
                #expect(view.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }, "\(view)")
                let count = try await db.query("SELECT count(*) FROM \(db.quoteIdentifier(scenario.viewsSchema)).\(db.quoteIdentifier(view))")
                let expected = stored.lists.filter { $0.key.propertyID == row[0]! }.values.reduce(0) { $0 + $1.count }
                #expect(count.scalar == String(expected), "view \(view)")
            }
            #expect(relations.rows.contains { $0[2] == PresetNames.edgeDual })

            // The contract view carries names and positions.
            let view = try await db.query(
                "SELECT count(*), count(position) FROM \(db.quoteIdentifier(scenario.schema)).relation_edges")
            #expect(view.rows[0][0] == view.rows[0][1])
        }
    }

    /// Calls never exceed the forward-pagination optimum: Σ ⌈pages/100⌉ per data source read
    /// + Σ ⌈r/100⌉ over relations Notion truncated.
    @Test func callsStayWithinTheForwardPaginationOptimum() async throws {
        try await withScenario { scenario in
            let engine = SimulatorEngine(
                workspace: .demo(seed: 3, DemoParameters(projects: 150, members: 1_100, tasks: 250, tags: 12)),
                configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let tasks = try #require(manifest.dataSource(named: PresetNames.tasks))

            let result = try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: """
                      - data_source: \(projects.id)
                        relations: [Team Members]
                      - data_source: \(tasks.id)
                    """)
                return try await scenario.reconcile(config, ["--relations-strategy", "paginate"])
            }
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let truth = await engine.groundTruth()
            let journal = await engine.journal()

            // Data sources read: Projects, Tasks, and the targets Members and Tags.
            let read = manifest.dataSources.filter { [PresetNames.projects, PresetNames.tasks, PresetNames.members, PresetNames.tags].contains($0.name) }
            let pageCounts = read.map { truth.pages[UUID(uuidString: $0.id)!]?.count ?? 0 }
            let teamProperty = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id
            let configuredLists = truth.relations.filter { key, _ in
                (key.dataSourceID == UUID(uuidString: projects.id)! && key.propertyID == teamProperty)
                    || key.dataSourceID == UUID(uuidString: tasks.id)!
            }
            let truncated = configuredLists.values.map(\.count).filter { $0 > 25 }
            let optimum = pageCounts.reduce(0) { $0 + max(1, ($1 + 99) / 100) } + truncated.reduce(0) { $0 + ($1 + 99) / 100 }
            let dataCalls = journal.requests(.queryDataSource) + journal.requests(.retrievePageProperty)
            #expect(dataCalls <= optimum, "data calls \(dataCalls) > optimum \(optimum)")
            #expect(result.int("forward_optimum") == optimum)
            #expect(result.int("data_calls") == dataCalls)
            #expect(truncated.contains(1_003))

            let stored = try await StoredEdges.read(schema: scenario.schema)
            expectExact(stored, configuredLists.filter { !$0.value.isEmpty })
        }
    }

    /// 10% 5xx, 10% 429, 2% dropped connections, 1% truncated bodies, some expired cursors:
    /// the run retries its way to the exact ground truth.
    @Test func faultsStillEndInTheExactGroundTruth() async throws {
        try await withScenario { scenario in
            var configuration = scenario.simulatorConfiguration
            configuration.faults = FaultConfiguration(
                serverError: 0.10, rateLimited: 0.10, rateLimitedRetryAfter: 1, dropConnection: 0.02, truncateBody: 0.01,
                cursorInvalidation: 0.03)
            let engine = SimulatorEngine(
                workspace: .demo(seed: 11, DemoParameters(projects: 60, members: 1_050, tasks: 80, tags: 8)),
                configuration: configuration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let tasks = try #require(manifest.dataSource(named: PresetNames.tasks))

            let result = try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: """
                      - data_source: \(projects.id)
                      - data_source: \(tasks.id)
                    """, notionExtra: "max_attempts: 15")
                return try await scenario.reconcile(config)
            }
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let journal = await engine.journal()
            #expect(journal.faults.values.reduce(0, +) > 0, "no fault was injected: the test proves nothing")
            #expect((result.int("retries") ?? 0) > 0)

            let truth = await engine.groundTruth()
            let stored = try await StoredEdges.read(schema: scenario.schema)
            expectExact(stored, expectedEdges(truth, dataSources: [UUID(uuidString: projects.id)!, UUID(uuidString: tasks.id)!]))
        }
    }

    /// Edits in Notion converge in one run: added, removed and reordered targets, a trashed
    /// source page, a renamed property (the view follows, no rows move).
    @Test func changesConvergeInOneRun() async throws {
        try await withScenario { scenario in
            let engine = SimulatorEngine(
                workspace: .demo(seed: 5, DemoParameters(projects: 40, members: 1_050, tasks: 20, tags: 4)),
                configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let projectsID = UUID(uuidString: projects.id)!
            let team = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id

            let (first, second) = try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: "  - data_source: \(projects.id)\n")
                let first = try await scenario.reconcile(config)
                let truth = await engine.groundTruth()
                let pages = truth.pages[projectsID]!
                let withTeams = pages.filter { (truth.relation(projectsID, team, $0)?.count ?? 0) >= 3 }
                let a = withTeams[0], b = withTeams[1], c = withTeams[2]
                let listA = truth.relation(projectsID, team, a)!
                try await engine.removeRelationTarget(page: a, property: team, target: listA[1])
                let listB = truth.relation(projectsID, team, b)!
                try await engine.setRelation(page: b, property: team, targets: listB.reversed())
                let spare = truth.pages[UUID(uuidString: manifest.dataSource(named: PresetNames.members)!.id)!]!
                    .first { !listA.contains($0) }!
                try await engine.addRelationTarget(page: a, property: team, target: spare)
                try await engine.trashPage(c)
                try await engine.renameProperty(dataSource: projectsID, property: team, to: "Crew")
                // A full sweep: it is what notices the trashed page (incremental reads cannot see it).
                let second = try await scenario.reconcile(config, ["--full"])
                return (first, second)
            }
            #expect(first.status == 0, "stderr: \(first.stderr)")
            #expect(second.status == 0, "stderr: \(second.stderr)")
            #expect((second.int("edges_added") ?? 0) >= 1)
            #expect((second.int("edges_removed") ?? 0) >= 2)
            #expect((second.int("edges_repositioned") ?? 0) >= 2)

            let truth = await engine.groundTruth()
            let stored = try await StoredEdges.read(schema: scenario.schema)
            expectExact(stored, expectedEdges(truth, dataSources: [projectsID]))

            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let names = try await db.query(
                "SELECT property_name, join_view FROM \(db.quoteIdentifier(scenario.schema)).relations WHERE property_id = $1", [team])
            #expect(names.rows.first?[0] == "Crew")
            #expect(names.rows.first?[1] == "projects__crew")
            let history = try await db.query(
                "SELECT change, count(*) FROM \(db.quoteIdentifier(scenario.schema)).edge_history GROUP BY change ORDER BY change")
            #expect(history.rows.map { $0[0] ?? "" } == ["added", "removed"])
        }
    }

    /// More rows than one query may return: the walk continues by created_time windows.
    @Test func queryCapIsCrossedByCreatedTimeWindows() async throws {
        try await withScenario { scenario in
            var configuration = scenario.simulatorConfiguration
            configuration.queryResultCap = 150  // the contract's 10,000, scaled down so the test stays small
            let engine = SimulatorEngine(
                workspace: .demo(seed: 9, DemoParameters(projects: 420, members: 1_050, tasks: 10, tags: 2)),
                configuration: configuration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let result = try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: "  - data_source: \(projects.id)\n    relations: [Team Members]\n")
                return try await scenario.reconcile(config)
            }
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let truth = await engine.groundTruth()
            let stored = try await StoredEdges.read(schema: scenario.schema)
            let team = projects.properties.first { $0.name == PresetNames.teamMembers }!.id
            expectExact(stored, expectedEdges(truth, dataSources: [UUID(uuidString: projects.id)!], properties: [team]))
            #expect(result.int("pages_read") == 420 + 1_050)
        }
    }

    /// A client configured faster than the server's budget meets 429 + Retry-After and still
    /// finishes exactly.
    @Test func serverRateLimitIsHonoured() async throws {
        try await withScenario { scenario in
            var configuration = scenario.simulatorConfiguration
            // Two requests per two seconds: the run's opening calls (users/me, the schemas, the first
            // queries) come back to back, so the budget is certainly exceeded, however loaded the machine.
            configuration.rateLimit = .window(requests: 2, seconds: 2)
            let engine = SimulatorEngine(
                workspace: .demo(seed: 13, DemoParameters(projects: 12, members: 60, tasks: 4, tags: 2, everyoneSize: 40, exactSizes: [26])),
                configuration: configuration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let result = try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: "  - data_source: \(projects.id)\n")
                return try await scenario.reconcile(config)
            }
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let journal = await engine.journal()
            #expect(journal.rateLimited > 0, "the budget was never exceeded: the test proves nothing")
            #expect(result.int("rate_limited") == journal.rateLimited)
            let truth = await engine.groundTruth()
            let stored = try await StoredEdges.read(schema: scenario.schema)
            expectExact(stored, expectedEdges(truth, dataSources: [UUID(uuidString: projects.id)!]))
        }
    }

    /// --dry-run reads Notion, reports what would change, and writes nothing.
    @Test func dryRunWritesNothing() async throws {
        try await withScenario { scenario in
            let engine = SimulatorEngine(
                workspace: .demo(seed: 2, DemoParameters(projects: 20, members: 1_050, tasks: 5, tags: 2)),
                configuration: scenario.simulatorConfiguration)
            let projects = try #require(await engine.manifest().dataSource(named: PresetNames.projects))
            let (beforeMigrate, migrate, dry) = try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: "  - data_source: \(projects.id)\n")
                let beforeMigrate = try await scenario.reconcile(config, ["--dry-run"])
                let migrate = try await runRelsync(["migrate", "--config", config], environment: scenario.environment)
                let dry = try await scenario.reconcile(config, ["--dry-run"])
                return (beforeMigrate, migrate, dry)
            }
            #expect(beforeMigrate.status == 1)
            #expect(beforeMigrate.stderr.contains("run relsync migrate first"))
            #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
            #expect(dry.status == 0, "stderr: \(dry.stderr)")
            #expect((dry.int("edges_added") ?? 0) > 1_003)
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            for table in ["edges", "pages", "relations", "runs", "edge_history", "data_sources"] {
                let count = try await db.query("SELECT count(*) FROM \(db.quoteIdentifier(scenario.schema)).\(table)")
                #expect(count.scalar == "0", "\(table) was written by a dry run")
            }
        }
    }
}

/// Dual-relation inference against pagination: the same edges, far fewer calls.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct DualInferenceEndToEndTests {
    /// One full reconcile with `--relations-strategy paginate` into `paginated`'s schema and one
    /// with `auto` into `inferred`'s, against the same simulator; each with its property-item calls.
    static func reconcileBothWays(
        _ engine: SimulatorEngine, sync: String, _ paginated: Scenario, _ inferred: Scenario
    ) async throws -> (RunResult, Int, RunResult, Int) {
        try await withSimulator(engine) { port in
            let configA = try paginated.writeConfig(port: port, sync: sync)
            await engine.resetJournal()
            let a = try await paginated.reconcile(configA, ["--relations-strategy", "paginate"])
            let aCalls = await engine.journal().requests(.retrievePageProperty)
            // The second scenario's token differs: give the simulator's token instead.
            let configB = try inferred.writeConfig(port: port, sync: sync)
            await engine.resetJournal()
            let b = try await runRelsync(
                ["reconcile", "--config", configB, "--json", "--relations-strategy", "auto"],
                environment: ["NOTION_TOKEN": paginated.token])
            let bCalls = await engine.journal().requests(.retrievePageProperty)
            return (a, aCalls, b, bCalls)
        }
    }

    @Test func inferenceAndPaginationStoreTheSameEdges() async throws {
        try await withScenario { paginated in
            try await withScenario { inferred in
                let engine = SimulatorEngine(
                    workspace: .bench(seed: 17, BenchParameters(projects: 400, members: 1_000)),
                    configuration: SimulatorConfiguration(token: paginated.token))
                let manifest = await engine.manifest()
                let projects = try #require(manifest.dataSource(named: PresetNames.projects))
                let projectsID = UUID(uuidString: projects.id)!
                let team = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id
                let sync = "  - data_source: \(projects.id)\n    relations: [Team Members]\n"
                let (a, aCalls, b, bCalls) = try await Self.reconcileBothWays(engine, sync: sync, paginated, inferred)
                #expect(a.status == 0, "\(a.stderr)")
                #expect(b.status == 0, "\(b.stderr)")
                let truth = await engine.groundTruth()
                let expected = expectedEdges(truth, dataSources: [projectsID], properties: [team])
                let storedA = try await StoredEdges.read(schema: paginated.schema)
                let storedB = try await StoredEdges.read(schema: inferred.schema)
                expectExactWithPositions(storedA, expected)
                expectExact(storedB, expected)
                // Identical edge sets; inference kept the first 25 in order and left the rest NULL.
                #expect(storedA.lists.mapValues(Set.init) == storedB.lists.mapValues(Set.init))
                let inferredLists = storedB.positions.values.filter { $0.contains(nil) }
                #expect(!inferredLists.isEmpty, "no relation was inferred: the test proves nothing")
                #expect(inferredLists.allSatisfy { $0.prefix(25) == Array(0..<25).map(Optional.some)[...] })
                let truncated = expected.values.filter { $0.count > 25 }.count
                #expect(aCalls >= truncated)
                #expect(bCalls * 4 < aCalls, "inference made \(bCalls) property-item calls, pagination \(aCalls)")
                print("dual inference: property-item calls \(bCalls) vs \(aCalls) paginated; data calls \(b.int("data_calls") ?? -1) vs \(a.int("data_calls") ?? -1); optimum \(a.int("forward_optimum") ?? -1)")
            }
        }
    }

    /// Both sides of the dual relation configured: the two walks come first, then the side with
    /// fewer long lists is completed by the property-item endpoint and the other is inferred
    /// from it. The same edges, on both sides, as paginating everything.
    @Test func bothSidesConfiguredInferFromTheSideWithFewerLongLists() async throws {
        try await withScenario { paginated in
            try await withScenario { inferred in
                let engine = SimulatorEngine(
                    workspace: .bench(seed: 23, BenchParameters(projects: 300, members: 300)),
                    configuration: SimulatorConfiguration(token: paginated.token))
                let manifest = await engine.manifest()
                let projects = try #require(manifest.dataSource(named: PresetNames.projects))
                let members = try #require(manifest.dataSource(named: PresetNames.members))
                let team = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id
                let back = try #require(members.properties.first { $0.name == PresetNames.memberProjects }).id
                let sync = """
                      - data_source: \(projects.id)
                        relations: [Team Members]
                      - data_source: \(members.id)
                        relations: [Projects]

                    """
                let (a, aCalls, b, bCalls) = try await Self.reconcileBothWays(engine, sync: sync, paginated, inferred)
                #expect(a.status == 0, "\(a.stderr)")
                #expect(b.status == 0, "\(b.stderr)")
                let truth = await engine.groundTruth()
                let expected = expectedEdges(
                    truth, dataSources: [UUID(uuidString: projects.id)!, UUID(uuidString: members.id)!],
                    properties: [team, back])
                let longProjects = expected.filter { $0.key.propertyID == team && $0.value.count > 25 }.count
                let longMembers = expected.filter { $0.key.propertyID == back && $0.value.count > 25 }.count
                #expect(longProjects > 0 && longMembers > 0, "the workspace needs long lists on both sides: \(longProjects), \(longMembers)")
                let storedA = try await StoredEdges.read(schema: paginated.schema)
                let storedB = try await StoredEdges.read(schema: inferred.schema)
                expectExactWithPositions(storedA, expected)
                expectExact(storedB, expected)
                #expect(storedA.lists.mapValues(Set.init) == storedB.lists.mapValues(Set.init))
                #expect(storedB.positions.values.contains { $0.contains(nil) }, "no relation was inferred: the test proves nothing")
                // Only the side with fewer long lists was paginated (its lists are at most a few
                // pages of 100 each); pagination read both sides.
                #expect(aCalls >= longProjects + longMembers)
                #expect(bCalls <= 4 * min(longProjects, longMembers), "auto made \(bCalls) property-item calls for \(longProjects) and \(longMembers) long lists")
                #expect(bCalls < aCalls)
                print("dual inference, both sides configured: property-item calls \(bCalls) vs \(aCalls) paginated (long lists \(longProjects) ↔ \(longMembers)); data calls \(b.int("data_calls") ?? -1) vs \(a.int("data_calls") ?? -1)")
            }
        }
    }
}
