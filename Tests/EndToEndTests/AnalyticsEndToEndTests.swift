import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// The analytics queries in sql/analytics, run against what the real binary materialized from a
/// generated workspace, each compared with numbers computed here from the simulator's ground
/// truth (never from PostgreSQL).
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct AnalyticsEndToEndTests {
    /// One relation of the truth: (data source, property id).
    struct Relation: Hashable {
        var dataSource: UUID
        var property: String
    }

    /// The workspace after a first run, edits, and a second run; with the truth before and after.
    struct Synced {
        var schema: String
        var before: GroundTruth
        var after: GroundTruth
        var configured: Set<UUID>
        /// The data sources relsync read: configured ones and relation targets.
        var read: Set<UUID>
        var firstRun: Int
        var secondRun: Int

        /// Edges of the configured relations: relation → from page → targets in order.
        func edges(_ truth: GroundTruth) -> [Relation: [UUID: [UUID]]] {
            var result: [Relation: [UUID: [UUID]]] = [:]
            for (key, list) in truth.relations where configured.contains(key.dataSourceID) {
                result[Relation(dataSource: key.dataSourceID, property: key.propertyID), default: [:]][key.pageID] = list
            }
            return result
        }
    }

    /// Demo workspace (Projects ↔ Members with a 1,003-member project, Tasks → Projects,
    /// Tasks → Tags); Projects and Tasks configured. Between the runs: targets added and
    /// removed, a list reordered, a task trashed.
    static func sync(_ scenario: Scenario) async throws -> Synced {
        let engine = SimulatorEngine(
            workspace: .demo(seed: 21, DemoParameters(projects: 45, members: 1_040, tasks: 70, tags: 7)),
            configuration: scenario.simulatorConfiguration)
        let manifest = await engine.manifest()
        let projects = try #require(manifest.dataSource(named: PresetNames.projects))
        let tasks = try #require(manifest.dataSource(named: PresetNames.tasks))
        let members = try #require(manifest.dataSource(named: PresetNames.members))
        let tags = try #require(manifest.dataSource(named: PresetNames.tags))
        let projectsID = UUID(uuidString: projects.id)!, tasksID = UUID(uuidString: tasks.id)!
        let team = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id
        let taskProject = try #require(tasks.properties.first { $0.name == PresetNames.taskProject }).id

        let (before, first, second) = try await withSimulator(engine) { port in
            let config = try scenario.writeConfig(port: port, sync: "  - data_source: \(projects.id)\n  - data_source: \(tasks.id)\n")
            let first = try await scenario.reconcile(config)
            let before = await engine.groundTruth()
            let pages = before.pages[projectsID]!
            let teams = pages.filter { (4...25).contains(before.relation(projectsID, team, $0)?.count ?? 0) }
            let listA = before.relation(projectsID, team, teams[0])!
            try await engine.removeRelationTarget(page: teams[0], property: team, target: listA[0])
            try await engine.removeRelationTarget(page: teams[0], property: team, target: listA[2])
            let spare = before.pages[UUID(uuidString: members.id)!]!.filter { !listA.contains($0) }
            try await engine.addRelationTarget(page: teams[0], property: team, target: spare[0])
            try await engine.addRelationTarget(page: teams[1], property: team, target: spare[1])
            try await engine.setRelation(page: teams[2], property: team, targets: before.relation(projectsID, team, teams[2])!.reversed())
            let linkedTask = before.pages[tasksID]!.first { (before.relation(tasksID, taskProject, $0)?.count ?? 0) > 0 }!
            try await engine.trashPage(linkedTask)
            let second = try await scenario.reconcile(config, ["--full"])
            return (before, first, second)
        }
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(second.status == 0, "stderr: \(second.stderr)")
        let after = await engine.groundTruth()
        return Synced(
            schema: scenario.schema, before: before, after: after, configured: [projectsID, tasksID],
            read: [projectsID, tasksID, UUID(uuidString: members.id)!, UUID(uuidString: tags.id)!],
            firstRun: try #require(first.int("run_id")), secondRun: try #require(second.int("run_id")))
    }

    @Test func analyticsQueriesReturnTheGroundTruthsNumbers() async throws {
        try await withScenario { scenario in
            let synced = try await Self.sync(scenario)
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let schema = db.quoteIdentifier(synced.schema)
            let edges = synced.edges(synced.after)

            // Degree distribution: every live source page at its number of links.
            var expectedDegrees: [String: Int] = [:]
            for relation in edges.keys {
                for page in synced.after.pages[relation.dataSource] ?? [] {
                    let degree = edges[relation]?[page]?.count ?? 0
                    expectedDegrees["\(relation.dataSource)|\(relation.property)|\(degree)", default: 0] += 1
                }
            }
            let degrees = try await Analytics.run("degree_distribution.sql", schema: synced.schema, on: db)
            var storedDegrees: [String: Int] = [:]
            for row in degrees.rows {
                let key = "\(UUID(uuidString: row["source_data_source_id"]!)!)|\(row["property_id"]!)|\(row["degree"]!)"
                storedDegrees[key] = Int(row["pages"]!)
            }
            #expect(storedDegrees == expectedDegrees)
            #expect(expectedDegrees.keys.contains { $0.hasSuffix("|1003") }, "the 1,003-member project is in the distribution")

            // Most-linked pages: rank 1 + the number of pages linked more often; top 10 with ties.
            var expectedTop: Set<String> = []
            for (relation, lists) in edges {
                var inDegree: [UUID: Int] = [:]
                for list in lists.values { for target in list { inDegree[target, default: 0] += 1 } }
                for (page, links) in inDegree {
                    let rank = 1 + inDegree.values.filter { $0 > links }.count
                    if rank <= 10 { expectedTop.insert("\(relation.dataSource)|\(relation.property)|\(page)|\(links)|\(rank)") }
                }
            }
            let top = try await Analytics.run("most_linked_pages.sql", schema: synced.schema, on: db)
            let storedTop = Set(top.rows.map {
                "\(UUID(uuidString: $0["source_data_source_id"]!)!)|\($0["property_id"]!)|\(UUID(uuidString: $0["page_id"]!)!)|\($0["links"]!)|\($0["rank"]!)"
            })
            #expect(storedTop == expectedTop)
            #expect(top.rows.contains { $0["title"] == PresetNames.everyone } == false, "projects are not targets of Team Members")

            // Orphans: live pages of every data source read that no edge touches.
            var linked: Set<UUID> = []
            for lists in edges.values {
                for (from, targets) in lists where !targets.isEmpty { linked.insert(from); linked.formUnion(targets) }
            }
            let expectedOrphans = Set(synced.read.flatMap { synced.after.pages[$0] ?? [] }).subtracting(linked)
            let orphans = try await Analytics.run("orphan_pages.sql", schema: synced.schema, on: db)
            #expect(Set(orphans.rows.map { UUID(uuidString: $0["page_id"]!)! }) == expectedOrphans)
            #expect(orphans.count == expectedOrphans.count)
            #expect(!expectedOrphans.isEmpty, "the workspace has orphans, so the query was tested")

            // Lists past 25: the true count beside 25.
            var expectedLong: Set<String> = []
            for (relation, lists) in edges {
                for (page, list) in lists where list.count > 25 {
                    expectedLong.insert("\(relation.dataSource)|\(relation.property)|\(page)|\(list.count)|25|\(list.count - 25)")
                }
            }
            let long = try await Analytics.run("rollup_truncation.sql", schema: synced.schema, on: db)
            let storedLong = Set(long.rows.map {
                "\(UUID(uuidString: $0["source_data_source_id"]!)!)|\($0["property_id"]!)|\(UUID(uuidString: $0["page_id"]!)!)|\($0["true_count"]!)|\($0["capped_count"]!)|\($0["missing"]!)"
            })
            #expect(storedLong == expectedLong)
            #expect(long.rows.first?["true_count"] == "1003", "largest first")
            #expect(long.rows.first?["title"] == PresetNames.everyone)

            // Two-hop: pairs of source pages sharing targets, each pair once (a < b as PostgreSQL orders uuids).
            var expectedPairs: [String: Int] = [:]
            for (relation, lists) in edges {
                var sources: [UUID: [UUID]] = [:]
                for (from, targets) in lists { for target in targets { sources[target, default: []].append(from) } }
                for pages in sources.values {
                    let sorted = pages.sorted { $0.uuidString.lowercased() < $1.uuidString.lowercased() }
                    for i in sorted.indices { for j in sorted.indices where j > i {
                        expectedPairs["\(relation.dataSource)|\(relation.property)|\(sorted[i])|\(sorted[j])", default: 0] += 1
                    } }
                }
            }
            let pairs = try await Analytics.run("two_hop_shared_targets.sql", schema: synced.schema, on: db)
            var storedPairs: [String: Int] = [:]
            for row in pairs.rows {
                let key = "\(UUID(uuidString: row["source_data_source_id"]!)!)|\(row["property_id"]!)|\(UUID(uuidString: row["page_a"]!)!)|\(UUID(uuidString: row["page_b"]!)!)"
                storedPairs[key] = Int(row["shared"]!)
            }
            #expect(storedPairs.count == expectedPairs.count)
            #expect(storedPairs == expectedPairs)
            #expect(pairs.rows.first.flatMap { Int($0["shared"]!) } == expectedPairs.values.max())

            // Edges per day: the first run's history moved to the day before yesterday and the
            // second run's to yesterday (UTC noon), so the days are known whatever the clock says.
            let days = try await db.query(
                """
                SELECT to_char((now() AT TIME ZONE 'UTC')::date - 2, 'YYYY-MM-DD'), to_char((now() AT TIME ZONE 'UTC')::date - 1, 'YYYY-MM-DD')
                """)
            let (day1, day2) = (days.rows[0][0]!, days.rows[0][1]!)
            try await db.execute(
                """
                UPDATE \(schema).edge_history
                SET changed_at = CASE run_id WHEN $1::bigint THEN $3::date ELSE $4::date END + interval '12 hours'
                WHERE run_id IN ($1::bigint, $2::bigint)
                """,
                [String(synced.firstRun), String(synced.secondRun), day1, day2])
            let beforeEdges = synced.edges(synced.before)
            var expectedDaily: [String: [Int]] = [:]
            for (relation, lists) in beforeEdges {
                let count = lists.values.reduce(0) { $0 + $1.count }
                if count > 0 { expectedDaily["\(day1)|\(relation.dataSource)|\(relation.property)"] = [count, 0] }
            }
            for relation in Set(beforeEdges.keys).union(edges.keys) {
                let old = Set((beforeEdges[relation] ?? [:]).flatMap { from, targets in targets.map { "\(from)>\($0)" } })
                let new = Set((edges[relation] ?? [:]).flatMap { from, targets in targets.map { "\(from)>\($0)" } })
                let added = new.subtracting(old).count, removed = old.subtracting(new).count
                if added + removed > 0 { expectedDaily["\(day2)|\(relation.dataSource)|\(relation.property)"] = [added, removed] }
            }
            let daily = try await Analytics.run("edges_per_day.sql", schema: synced.schema, on: db)
            var storedDaily: [String: [Int]] = [:]
            for row in daily.rows {
                storedDaily["\(row["day"]!)|\(UUID(uuidString: row["source_data_source_id"]!)!)|\(row["property_id"]!)"] =
                    [Int(row["added"]!)!, Int(row["removed"]!)!]
                #expect(Int(row["net"]!) == Int(row["added"]!)! - Int(row["removed"]!)!)
            }
            #expect(storedDaily == expectedDaily)
            #expect(expectedDaily.keys.filter { $0.hasPrefix(day2) }.count >= 2, "the second day saw changes in two relations")
        }
    }

    /// The history records exactly the edges each run added and removed, with the run's id.
    @Test func historyRecordsEveryAddAndRemoveOfEachRun() async throws {
        try await withScenario { scenario in
            let synced = try await Self.sync(scenario)
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            func flatten(_ edges: [Relation: [UUID: [UUID]]]) -> Set<String> {
                Set(edges.flatMap { relation, lists in
                    lists.flatMap { from, targets in targets.map { "\(relation.dataSource)|\(relation.property)|\(from)|\($0)" } }
                })
            }
            let before = flatten(synced.edges(synced.before)), after = flatten(synced.edges(synced.after))
            let rows = try await db.query(
                "SELECT run_id, change, source_data_source_id, property_id, from_page_id, to_page_id FROM \(db.quoteIdentifier(synced.schema)).edge_history")
            var history: [String: Set<String>] = [:]
            for row in rows.rows {
                let edge = "\(UUID(uuidString: row[2]!)!)|\(row[3]!)|\(UUID(uuidString: row[4]!)!)|\(UUID(uuidString: row[5]!)!)"
                history["\(row[0]!) \(row[1]!)", default: []].insert(edge)
            }
            #expect(history["\(synced.firstRun) added"] == before)
            #expect(history["\(synced.firstRun) removed"] == nil)
            #expect(history["\(synced.secondRun) added"] == after.subtracting(before))
            #expect(history["\(synced.secondRun) removed"] == before.subtracting(after))
            #expect((history["\(synced.secondRun) added"]?.count ?? 0) >= 2)
            #expect((history["\(synced.secondRun) removed"]?.count ?? 0) >= 3, "two removed targets and the trashed task's link")
            #expect(rows.count == before.count + after.subtracting(before).count + before.subtracting(after).count)
        }
    }

    /// prune-history deletes exactly the rows older than the given age, and --dry-run only counts.
    @Test func pruneHistoryDeletesOnlyWhatIsOlderThanTheAge() async throws {
        try await withScenario { scenario in
            let synced = try await Self.sync(scenario)
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let history = "\(db.quoteIdentifier(synced.schema)).edge_history"
            try await db.execute(
                "UPDATE \(history) SET changed_at = now() - interval '100 days' WHERE run_id = $1", [String(synced.firstRun)])
            let counts = try await db.query(
                "SELECT count(*) FILTER (WHERE run_id = $1), count(*) FILTER (WHERE run_id = $2) FROM \(history)",
                [String(synced.firstRun), String(synced.secondRun)])
            let (old, recent) = (counts.rows[0][0]!, counts.rows[0][1]!)
            let config = scenario.dir.appendingPathComponent("relsync.yaml").path

            let dry = try await runRelsync(["prune-history", "--config", config, "--older-than", "90d", "--dry-run"], environment: scenario.environment)
            #expect(dry.status == 0, "stderr: \(dry.stderr)")
            #expect(dry.stdout == "would delete \(old) edge history rows older than 90d\n")
            #expect(try await db.query("SELECT count(*) FROM \(history)").scalar == String(Int(old)! + Int(recent)!))

            let prune = try await runRelsync(["prune-history", "--config", config, "--older-than", "13w"], environment: scenario.environment)
            #expect(prune.status == 0, "stderr: \(prune.stderr)")
            #expect(prune.stdout == "deleted \(old) edge history rows older than 13w\n")
            #expect(try await db.query("SELECT count(*), min(run_id) FROM \(history)").rows[0] == [recent, String(synced.secondRun)])
            // Edges are untouched.
            let stored = try await StoredEdges.read(schema: synced.schema)
            expectExact(stored, expectedEdges(synced.after, dataSources: synced.configured))

            let bad = try await runRelsync(["prune-history", "--config", config, "--older-than", "ninety days"], environment: scenario.environment)
            #expect(bad.status == 64)
            #expect(bad.stderr.contains("is not a duration"))
        }
    }

    /// Every analytics file runs as the README says: psql, search_path, -f.
    @Test func everyAnalyticsFileRunsInPsqlAsDocumented() async throws {
        try await withScenario { scenario in
            _ = try await Self.sync(scenario)
            let files = try FileManager.default.contentsOfDirectory(atPath: Analytics.directory.path).filter { $0.hasSuffix(".sql") }.sorted()
            #expect(files.count == 6)
            for file in files {
                let text = try String(contentsOf: Analytics.directory.appendingPathComponent(file), encoding: .utf8)
                #expect(text.hasPrefix("-- "), "\(file) starts with a comment saying what it answers")
                #expect(text.contains("psql \"$DATABASE_URL\" -c 'SET search_path TO relsync' -f sql/analytics/\(file)"), "\(file) shows how to run it")
                let result = try Analytics.psql(file: file, schema: scenario.schema)
                #expect(result.status == 0, "\(file): \(result.stderr)")
                #expect(result.stdout.split(separator: "\n").count >= 2, "\(file) returned rows")
            }
        }
    }
}

/// Runs the files of sql/analytics.
enum Analytics {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sql/analytics")

    /// Runs one file's query with `search_path` set to `schema`; rows by column name.
    static func run(_ file: String, schema: String, on db: PostgresConnection) async throws -> (rows: [[String: String]], count: Int) {
        let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        try await db.execute("SET search_path TO \(db.quoteIdentifier(schema))")
        let result = try await db.query(sql)
        let rows = result.rows.map { row in
            Dictionary(uniqueKeysWithValues: zip(result.columns, row).compactMap { column, value in value.map { (column, $0) } })
        }
        return (rows, rows.count)
    }

    /// `psql URL -c 'SET search_path TO <schema>' -f <file>` with CSV output.
    static func psql(file: String, schema: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let quoted = "\"" + schema.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        process.arguments = [
            "psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", E2E.databaseURL,
            "-c", "SET search_path TO \(quoted)", "-f", directory.appendingPathComponent(file).path,
        ]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
