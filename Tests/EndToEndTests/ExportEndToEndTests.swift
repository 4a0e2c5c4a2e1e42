import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// `relsync export` on the edge-case workspace (hostile names and titles, 1,003-long lists):
/// files and manifest, then every CSV and JSON Lines file re-imported with psql's \copy and
/// compared with the tables it came from, row for row.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct ExportEndToEndTests {
    /// Reconciles the edge-case workspace; returns the config path.
    static func reconcile(_ scenario: Scenario) async throws -> (config: String, truth: GroundTruth, sources: SimulatorManifest.DataSource) {
        let engine = SimulatorEngine(workspace: .edgeCases(seed: 7), configuration: scenario.simulatorConfiguration)
        let manifest = await engine.manifest()
        let sources = try #require(manifest.dataSource(named: PresetNames.edgeSources))
        let members = try #require(manifest.dataSource(named: PresetNames.edgeMembers))
        let (config, result) = try await withSimulator(engine) { port in
            let config = try scenario.writeConfig(port: port, sync: "  - data_source: \(sources.id)\n  - data_source: \(members.id)\n")
            return (config, try await scenario.reconcile(config))
        }
        #expect(result.status == 0, "stderr: \(result.stderr)")
        return (config, await engine.groundTruth(), sources)
    }

    static func export(_ scenario: Scenario, _ config: String, _ arguments: [String]) async throws -> RunResult {
        try await runRelsync(["export", "--config", config] + arguments, environment: scenario.environment)
    }

    static func manifest(_ dir: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The relation a file came from, qualified: the join view, pages, or the other tables.
    static func source(_ db: PostgresConnection, _ scenario: Scenario, _ file: [String: Any]) throws -> String {
        let schema = db.quoteIdentifier(scenario.schema)
        switch file["dataset"] as? String {
        case "join_view":
            let relation = try #require(file["relation"] as? [String: Any])
            return "\(db.quoteIdentifier(scenario.viewsSchema)).\(db.quoteIdentifier(try #require(relation["join_view"] as? String)))"
        case "pages": return "\(schema).pages"
        case "relation_catalog": return "\(schema).relation_catalog"
        default:
            return """
                (SELECT h.history_id, h.run_id, h.changed_at, h.change, h.source_data_source_id, h.property_id,
                        r.property_name, h.from_page_id, h.to_page_id, h.position
                 FROM \(schema).edge_history h LEFT JOIN \(schema).relations r USING (source_data_source_id, property_id))
                """
        }
    }

    @Test func csvAndJsonLinesRoundTripThroughPsqlCopy() async throws {
        try await withScenario { scenario in
            let (config, truth, _) = try await Self.reconcile(scenario)
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let schema = db.quoteIdentifier(scenario.schema)

            for format in ["csv", "jsonl"] {
                let dir = scenario.dir.appendingPathComponent("export-\(format)")
                let result = try await Self.export(scenario, config, ["--format", format, "--out", dir.path])
                #expect(result.status == 0, "stderr: \(result.stderr)")
                let manifest = try Self.manifest(dir)
                #expect(manifest["format"] as? String == format)
                #expect(manifest["exported_at"] is String)
                let dataSources = try #require(manifest["data_sources"] as? [[String: Any]])
                #expect(dataSources.filter { $0["configured"] as? Bool == true }.count == 2)
                let files = try #require(manifest["files"] as? [[String: Any]])
                let relations = Int(try await db.query("SELECT count(*) FROM \(schema).relations").scalar ?? "") ?? 0
                #expect(files.count == relations + 3)
                #expect(files.filter { $0["dataset"] as? String == "join_view" }.count == relations)
                let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".partial") }
                #expect(leftovers.isEmpty)

                for (index, file) in files.enumerated() {
                    let path = try #require(file["path"] as? String)
                    let rows = try #require(file["rows"] as? Int)
                    let url = dir.appendingPathComponent(path)
                    let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
                    #expect(size == file["bytes"] as? Int, "\(path)")
                    let source = try Self.source(db, scenario, file)
                    let copy = "\(schema).reimport_\(format)_\(index)"
                    let copyCommand: String
                    let reimported: String
                    if format == "csv" {
                        // Same columns, same types: psql \copy reads the CSV back as PostgreSQL wrote it.
                        try await db.execute("CREATE TABLE \(copy) AS SELECT * FROM \(source) t WITH NO DATA")
                        copyCommand = "\\copy \(copy) FROM '\(url.path)' WITH (FORMAT csv, HEADER true)"
                        reimported = "SELECT * FROM \(copy)"
                    } else {
                        // One JSON document a line, read without COPY's text escapes; then typed back into
                        // the source's row type.
                        try await db.execute("CREATE TABLE \(copy) (doc text)")
                        copyCommand = "\\copy \(copy) FROM '\(url.path)' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
                        try await db.execute("CREATE TEMP TABLE shape_\(index) AS SELECT * FROM \(source) t WITH NO DATA")
                        reimported = "SELECT (jsonb_populate_record(NULL::pg_temp.shape_\(index), doc::jsonb)).* FROM \(copy)"
                    }
                    let psql = try Analytics.psqlCommand(copyCommand)
                    #expect(psql.status == 0, "\(path): \(psql.stderr)")
                    let compared = try await db.query(
                        """
                        SELECT (SELECT count(*) FROM \(copy)),
                               (SELECT count(*) FROM (SELECT * FROM \(source) t EXCEPT ALL \(reimported)) a),
                               (SELECT count(*) FROM (\(reimported) EXCEPT ALL SELECT * FROM \(source) t) b),
                               (SELECT count(*) FROM \(source) t)
                        """)
                    #expect(compared.rows[0] == [String(rows), "0", "0", String(rows)], "\(format) \(path)")
                }

                // The hostile titles arrived exactly (checked against the simulator's truth, not PostgreSQL).
                let pages = dir.appendingPathComponent("pages.\(format)")
                let text = try String(contentsOf: pages, encoding: .utf8)
                if format == "jsonl" {
                    for line in text.split(separator: "\n") {
                        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                        let id = try #require((object["page_id"] as? String).flatMap(UUID.init(uuidString:)))
                        #expect(object["title"] as? String == truth.titles[id], "\(id)")
                    }
                } else {
                    #expect(text.hasPrefix("page_id,data_source_id,title,"))
                    #expect(text.contains(#""O'Brien ""quoted""""#), "RFC 4180: quotes doubled inside a quoted field")
                }
            }
        }
    }

    @Test func oneDatasetToStandardOutputAndChoicesThatCannotWork() async throws {
        try await withScenario { scenario in
            let (config, truth, sources) = try await Self.reconcile(scenario)
            func propertyID(_ name: String) throws -> String { try #require(sources.properties.first { $0.name == name }).id }
            // One join view, by its Notion property name, as JSON Lines on stdout.
            let view = try await Self.export(
                scenario, config, ["--format", "jsonl", "--only", "views", "--relation", PresetNames.edgeDual, "--out", "-"])
            #expect(view.status == 0, "stderr: \(view.stderr)")
            let lines = view.stdout.split(separator: "\n")
            let dualID = try propertyID(PresetNames.edgeDual)
            let dual = truth.relations.filter { $0.key.propertyID == dualID }.values.reduce(0) { $0 + $1.count }
            #expect(lines.count == dual)
            #expect(dual > 1_003)
            #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })

            let pages = try await Self.export(scenario, config, ["--format", "csv", "--only", "pages", "--out", "-"])
            #expect(pages.status == 0, "stderr: \(pages.stderr)")
            #expect(pages.stdout.hasPrefix("page_id,"))

            // Several datasets cannot share standard output.
            let many = try await Self.export(scenario, config, ["--format", "csv", "--out", "-"])
            #expect(many.status == 64)
            #expect(many.stderr.contains("--out - writes one dataset"))
            #expect(many.stdout.isEmpty)
            let unknown = try await Self.export(scenario, config, ["--format", "csv", "--relation", "No such relation", "--out", scenario.dir.path + "/x"])
            #expect(unknown.status == 64)
            #expect(unknown.stderr.contains(#"no relation named "No such relation""#))
            let badFormat = try await Self.export(scenario, config, ["--format", "xml"])
            #expect(badFormat.status == 64)

            // --relation limits the views and the history to that relation.
            let dir = scenario.dir.appendingPathComponent("one")
            let one = try await Self.export(scenario, config, ["--format", "csv", "--relation", PresetNames.edgeOrder, "--out", dir.path, "--json"])
            #expect(one.status == 0, "stderr: \(one.stderr)")
            let manifest = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
            let files = try #require(manifest["files"] as? [[String: Any]])
            #expect(files.compactMap { $0["path"] as? String }.sorted() == [
                "edge_history.csv", "pages.csv", "relation_catalog.csv", "views/edge_sources_drop_table_pages__order.csv",
            ])
            let orderID = try propertyID(PresetNames.edgeOrder)
            let order = truth.relations.filter { $0.key.propertyID == orderID }.values.reduce(0) { $0 + $1.count }
            #expect(files.first { $0["path"] as? String == "edge_history.csv" }?["rows"] as? Int == order)
        }
    }

    @Test func exportBeforeAnyMigrationSaysWhatToDo() async throws {
        try await withScenario { scenario in
            let config = try scenario.writeConfig(port: 9, sync: "  - data_source: \(UUID().uuidString)\n")
            let result = try await Self.export(scenario, config, ["--format", "csv", "--out", scenario.dir.path + "/x"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("run relsync migrate first"))
            #expect(!FileManager.default.fileExists(atPath: scenario.dir.path + "/x/manifest.json"))
        }
    }
}

extension Analytics {
    /// Runs one psql command (e.g. a \copy) against the test database.
    static func psqlCommand(_ command: String) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", E2E.databaseURL, "-c", command]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }
}
