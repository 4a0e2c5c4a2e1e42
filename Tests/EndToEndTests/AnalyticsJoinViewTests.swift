import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// The join views analysts read: named from Notion's names, columns that say which side is
/// which, comments in Notion's words, a catalog, and renames in Notion that rename and never
/// lose or duplicate.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct AnalyticsJoinViewTests {
    struct Workspace {
        var engine: SimulatorEngine
        var projects: SimulatorManifest.DataSource
        var tasks: SimulatorManifest.DataSource
        var team: String
        var taskProject: String
    }

    static func demo(_ scenario: Scenario) async throws -> Workspace {
        let engine = SimulatorEngine(
            workspace: .demo(seed: 31, DemoParameters(projects: 30, members: 1_030, tasks: 40, tags: 5)),
            configuration: scenario.simulatorConfiguration)
        let manifest = await engine.manifest()
        let projects = try #require(manifest.dataSource(named: PresetNames.projects))
        let tasks = try #require(manifest.dataSource(named: PresetNames.tasks))
        return Workspace(
            engine: engine, projects: projects, tasks: tasks,
            team: try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id,
            taskProject: try #require(tasks.properties.first { $0.name == PresetNames.taskProject }).id)
    }

    static func config(_ scenario: Scenario, _ workspace: Workspace, port: Int) throws -> String {
        try scenario.writeConfig(port: port, sync: "  - data_source: \(workspace.projects.id)\n  - data_source: \(workspace.tasks.id)\n")
    }

    /// Columns of a view in the scenario's views schema; empty when it does not exist.
    static func columns(_ db: PostgresConnection, _ scenario: Scenario, _ view: String) async throws -> [String] {
        let name = "\(db.quoteIdentifier(scenario.viewsSchema)).\(db.quoteIdentifier(view))"
        guard try await db.query("SELECT to_regclass($1) IS NOT NULL", [name]).scalar == "t" else { return [] }
        return try await db.query("SELECT * FROM \(name) LIMIT 0").columns
    }

    static func count(_ db: PostgresConnection, _ scenario: Scenario, _ view: String) async throws -> Int {
        let name = "\(db.quoteIdentifier(scenario.viewsSchema)).\(db.quoteIdentifier(view))"
        return Int(try await db.query("SELECT count(*) FROM \(name)").scalar ?? "") ?? -1
    }

    static func truthCount(_ truth: GroundTruth, _ dataSource: String, _ property: String) -> Int {
        truth.relations.filter { $0.key.dataSourceID == UUID(uuidString: dataSource)! && $0.key.propertyID == property }
            .values.reduce(0) { $0 + $1.count }
    }

    /// Needs the reconciler to name columns with JoinViewNaming.columns (the lead's wiring).
    @Test func joinViewColumnsSayWhichSideIsWhich() async throws {
        try await withScenario { scenario in
            let workspace = try await Self.demo(scenario)
            let result = try await withSimulator(workspace.engine) { port in
                try await scenario.reconcile(try Self.config(scenario, workspace, port: port))
            }
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            #expect(try await Self.columns(db, scenario, "projects__team_members") == ["project_page_id", "member_page_id", "position"])
            #expect(try await Self.columns(db, scenario, "tasks__project") == ["task_page_id", "project_page_id", "position"])
            #expect(try await Self.columns(db, scenario, "tasks__tags") == ["task_page_id", "tag_page_id", "position"])

            // The catalog records them, with the Notion names, ids, target and kind.
            let catalog = try await db.query(
                """
                SELECT join_view, from_column, to_column, source_data_source_name, property_name, target_data_source_name, kind,
                       join_view_schema, property_id
                FROM \(db.quoteIdentifier(scenario.schema)).relation_catalog ORDER BY join_view
                """)
            #expect(catalog.rows.map { $0[0] ?? "" } == ["projects__team_members", "tasks__project", "tasks__tags"])
            #expect(catalog.rows[0] == [
                "projects__team_members", "project_page_id", "member_page_id", "Projects", "Team Members", "Members", "dual",
                scenario.viewsSchema, workspace.team,
            ])
            #expect(catalog.rows[1][1...6] == ["task_page_id", "project_page_id", "Tasks", "Project", "Projects", "single"])

            // Comments on the columns carry the Notion names.
            let comment = try await db.query(
                "SELECT col_description(to_regclass($1), 1), col_description(to_regclass($1), 2)",
                ["\(db.quoteIdentifier(scenario.viewsSchema)).projects__team_members"])
            #expect(comment.rows[0][0]?.contains(#"data source "Projects""#) == true)
            #expect(comment.rows[0][1]?.contains(#"data source "Members""#) == true)
        }
    }

    /// Self-relations get from_/to_ columns; a target not shared gives target_page_id. Needs
    /// the lead's wiring, like the test above.
    @Test func selfRelationsAndUnsharedTargetsGetDistinctColumns() async throws {
        try await withScenario { scenario in
            let engine = SimulatorEngine(workspace: .edgeCases(seed: 7), configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let sources = try #require(manifest.dataSource(named: PresetNames.edgeSources))
            let result = try await withSimulator(engine) { port in
                try await scenario.reconcile(try scenario.writeConfig(port: port, sync: "  - data_source: \(sources.id)\n"))
            }
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let rows = try await db.query(
                "SELECT property_name, join_view, from_column, to_column FROM \(db.quoteIdentifier(scenario.schema)).relation_catalog")
            let byName = Dictionary(uniqueKeysWithValues: rows.rows.map { ($0[0]!, $0) })
            // `Edge "Sources"; DROP TABLE pages; --` → edge_sources_drop_table_pages → …_page.
            #expect(byName[PresetNames.edgeParent]?[2] == "from_edge_sources_drop_table_page_page_id")
            #expect(byName[PresetNames.edgeParent]?[3] == "to_edge_sources_drop_table_page_page_id")
            #expect(byName[PresetNames.edgeDual]?[3] == "order_members_back_slash_page_id")
            for row in rows.rows {
                let columns = try await Self.columns(db, scenario, row[1]!)
                #expect(columns == [row[2]!, row[3]!, "position"], "\(row[0]!)")
                #expect(columns.allSatisfy { $0.utf8.count <= 63 })
            }
        }
    }

    /// Renaming a property and then a data source in Notion renames the views; the rows stay,
    /// once each, and a view an analyst built on a join view keeps working.
    @Test func propertyAndDataSourceRenamesRenameViewsWithoutLosingRows() async throws {
        try await withScenario { scenario in
            let workspace = try await Self.demo(scenario)
            let projectsID = UUID(uuidString: workspace.projects.id)!
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let views = db.quoteIdentifier(scenario.viewsSchema)
            let (first, second, third, truth) = try await withSimulator(workspace.engine) { port in
                let config = try Self.config(scenario, workspace, port: port)
                let first = try await scenario.reconcile(config)
                // An analyst's view over the join view, by position (column names may follow later renames).
                try await db.execute("CREATE VIEW \(views).analyst_team_sizes AS SELECT count(*) AS edges FROM \(views).projects__team_members")
                try await workspace.engine.renameProperty(dataSource: projectsID, property: workspace.team, to: "Crew")
                let second = try await scenario.reconcile(config, ["--full"])
                try await workspace.engine.renameDataSource(projectsID, to: "Portfolio")
                let third = try await scenario.reconcile(config, ["--full"])
                return (first, second, third, await workspace.engine.groundTruth())
            }
            for run in [first, second, third] { #expect(run.status == 0, "stderr: \(run.stderr)") }
            #expect(second.int("edges_added") == 0, "a rename adds nothing")
            #expect(second.int("edges_removed") == 0, "a rename removes nothing")
            #expect(third.int("edges_added") == 0)
            #expect(third.int("edges_removed") == 0)

            let teamEdges = Self.truthCount(truth, workspace.projects.id, workspace.team)
            let taskEdges = Self.truthCount(truth, workspace.tasks.id, workspace.taskProject)
            #expect(teamEdges > 1_003)
            // The views now carry the new names; the old ones are gone.
            #expect(try await Self.columns(db, scenario, "projects__team_members").isEmpty)
            #expect(try await Self.columns(db, scenario, "projects__crew").isEmpty)
            #expect(try await Self.count(db, scenario, "portfolio__crew") == teamEdges)
            #expect(try await Self.count(db, scenario, "tasks__project") == taskEdges)
            #expect(try await db.query("SELECT edges::text FROM \(views).analyst_team_sizes").scalar == String(teamEdges))
            // No duplicates, nothing lost: the edges table holds the truth exactly.
            let stored = try await StoredEdges.read(schema: scenario.schema)
            expectExact(stored, expectedEdges(truth, dataSources: [projectsID, UUID(uuidString: workspace.tasks.id)!]))

            let catalog = try await db.query(
                "SELECT source_data_source_name, property_name, join_view FROM \(db.quoteIdentifier(scenario.schema)).relation_catalog WHERE property_id = $1",
                [workspace.team])
            #expect(catalog.rows.first == ["Portfolio", "Crew", "portfolio__crew"])
            let comment = try await db.query("SELECT obj_description(to_regclass($1), 'pg_class')", ["\(views).portfolio__crew"])
            #expect(comment.scalar?.contains(#"Notion relation "Crew""#) == true)
            #expect(comment.scalar?.contains(#"of data source "Portfolio""#) == true)
            // The history saw no change from the renames.
            let history = try await db.query(
                "SELECT count(*) FROM \(db.quoteIdentifier(scenario.schema)).edge_history WHERE run_id <> $1", [String(first.int("run_id") ?? 0)])
            #expect(history.scalar == "0")
        }
    }

    /// After the data source is renamed, the columns that name it follow (renamed in place).
    /// Needs the lead's wiring of JoinViewNaming.columns.
    @Test func columnsFollowADataSourceRename() async throws {
        try await withScenario { scenario in
            let workspace = try await Self.demo(scenario)
            let projectsID = UUID(uuidString: workspace.projects.id)!
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let views = db.quoteIdentifier(scenario.viewsSchema)
            let (first, second) = try await withSimulator(workspace.engine) { port in
                let config = try Self.config(scenario, workspace, port: port)
                let first = try await scenario.reconcile(config)
                try await db.execute(
                    "CREATE VIEW \(views).analyst_tasks AS SELECT project_page_id AS p, count(*) AS n FROM \(views).tasks__project GROUP BY 1")
                try await workspace.engine.renameDataSource(projectsID, to: "Portfolio")
                let second = try await scenario.reconcile(config, ["--full"])
                return (first, second)
            }
            #expect(first.status == 0, "stderr: \(first.stderr)")
            #expect(second.status == 0, "stderr: \(second.stderr)")
            #expect(try await Self.columns(db, scenario, "portfolio__team_members") == ["portfolio_page_id", "member_page_id", "position"])
            #expect(try await Self.columns(db, scenario, "tasks__project") == ["task_page_id", "portfolio_page_id", "position"])
            let truth = await workspace.engine.groundTruth()
            let taskEdges = Self.truthCount(truth, workspace.tasks.id, workspace.taskProject)
            #expect(try await db.query("SELECT sum(n)::text FROM \(views).analyst_tasks").scalar == String(taskEdges))
        }
    }
}
