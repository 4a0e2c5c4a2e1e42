import Foundation
import Glibc
import NotionSimulator
import PostgresStore
import ReconcilerCore
import Testing

/// Secrets, hostile names, TLS and the least-privilege role (docs/SECURITY.md).
/// Serialized, to keep the load it adds to the parallel suite modest on a 2-core machine.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"), .serialized)
struct SecurityEndToEndTests {
    static var host: String { E2E.env["POSTGRES_HOSTNAME"] ?? "127.0.0.1" }
    static var port: String { E2E.env["POSTGRES_PORT"] ?? "5432" }
    static var database: String { E2E.env["POSTGRES_DB"] ?? "relsync_test" }

    /// The Notion token and the database password never appear in stdout, stderr (at trace
    /// level), `--json`, the metrics file, the process title and command line, PostgreSQL's
    /// view of the session, or the runs table — on success, on a dry run, and on failures.
    @Test func secretsNeverAppearInAnyOutput() async throws {
        try await withScenario { scenario in
            let password = "pw-\(UInt64.random(in: 0...UInt64.max))-secret"
            // The test cluster trusts loopback logins, so any password is accepted: it still
            // travels through the config, libpq and every error path.
            let url = "postgresql://postgres:\(password)@\(Self.host):\(Self.port)/\(Self.database)"
            let secrets = [scenario.token, password]
            let (engine, projects) = await Reliability.engine(scenario, seed: 401) { $0.latency = .milliseconds(25) }
            var outputs = try await withSimulator(engine) { simPort -> [(String, String)] in
                var outputs: [(String, String)] = []
                let config = try scenario.writeConfig(
                    port: simPort, sync: CrashSafetyEndToEndTests.syncYAML(projects), notionExtra: "max_attempts: 2",
                    databaseURL: url)
                let metrics = scenario.dir.appendingPathComponent("ok.prom").path
                let application = Reliability.uniqueApplicationName()
                var environment = scenario.environment
                environment["PGAPPNAME"] = application
                let process = try RelsyncProcess(
                    ["reconcile", "--config", config, "--json", "--log-level", "trace", "--metrics-file", metrics,
                     "--relations-strategy", "paginate"],
                    environment: environment)
                // While it runs: what `ps` and PostgreSQL show of it.
                let pid = process.process.processIdentifier
                _ = await Reliability.waitUntil(.seconds(30)) { await engine.journal().requests(.retrievePageProperty) > 0 }
                for file in ["cmdline", "comm"] {
                    let text = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/\(file)")))
                        .map { String(decoding: $0, as: UTF8.self) } ?? ""
                    #expect(text.contains("relsync") || file == "cmdline" && text.contains("reconcile"), "\(file): \(text)")
                    outputs.append(("/proc/\(pid)/\(file)", text))
                }
                let db = try await Reliability.admin()
                let sessions = try await db.query(
                    "SELECT coalesce(application_name, '') || ' ' || coalesce(query, '') FROM pg_stat_activity WHERE application_name = $1",
                    [application])
                db.close()
                #expect(sessions.count >= 1, "relsync's session was not seen")
                outputs.append(("pg_stat_activity", sessions.rows.map { $0[0] ?? "" }.joined(separator: "\n")))
                let ok = await process.wait()
                #expect(ok.status == 0, "stderr: \(ok.stderr.suffix(2_000))")
                #expect(ok.stderr.contains("Notion request finished"), "trace logging was not on")
                outputs += [("stdout (success)", ok.stdout), ("stderr (success)", ok.stderr),
                            ("metrics (success)", try String(contentsOfFile: metrics, encoding: .utf8))]

                let dry = try await scenario.reconcile(config, ["--dry-run", "--log-level", "trace"])
                #expect(dry.status == 0, "stderr: \(dry.stderr.suffix(2_000))")
                outputs += [("stdout (dry run)", dry.stdout), ("stderr (dry run)", dry.stderr)]

                // Failures: Notion unavailable after retries, mid-run, and PostgreSQL refusing a statement.
                await engine.updateConfiguration { $0.latency = .zero }
                await engine.injectFault(.serverError(503), on: .queryDataSource, count: 1_000)
                let failedMetrics = scenario.dir.appendingPathComponent("failed.prom").path
                let failed = try await scenario.reconcile(config, ["--full", "--log-level", "trace", "--metrics-file", failedMetrics])
                await engine.clearInjectedFaults()
                #expect(failed.status == 69, "stderr: \(failed.stderr.suffix(2_000))")
                outputs += [("stdout (failure)", failed.stdout), ("stderr (failure)", failed.stderr),
                            ("metrics (failure)", try String(contentsOfFile: failedMetrics, encoding: .utf8))]
                let badToken = try await runRelsync(
                    ["reconcile", "--config", config, "--log-level", "trace"], environment: ["NOTION_TOKEN": scenario.token + "x"])
                #expect(badToken.status == 77)
                outputs += [("stderr (refused token)", badToken.stderr)]
                let unreachable = try scenario.writeConfig(
                    port: simPort, sync: CrashSafetyEndToEndTests.syncYAML(projects),
                    databaseURL: "postgresql://postgres:\(password)@127.0.0.1:1/\(Self.database)?connect_timeout=2")
                let noDatabase = try await scenario.reconcile(unreachable, ["--log-level", "trace"])
                #expect(noDatabase.status == 69)
                outputs += [("stderr (PostgreSQL unreachable)", noDatabase.stderr)]
                return outputs
            }
            let db = try await Reliability.admin()
            defer { db.close() }
            let runs = try await db.query(
                "SELECT row_to_json(r)::text FROM \(db.quoteIdentifier(scenario.schema)).runs r ORDER BY run_id")
            #expect(runs.count >= 2)
            #expect(runs.rows.contains { $0[0]?.contains("\"failed\"") == true }, "no failed run was recorded")
            outputs.append(("runs table", runs.rows.map { $0[0] ?? "" }.joined(separator: "\n")))
            for (name, text) in outputs {
                for secret in secrets {
                    #expect(!text.contains(secret), "a secret appears in \(name)")
                }
            }
        }
    }

    /// Data-source and property names with quotes, semicolons, backslashes, unicode and more
    /// than 63 bytes, in schemas whose names need quoting too, go through the whole pipeline:
    /// exact edges, names stored verbatim, join views slugged and quoted, summaries written,
    /// and nothing outside relsync's two schemas touched.
    @Test func hostileNamesGoThroughThePipeline() async throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        let canary = "canary_\(tag)"
        let schema = #"rel"sync; DROP SCHEMA public; -- \#(tag)"#
        let views = #"Views ✓ \ "v"; \#(tag)"#
        let scenario = try Scenario()
        var spec = WorkspaceSpec(seed: 402)
        let sourceName = #"Projects"; DROP TABLE \#(canary); -- \ 'ünï' ✓ and a name far longer than sixty-three bytes"#
        let targetName = #"Mémbers' ; \"x\" \\ 👥"#
        let relationName = #"Team "Members"; DELETE FROM pages; -- \ and then some more words to pass 63 bytes"#
        let backName = #"Back'; \ ↩︎ "quoted""#
        let unicodeName = "ユーザー 👥"
        let summaryName = #"Summary "all"; \ --"#
        let projects = spec.addDataSource(sourceName)
        let members = spec.addDataSource(targetName)
        let team = spec.addRelation(relationName, from: projects, to: members, syncedName: backName)
        let kana = spec.addRelation(unicodeName, from: projects, to: members)
        let summary = spec.addProperty(summaryName, type: .richText, to: projects)
        let memberIDs = spec.addPages(80, to: members) { index in
            [#"O'Brien "q""#, "semi;colon", #"back\slash"#, "🎉", "", "select 1;"][index % 6] + " \(index)"
        }
        for index in 0..<15 {
            let page = spec.addPage(#"Page '\#(index)'; --"#, to: projects)
            spec.setRelation(team.property, of: page, to: Array(memberIDs.dropFirst(index).prefix(index * 4)))
            spec.setRelation(kana.property, of: page, to: Array(memberIDs.suffix(index * 2)))
        }
        #expect(sourceName.utf8.count > 63 && relationName.utf8.count > 63)
        let engine = SimulatorEngine(workspace: spec, configuration: scenario.simulatorConfiguration)

        let db = try await Reliability.admin()
        defer { db.close() }
        try await db.execute("CREATE TABLE public.\(db.quoteIdentifier(canary)) (x int)")
        do {
            let (first, second) = try await withSimulator(engine) { port in
                let path = scenario.dir.appendingPathComponent("hostile.yaml").path
                try """
                    notion:
                      token: ${NOTION_TOKEN}
                      base_url: http://127.0.0.1:\(port)
                    postgres:
                      url: \(E2E.databaseURL)
                      schema: \(yamlQuote(schema))
                      views_schema: \(yamlQuote(views))
                    sync:
                      - data_source: \(projects.id)
                        write_back:
                          - relation: \(yamlQuote(relationName))
                            property: \(yamlQuote(summaryName))
                    """.write(toFile: path, atomically: true, encoding: .utf8)
                return (try await scenario.reconcile(path), try await scenario.reconcile(path))
            }
            #expect(first.status == 0, "stderr: \(first.stderr)")
            #expect(second.status == 0, "stderr: \(second.stderr)")
            #expect(second.int("edges_added") == 0 && second.int("edges_removed") == 0 && second.int("summaries_written") == 0)

            let truth = await engine.groundTruth()
            expectExact(try await StoredEdges.read(schema: schema), expectedEdges(truth, dataSources: [projects.id]))
            await WriteBackEndToEndTests.expectSummaries(
                engine, schema: schema, dataSource: projects.id, relation: team.property.id, property: summary.id, format: .names)

            let s = db.quoteIdentifier(schema)
            #expect(try await db.query("SELECT to_regclass($1) IS NOT NULL", ["public." + db.quoteIdentifier(canary)]).scalar == "t",
                    "the canary table is gone")
            let names = try await db.query("SELECT name FROM \(s).data_sources ORDER BY name")
            #expect(Set(names.rows.compactMap { $0[0] }) == [sourceName, targetName])
            let relations = try await db.query(
                "SELECT property_name, synced_property_name, join_view, from_column, to_column FROM \(s).relations ORDER BY property_name")
            #expect(Set(relations.rows.compactMap { $0[0] }) == [relationName, unicodeName])
            #expect(relations.rows.contains { $0[1] == backName })
            for row in relations.rows {
                for identifier in [row[2], row[3], row[4]].compactMap({ $0 }) {
                    #expect(identifier.utf8.count <= 63 && !identifier.isEmpty, "\(identifier)")
                    #expect(identifier.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }, "\(identifier)")
                }
                let view = "\(db.quoteIdentifier(views)).\(db.quoteIdentifier(row[2]!))"
                let count = try await db.query("SELECT count(*) FROM \(view)")
                let property = row[0] == relationName ? team.property.id : kana.property.id
                let expected = truth.relations.filter { $0.key.propertyID == property }.values.reduce(0) { $0 + $1.count }
                #expect(count.scalar == String(expected), "view \(view)")
                let comment = try await db.query("SELECT obj_description(to_regclass($1), 'pg_class')", [view])
                #expect(comment.scalar?.contains(row[0]!) == true, "the view's comment lost the Notion name: \(comment.scalar ?? "nil")")
            }
            // The names tried to drop a table and a schema, and to write into pages: nothing
            // happened outside relsync's two schemas.
            let outside = try await db.query(
                "SELECT to_regnamespace('public') IS NOT NULL, to_regclass('public.pages') IS NULL, to_regclass('public.edges') IS NULL")
            #expect(outside.rows.first == ["t", "t", "t"])
        } catch {
            await Self.cleanUp(db, schemas: [views, schema], canary: canary, scenario)
            throw error
        }
        await Self.cleanUp(db, schemas: [views, schema], canary: canary, scenario)
    }

    static func cleanUp(_ db: PostgresConnection, schemas: [String], canary: String, _ scenario: Scenario) async {
        for schema in schemas { _ = try? await db.execute("DROP SCHEMA IF EXISTS \(db.quoteIdentifier(schema)) CASCADE") }
        _ = try? await db.execute("DROP TABLE IF EXISTS public.\(db.quoteIdentifier(canary))")
        await scenario.dropSchemas()
    }

    /// TLS is verified by default: a Notion endpoint with a self-signed certificate is refused
    /// (exit 69, one line naming the certificate problem) instead of being talked to.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs /usr/bin/openssl"))
    func tlsCertificatesAreVerifiedByDefault() async throws {
        try await withScenario { scenario in
            let dir = scenario.dir.path
            try PrivateCluster.shell(
                "cd \(dir) && /usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
                    + "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1")
            let port = Int(try PrivateCluster.shell(
                "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'")
                .trimmingCharacters(in: .whitespacesAndNewlines))!
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            server.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", "\(dir)/cert.pem", "-key", "\(dir)/key.pem",
                                "-www", "-quiet"]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            server.standardInput = FileHandle.nullDevice
            try server.run()
            // SIGKILL: the test process may ignore SIGTERM, and its children inherit that.
            defer { Glibc.kill(server.processIdentifier, SIGKILL) }
            _ = await Reliability.waitUntil(.seconds(10)) {
                (try? PrivateCluster.shell("(exec 3<>/dev/tcp/127.0.0.1/\(port)) 2>/dev/null && echo up")) == "up\n"
            }
            let config = try scenario.writeConfig(port: port, sync: "  - data_source: 01234567-89ab-4def-8123-456789abcdef\n")
            let text = try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "http://127.0.0.1:\(port)", with: "https://127.0.0.1:\(port)")
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            let result = try await scenario.reconcile(config)
            #expect(result.status == 69, "stderr: \(result.stderr)")
            #expect(Reliability.lines(result.stderr).count == 1, "\(result.stderr)")
            #expect(result.stderr.lowercased().contains("certificate"), "\(result.stderr)")
        }
    }

    /// The role docs/SECURITY.md tells users to create (it may log in, use temporary tables and
    /// create its own schemas; nothing else) is enough to run. The test runs exactly the SQL
    /// the document shows, with its own role name and this test database.
    @Test func documentedLeastPrivilegeRoleIsEnough() async throws {
        let sql = try Self.documentedRoleSQL()
        let role = "relsync_least_\(UInt32.random(in: 0...UInt32.max))"
        let rolePassword = "change-me-\(UInt32.random(in: 0...UInt32.max))"
        let script = sql
            .replacingOccurrences(of: "ROLE relsync ", with: "ROLE \(role) ")
            .replacingOccurrences(of: "TO relsync;", with: "TO \(role);")
            .replacingOccurrences(of: "DATABASE analytics", with: "DATABASE \(Self.database)")
            .replacingOccurrences(of: "'change-me'", with: "'\(rolePassword)'")
        #expect(!script.contains(" relsync ") && !script.contains("analytics"), "the documented SQL changed shape:\n\(sql)")
        let db = try await Reliability.admin()
        defer { db.close() }
        try await db.executeScript(script)
        try await withScenario { scenario in
            do {
                let attributes = try await db.query(
                    "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = $1", [role])
                #expect(attributes.scalar == "f")
                let (engine, projects) = await Reliability.engine(scenario, seed: 403)
                let url = "postgresql://\(role):\(rolePassword)@\(Self.host):\(Self.port)/\(Self.database)"
                try await withSimulator(engine) { port in
                    let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects), databaseURL: url)
                    let migrate = try await runRelsync(["migrate", "--config", config], environment: scenario.environment)
                    #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                    let first = try await scenario.reconcile(config, ["--full"])
                    #expect(first.status == 0, "stderr: \(first.stderr)")
                    let second = try await scenario.reconcile(config)
                    #expect(second.status == 0, "stderr: \(second.stderr)")
                    let owners = try await db.query(
                        "SELECT DISTINCT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname IN ($1, $2)",
                        [scenario.schema, scenario.viewsSchema])
                    #expect(owners.rows.map { $0[0] } == [role])
                    try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
                }
            } catch {
                await scenario.dropSchemas()
                await Self.dropRole(db, role)
                throw error
            }
            await scenario.dropSchemas()
            await Self.dropRole(db, role)
        }
    }

    static func dropRole(_ db: PostgresConnection, _ role: String) async {
        _ = try? await db.execute("DROP OWNED BY \(db.quoteIdentifier(role))")
        _ = try? await db.execute("DROP ROLE IF EXISTS \(db.quoteIdentifier(role))")
    }

    /// The SQL block between the least-privilege markers of docs/SECURITY.md.
    /// The stricter documented role: it owns two schemas an administrator created for it, and
    /// has nothing on the database (not even CREATE); that is enough to migrate and run.
    @Test func documentedOwnerOnlyRoleIsEnough() async throws {
        let sql = try Self.documentedRoleSQL(block: "owner-only-role")
        let role = "relsync_owner_\(UInt32.random(in: 0...UInt32.max))"
        let rolePassword = "change-me-\(UInt32.random(in: 0...UInt32.max))"
        let db = try await Reliability.admin()
        defer { db.close() }
        try await withScenario { scenario in
            let script = sql
                .replacingOccurrences(of: "ROLE relsync ", with: "ROLE \(role) ")
                .replacingOccurrences(of: "AUTHORIZATION relsync", with: "AUTHORIZATION \(role)")
                .replacingOccurrences(of: "SCHEMA relsync ", with: "SCHEMA \(scenario.schema) ")
                .replacingOccurrences(of: "SCHEMA notion ", with: "SCHEMA \(scenario.viewsSchema) ")
                .replacingOccurrences(of: "'change-me'", with: "'\(rolePassword)'")
            #expect(!script.contains(" relsync ") && !script.contains(" notion "), "the documented SQL changed shape:\n\(sql)")
            do {
                try await db.executeScript(script)
                let onDatabase = try await db.query(
                    "SELECT has_database_privilege($1, current_database(), 'CREATE')", [role])
                #expect(onDatabase.scalar == "f")
                let (engine, projects) = await Reliability.engine(scenario, seed: 404)
                let url = "postgresql://\(role):\(rolePassword)@\(Self.host):\(Self.port)/\(Self.database)"
                try await withSimulator(engine) { port in
                    let config = try scenario.writeConfig(port: port, sync: CrashSafetyEndToEndTests.syncYAML(projects), databaseURL: url)
                    let first = try await scenario.reconcile(config, ["--full"])
                    #expect(first.status == 0, "stderr: \(first.stderr)")
                    try await CrashSafetyEndToEndTests.expectConverged(engine, scenario, projects)
                }
            } catch {
                await scenario.dropSchemas()
                await Self.dropRole(db, role)
                throw error
            }
            await scenario.dropSchemas()
            await Self.dropRole(db, role)
        }
    }

    static func documentedRoleSQL(block: String = "least-privilege-role") throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/SECURITY.md"), encoding: .utf8)
        guard let start = doc.range(of: "<!-- \(block):begin -->"),
            let end = doc.range(of: "<!-- \(block):end -->", range: start.upperBound..<doc.endIndex)
        else { throw PrivateClusterError(message: "docs/SECURITY.md has no \(block) block") }
        let block = doc[start.upperBound..<end.lowerBound]
        guard let open = block.range(of: "```sql\n"), let close = block.range(of: "```", range: open.upperBound..<block.endIndex) else {
            throw PrivateClusterError(message: "the least-privilege-role block has no ```sql fence")
        }
        return String(block[open.upperBound..<close.lowerBound])
    }
}
