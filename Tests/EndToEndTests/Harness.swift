import Foundation
import Glibc
import Logging
import NotionSimulator
import PostgresStore
import Testing

/// End-to-end tests run the real `relsync` binary against the simulator (real HTTP on
/// loopback) and a real PostgreSQL. `make test` sets these variables; without them the suites
/// are skipped.
enum E2E {
    static let env = ProcessInfo.processInfo.environment
    static var enabled: Bool { env["POSTGRES_HOSTNAME"] != nil && env["RELSYNC_BIN"] != nil }

    static var databaseURL: String {
        let host = env["POSTGRES_HOSTNAME"] ?? "127.0.0.1"
        let port = env["POSTGRES_PORT"] ?? "5432"
        let user = env["POSTGRES_USER"] ?? "postgres"
        let db = env["POSTGRES_DB"] ?? "relsync_test"
        return "postgresql://\(user)@\(host):\(port)/\(db)"
    }

    static var relsync: String { env["RELSYNC_BIN"] ?? "relsync" }
    static let logger = Logger(label: "e2e")

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// What one relsync process did.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
    }

    func int(_ key: String) -> Int? { json?[key] as? Int }
}

/// Runs the relsync binary with `arguments`, output captured through files (no pipe deadlock).
func runRelsync(_ arguments: [String], environment: [String: String] = [:]) async throws -> RunResult {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(E2E.uniqueName("relsync-run"))
    defer { try? FileManager.default.removeItem(at: dir) }
    let process = try relsyncProcess(arguments, environment: environment, outputIn: dir)
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    return RunResult(status: status, outputIn: dir)
}

/// The relsync binary with `arguments`, not yet started: a minimal environment (PATH, HOME,
/// then `environment`), no input, and stdout and stderr going to files in `dir` (created).
func relsyncProcess(_ arguments: [String], environment: [String: String], outputIn dir: URL) throws -> Process {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let out = dir.appendingPathComponent("stdout"), err = dir.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: E2E.relsync)
    process.arguments = arguments
    var env = ["PATH": E2E.env["PATH"] ?? "/usr/bin:/bin", "HOME": E2E.env["HOME"] ?? "/tmp"]
    for (key, value) in environment { env[key] = value }
    process.environment = env
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    return process
}

extension RunResult {
    /// The result of a finished process whose output went to `dir` (`relsyncProcess`).
    init(status: Int32, outputIn dir: URL) {
        self.init(
            status: status,
            stdout: (try? String(contentsOf: dir.appendingPathComponent("stdout"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)) ?? "")
    }
}

/// A scratch folder, a pair of schemas and a config file for one test.
struct Scenario {
    let dir: URL
    let schema = E2E.uniqueName("e2e")
    var viewsSchema: String { schema + "_views" }
    let token = "ntn_e2e_\(UInt64.random(in: 0...UInt64.max))"

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(E2E.uniqueName("relsync-e2e"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    var simulatorConfiguration: SimulatorConfiguration { SimulatorConfiguration(token: token) }

    /// Writes relsync.yaml; `sync` is the YAML list under `sync:`, `notionExtra` more notion: keys.
    func writeConfig(port: Int, sync: String, notionExtra: String = "", databaseURL: String = E2E.databaseURL) throws -> String {
        let path = dir.appendingPathComponent("relsync.yaml").path
        let yaml = """
            notion:
              token: ${NOTION_TOKEN}
              base_url: http://127.0.0.1:\(port)
              requests_per_second: 1000
              burst: 50
            \(notionExtra.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            postgres:
              url: \(databaseURL)
              schema: \(schema)
              views_schema: \(viewsSchema)
            sync:
            \(sync)
            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    var environment: [String: String] { ["NOTION_TOKEN": token] }

    func reconcile(_ config: String, _ extra: [String] = []) async throws -> RunResult {
        try await runRelsync(["reconcile", "--config", config, "--json"] + extra, environment: environment)
    }

    func dropSchemas() async {
        guard let db = try? await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger) else { return }
        _ = try? await db.execute("DROP SCHEMA IF EXISTS \(db.quoteIdentifier(viewsSchema)) CASCADE")
        _ = try? await db.execute("DROP SCHEMA IF EXISTS \(db.quoteIdentifier(schema)) CASCADE")
        db.close()
        try? FileManager.default.removeItem(at: dir)
    }
}

/// Edges as stored: per (data source, property, from page) the targets in position order.
struct StoredEdges {
    var lists: [TruthKey: [UUID]] = [:]
    var positions: [TruthKey: [Int?]] = [:]

    static func read(url: String = E2E.databaseURL, schema: String) async throws -> StoredEdges {
        let db = try await PostgresConnection.connect(url: url, logger: E2E.logger)
        defer { db.close() }
        let rows = try await db.query(
            "SELECT source_data_source_id, property_id, from_page_id, to_page_id, position FROM \(db.quoteIdentifier(schema)).edges ORDER BY 1, 2, 3, position NULLS LAST, 4")
        var result = StoredEdges()
        for row in rows.rows {
            let key = TruthKey(dataSourceID: UUID(uuidString: row[0]!)!, propertyID: row[1]!, pageID: UUID(uuidString: row[2]!)!)
            result.lists[key, default: []].append(UUID(uuidString: row[3]!)!)
            result.positions[key, default: []].append(row[4].flatMap { Int($0) })
        }
        return result
    }
}

/// The expected edges of the given data sources (every relation of each), from the simulator's
/// ground truth, leaving out empty lists (they have no rows).
func expectedEdges(_ truth: GroundTruth, dataSources: Set<UUID>, properties: Set<String>? = nil) -> [TruthKey: [UUID]] {
    truth.relations.filter { key, list in
        dataSources.contains(key.dataSourceID) && !list.isEmpty && (properties?.contains(key.propertyID) ?? true)
    }
}

/// Compares stored edges with the truth exactly: the same targets for every list, in Notion's
/// order with positions 0…n-1 — except that a list completed by inference from the other side
/// of a dual relation (PRODUCT.md) keeps exact positions only for its first 25 and NULL after.
func expectExact(_ stored: StoredEdges, _ expected: [TruthKey: [UUID]], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(stored.lists.count == expected.count, "relation lists: stored \(stored.lists.count), expected \(expected.count)", sourceLocation: sourceLocation)
    var mismatches = 0
    func report(_ message: String) {
        mismatches += 1
        if mismatches <= 3 { Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation) }
    }
    for (key, list) in expected {
        guard let got = stored.lists[key], let positions = stored.positions[key] else {
            report("\(key): nothing stored, expected \(list.count) targets")
            continue
        }
        let known = positions.prefix { $0 != nil }.count
        if Set(got) != Set(list) || got.count != list.count {
            report("\(key): stored \(got.count) targets, expected \(list.count)")
        } else if Array(got.prefix(known)) != Array(list.prefix(known))
            || positions.prefix(known) != Array(0..<known).map(Optional.some)[...]
        {
            report("\(key): the order of the first \(known) targets differs from Notion's")
        } else if known < list.count && (known != 25 || positions.dropFirst(known).contains { $0 != nil }) {
            report("\(key): \(known) of \(list.count) positions known (inferred lists keep exactly the first 25)")
        }
    }
    for key in stored.lists.keys where expected[key] == nil {
        report("\(key): stored but not expected")
    }
    #expect(mismatches == 0, sourceLocation: sourceLocation)
}

/// Like `expectExact`, and every position known: for runs with `--relations-strategy paginate`.
func expectExactWithPositions(_ stored: StoredEdges, _ expected: [TruthKey: [UUID]], sourceLocation: SourceLocation = #_sourceLocation) {
    expectExact(stored, expected, sourceLocation: sourceLocation)
    let unknown = stored.positions.values.reduce(0) { $0 + $1.filter { $0 == nil }.count }
    #expect(unknown == 0, "\(unknown) edges without a position", sourceLocation: sourceLocation)
}

/// Runs `body` with the simulator serving `engine` over real HTTP on loopback.
func withSimulator<T: Sendable>(_ engine: SimulatorEngine, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> T {
    try await SimulatorServer.withRunningServer(engine: engine, body)
}

/// Runs `body` with a fresh scenario, and drops its schemas afterwards whatever happened.
func withScenario(_ body: (Scenario) async throws -> Void) async throws {
    let scenario = try Scenario()
    do {
        try await body(scenario)
    } catch {
        await scenario.dropSchemas()
        throw error
    }
    await scenario.dropSchemas()
}

/// A relsync process started in the background, for tests that kill it or race it.
final class RelsyncProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test's own task; Foundation's Process is
    // not Sendable but is safe to signal and wait on from one task.
    let process: Process
    let dir: URL

    init(_ arguments: [String], environment: [String: String]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(E2E.uniqueName("relsync-bg"))
        process = try relsyncProcess(arguments, environment: environment, outputIn: dir)
        try process.run()
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for the process to end (polling: terminationHandler must be set before run()).
    func wait() async -> RunResult {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        defer { try? FileManager.default.removeItem(at: dir) }
        return RunResult(status: process.terminationStatus, outputIn: dir)
    }
}

/// Quotes a string for YAML (single-quoted style).
func yamlQuote(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}
