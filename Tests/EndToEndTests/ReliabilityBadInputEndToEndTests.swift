import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// More bad input (BadInputEndToEndTests has the first cases): one clear line naming the
/// problem, the documented exit code, no secret, and nothing written (docs/RELIABILITY.md).
/// Serialized: its parameterized cases would otherwise start a dozen relsync processes at
/// once, starving timing-sensitive tests elsewhere in the suite on a 2-core machine.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"), .serialized)
struct ReliabilityBadInputEndToEndTests {
    static let password = "pg-Pa55word-bad-input"

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var status: Int32
        var message: String
        var simulator: @Sendable (inout SimulatorConfiguration) -> Void = { _ in }
        /// Builds the arguments from (port, scenario, manifest).
        var arguments: @Sendable (Int, Scenario, SimulatorManifest) throws -> [String]
        var testDescription: String { name }
    }

    /// A config file written verbatim (for keys `Scenario.writeConfig` does not write).
    static func writeRaw(_ scenario: Scenario, port: Int, notion: String = "", postgres: String = "", sync: String) throws -> String {
        let path = scenario.dir.appendingPathComponent("raw.yaml").path
        let yaml = """
            notion:
              token: ${NOTION_TOKEN}
              base_url: http://127.0.0.1:\(port)
            \(notion)
            postgres:
              url: \(E2E.databaseURL)
              schema: \(scenario.schema)
              views_schema: \(scenario.viewsSchema)
            \(postgres)
            sync:
            \(sync)
            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func projectsSync(_ m: SimulatorManifest) -> String {
        "  - data_source: \(m.dataSource(named: PresetNames.projects)!.id)\n"
    }

    static let cases: [Case] = [
        Case(name: "config that is a directory", status: 78, message: "config file cannot be read") { _, scenario, _ in
            ["reconcile", "--config", scenario.dir.path]
        },
        Case(name: "config that is not UTF-8", status: 78, message: "config file cannot be read") { _, scenario, _ in
            let path = scenario.dir.appendingPathComponent("latin1.yaml").path
            try Data([0x6E, 0x6F, 0x74, 0x69, 0x6F, 0x6E, 0x3A, 0x20, 0xE9, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
            return ["reconcile", "--config", path]
        },
        Case(name: "unknown key with a did-you-mean", status: 78, message: "unknown key notion.tokn (did you mean token?)") { port, scenario, m in
            ["reconcile", "--config", try writeRaw(scenario, port: port, notion: "  tokn: x", sync: projectsSync(m))]
        },
        Case(name: "an id that is not a UUID", status: 78, message: "sync[0].data_source \"projects-2f1c\" is not a Notion id") { port, scenario, _ in
            ["reconcile", "--config", try scenario.writeConfig(port: port, sync: "  - data_source: projects-2f1c\n")]
        },
        Case(name: "write-back target that is not rich text", status: 78,
             message: "write_back[0].property \"Team Members\" is a relation property; summaries go into a rich_text") { port, scenario, m in
            let projects = m.dataSource(named: PresetNames.projects)!
            return ["reconcile", "--config", try scenario.writeConfig(port: port, sync: """
                  - data_source: \(projects.id)
                    write_back:
                      - relation: Team Members
                        property: Team Members
                """)]
        },
        Case(name: "write-back target on another data source", status: 78,
             message: "write_back[0].property \"Team Members (all)\" lives on data source \"Projects\" (the relation's target), not on \"Members\"") { port, scenario, m in
            let members = m.dataSource(named: PresetNames.members)!
            return ["reconcile", "--config", try scenario.writeConfig(port: port, sync: """
                  - data_source: \(members.id)
                    relations: [Projects]
                    write_back:
                      - relation: Projects
                        property: Team Members (all)
                """)]
        },
        Case(name: "token that lacks access (403)", status: 77, message: "Notion denied access (403)",
             simulator: { $0.canReadContent = false }) { port, scenario, m in
            ["reconcile", "--config", try scenario.writeConfig(port: port, sync: projectsSync(m))]
        },
        Case(name: "malformed PostgreSQL URL", status: 78, message: "postgres: invalid PostgreSQL URL or connection string") { port, scenario, m in
            ["reconcile", "--config", try scenario.writeConfig(
                port: port, sync: projectsSync(m),
                databaseURL: "postgresql://relsync:\(password)@127.0.0.1/relsync?sslmode=require&no_such_option=1")]
        },
        Case(name: "PostgreSQL URL with an invalid setting", status: 78, message: "postgres: invalid PostgreSQL connection setting") { port, scenario, m in
            ["reconcile", "--config", try scenario.writeConfig(
                port: port, sync: projectsSync(m), databaseURL: "postgresql://relsync:\(password)@127.0.0.1:notaport/relsync")]
        },
        Case(name: "schema name PostgreSQL reserves", status: 78, message: "postgres.schema \"pg_relsync\" is reserved by PostgreSQL") { port, scenario, m in
            ["reconcile", "--config", try writeRaw(scenario, port: port, sync: projectsSync(m))
                .replacingSchema(scenario.schema, with: "pg_relsync")]
        },
        Case(name: "schema name longer than 63 bytes", status: 78, message: "postgres.schema must be 1 to 63 bytes long") { port, scenario, m in
            ["reconcile", "--config", try writeRaw(scenario, port: port, sync: projectsSync(m))
                .replacingSchema(scenario.schema, with: String(repeating: "é", count: 32))]
        },
        Case(name: "plain http to a non-loopback host", status: 78, message: "notion.base_url uses plain http to notion.example.com") { port, scenario, m in
            let path = try scenario.writeConfig(port: port, sync: projectsSync(m))
            try (try String(contentsOfFile: path, encoding: .utf8))
                .replacingOccurrences(of: "http://127.0.0.1:\(port)", with: "http://notion.example.com")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return ["reconcile", "--config", path]
        },
        Case(name: "plain http to a name that only starts with 127.", status: 78, message: "notion.base_url uses plain http to 127.0.0.1.nip.io") { port, scenario, m in
            let path = try scenario.writeConfig(port: port, sync: projectsSync(m))
            try (try String(contentsOfFile: path, encoding: .utf8))
                .replacingOccurrences(of: "http://127.0.0.1:\(port)", with: "http://127.0.0.1.nip.io:\(port)")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return ["reconcile", "--config", path]
        },
    ]

    @Test(arguments: cases)
    func badInput(_ c: Case) async throws {
        try await withScenario { scenario in
            var configuration = scenario.simulatorConfiguration
            c.simulator(&configuration)
            let engine = SimulatorEngine(
                workspace: .demo(seed: 1, DemoParameters(projects: 5, members: 10, tasks: 3, tags: 2, everyoneSize: 5)),
                configuration: configuration)
            let manifest = await engine.manifest()
            let result = try await withSimulator(engine) { port in
                try await runRelsync(try c.arguments(port, scenario, manifest), environment: scenario.environment)
            }
            try await Self.expectRefused(result, status: c.status, message: c.message, scenario: scenario)
        }
    }

    /// A role that may log in and nothing else: relsync cannot create its schemas; one line
    /// saying so and pointing at the documented role, exit 77, nothing written.
    @Test func roleWithoutPrivilegesIsRefusedClearly() async throws {
        try await withScenario { scenario in
            let role = "relsync_noperm_\(UInt32.random(in: 0...UInt32.max))"
            let db = try await Reliability.admin()
            defer { db.close() }
            try await db.execute("CREATE ROLE \(db.quoteIdentifier(role)) LOGIN PASSWORD \(db.quoteLiteral(Self.password))")
            do {
                let engine = SimulatorEngine(
                    workspace: .demo(seed: 1, DemoParameters(projects: 5, members: 10, tasks: 3, tags: 2, everyoneSize: 5)),
                    configuration: scenario.simulatorConfiguration)
                let manifest = await engine.manifest()
                let host = E2E.env["POSTGRES_HOSTNAME"] ?? "127.0.0.1", port = E2E.env["POSTGRES_PORT"] ?? "5432"
                let url = "postgresql://\(role):\(Self.password)@\(host):\(port)/\(E2E.env["POSTGRES_DB"] ?? "relsync_test")"
                let result = try await withSimulator(engine) { simPort in
                    try await scenario.reconcile(try scenario.writeConfig(port: simPort, sync: Self.projectsSync(manifest), databaseURL: url))
                }
                try await Self.expectRefused(result, status: 77, message: "PostgreSQL denied a privilege the role needs (permission denied for database", scenario: scenario)
                #expect(result.stderr.contains("docs/SECURITY.md"))
            } catch {
                try? await db.execute("DROP ROLE \(db.quoteIdentifier(role))")
                throw error
            }
            try await db.execute("DROP ROLE \(db.quoteIdentifier(role))")
        }
    }

    static func expectRefused(
        _ result: RunResult, status: Int32, message: String, scenario: Scenario, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(result.status == status, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        let lines = Reliability.lines(result.stderr)
        #expect(lines.count == 1, "one line, not: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(lines.first?.hasPrefix("relsync: ") == true, sourceLocation: sourceLocation)
        for secret in [scenario.token, password] {
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret), "a secret leaked", sourceLocation: sourceLocation)
        }
        let db = try await Reliability.admin()
        defer { db.close() }
        let schema = try await db.query(
            "SELECT to_regnamespace($1) IS NULL AND to_regnamespace($2) IS NULL",
            [db.quoteIdentifier(scenario.schema), db.quoteIdentifier(scenario.viewsSchema)])
        #expect(schema.scalar == "t", "schema \(scenario.schema) was created", sourceLocation: sourceLocation)
    }
}

extension String {
    /// The config file at this path with its `schema:` value replaced; returns the path.
    fileprivate func replacingSchema(_ old: String, with new: String) throws -> String {
        let text = try String(contentsOfFile: self, encoding: .utf8)
        try text.replacingOccurrences(of: "  schema: \(old)\n", with: "  schema: \(yamlQuote(new))\n")
            .write(toFile: self, atomically: true, encoding: .utf8)
        return self
    }
}
