import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// Bad input gets one clear line, its documented exit code, and nothing written.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct BadInputEndToEndTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var status: Int32
        var message: String
        /// Builds the arguments from (port, scenario, manifest).
        var arguments: @Sendable (Int, Scenario, SimulatorManifest) throws -> [String]
        var environment: @Sendable (Scenario) -> [String: String] = { $0.environment }
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "missing config", status: 78, message: "config file not found") { _, scenario, _ in
            ["reconcile", "--config", scenario.dir.appendingPathComponent("nope.yaml").path]
        },
        Case(name: "malformed config", status: 78, message: "not valid YAML") { _, scenario, _ in
            let path = scenario.dir.appendingPathComponent("bad.yaml").path
            try "notion: [token\nsync: {".write(toFile: path, atomically: true, encoding: .utf8)
            return ["reconcile", "--config", path]
        },
        Case(name: "unset variable", status: 78, message: "${NOTION_TOKEN}, which is not set") { port, scenario, m in
            ["reconcile", "--config", try scenario.writeConfig(port: port, sync: "  - data_source: \(m.dataSources[0].id)\n")]
        } environment: { _ in [:] },
        Case(name: "unknown data source", status: 77, message: "no data source 0123") { port, scenario, _ in
            ["reconcile", "--config", try scenario.writeConfig(port: port, sync: "  - data_source: 01234567-89ab-4def-8123-456789abcdef\n")]
        },
        Case(name: "database id as data source", status: 78, message: "is a database") { port, scenario, m in
            ["reconcile", "--config", try scenario.writeConfig(port: port, sync: "  - data_source: \(m.databases[0].id)\n")]
        },
        Case(name: "data source id as database", status: 78, message: "is a data source") { port, scenario, m in
            ["reconcile", "--config", try scenario.writeConfig(port: port, sync: "  - database: \(m.dataSources[0].id)\n")]
        },
        Case(name: "token Notion refuses", status: 77, message: "Notion refused the token (401") { port, scenario, m in
            ["reconcile", "--config", try scenario.writeConfig(port: port, sync: "  - data_source: \(m.dataSources[0].id)\n")]
        } environment: { _ in ["NOTION_TOKEN": "ntn_wrong_token_value_123"] },
        Case(name: "property that is not a relation", status: 78, message: "is a rich_text property, not a relation") { port, scenario, m in
            let projects = m.dataSource(named: PresetNames.projects)!
            return ["reconcile", "--config", try scenario.writeConfig(port: port, sync: "  - data_source: \(projects.id)\n    relations: [\"Team Members (all)\"]\n")]
        },
        Case(name: "relation that does not exist", status: 78, message: "has no property \"Nope\"") { port, scenario, m in
            let projects = m.dataSource(named: PresetNames.projects)!
            return ["reconcile", "--config", try scenario.writeConfig(port: port, sync: "  - data_source: \(projects.id)\n    relations: [Nope]\n")]
        },
        Case(name: "unreachable PostgreSQL", status: 69, message: "PostgreSQL unavailable") { port, scenario, m in
            ["reconcile", "--config", try scenario.writeConfig(
                port: port, sync: "  - data_source: \(m.dataSources[0].id)\n",
                databaseURL: "postgresql://relsync:pg-Pa55word@127.0.0.1:1/relsync?connect_timeout=2")]
        },
        Case(name: "unknown flag", status: 64, message: "Unknown option '--bogus'") { _, _, _ in
            ["reconcile", "--config", "x.yaml", "--bogus"]
        },
    ]

    @Test(arguments: cases)
    func badInput(_ c: Case) async throws {
        try await withScenario { scenario in
            let engine = SimulatorEngine(
                workspace: .demo(seed: 1, DemoParameters(projects: 5, members: 10, tasks: 3, tags: 2, everyoneSize: 5)),
                configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let result = try await withSimulator(engine) { port in
                try await runRelsync(try c.arguments(port, scenario, manifest), environment: c.environment(scenario))
            }
            #expect(result.status == c.status, "stderr: \(result.stderr)")
            #expect(result.stderr.contains(c.message), "stderr: \(result.stderr)")
            if c.status != 64 {
                let lines = result.stderr.split(separator: "\n")
                #expect(lines.count == 1, "one line, not: \(result.stderr)")
                #expect(lines.first?.hasPrefix("relsync: ") == true)
            }
            // Secrets never appear.
            for secret in [scenario.token, "ntn_wrong_token_value_123", "pg-Pa55word"] {
                #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret))
            }
            // Nothing was written: the schema does not even exist.
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let schema = try await db.query("SELECT to_regnamespace($1) IS NULL", [db.quoteIdentifier(scenario.schema)])
            #expect(schema.scalar == "t", "schema \(scenario.schema) was created")
        }
    }
}
