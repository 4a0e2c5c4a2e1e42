import Foundation
import Logging
import NotionSimulator
import PostgresStore

/// What `relsync reconcile --json` prints (the fields the benchmarks read).
struct RunSummaryJSON: Decodable, Sendable {
    struct DataSource: Decodable, Sendable {
        var id: String
        var name: String
        var configured: Bool
        var mode: String
        var pagesRead: Int
        var relations: [Relation]
    }

    struct Relation: Decodable, Sendable {
        var name: String
        var edges: Int
        var truncatedPages: Int
        var reusedPages: Int?
        var inferredPages: Int?
    }

    var mode: String
    var durationSeconds: Double
    var dataSources: [DataSource]
    var pagesRead: Int
    var edgesTotal: Int
    var apiCalls: [String: Int]
    var apiCallsTotal: Int
    var dataCalls: Int
    var forwardOptimum: Int
    var retries: Int
    var rateLimited: Int
    var summariesWritten: Int
    var summariesUnchanged: Int

    var inferredPages: Int {
        dataSources.flatMap(\.relations).reduce(0) { $0 + ($1.inferredPages ?? 0) }
    }

    static func decode(_ text: String) throws -> RunSummaryJSON {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(RunSummaryJSON.self, from: Data(text.utf8))
    }
}

/// The client-side budget written into the config.
enum Pacing: Sendable {
    /// As good as unlimited: the simulator answers as fast as loopback allows.
    case unthrottled
    case average(requestsPerSecond: Double, burst: Int)
    case window(requests: Int, seconds: Int)

    var yaml: String {
        switch self {
        case .unthrottled: return "requests_per_second: 100000\n  burst: 10000"
        case .average(let rps, let burst): return "requests_per_second: \(rps)\n  burst: \(burst)"
        case .window(let n, let s): return "requests_per_window: \(n)\n  window_seconds: \(s)"
        }
    }
}

/// Paths and settings every benchmark shares.
struct BenchEnvironment: Sendable {
    var relsync: String
    var databaseURL: String
    var quick: Bool
    var seed: UInt64
    /// `--relations-strategy` values the relsync binary accepts; empty when it has no such flag.
    var strategies: [String]
    var scratch: URL
    /// Where to keep each relsync run's stderr, if anywhere.
    var relsyncLog: URL?
    var relsyncLogLevel = "warning"

    static let logger: Logger = {
        var logger = Logger(label: "relsync-bench")
        logger.logLevel = .warning
        return logger
    }()

    /// A scratch schema pair, a config file and a token for one series of relsync runs.
    func scenario(_ label: String) throws -> Scenario {
        try Scenario(environment: self, label: label)
    }
}

/// One relsync installation: a schema pair, a token, a folder for its config.
struct Scenario: Sendable {
    let environment: BenchEnvironment
    let schema: String
    let token: String
    let dir: URL

    init(environment: BenchEnvironment, label: String) throws {
        self.environment = environment
        let suffix = UInt32.random(in: 0...UInt32.max)
        schema = "bench_\(label)_\(suffix)"
        token = "ntn_bench_\(UInt64.random(in: 0...UInt64.max))"
        dir = environment.scratch.appendingPathComponent("\(label)-\(suffix)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    var viewsSchema: String { schema + "_views" }

    func simulatorConfiguration(rateLimit: RateLimitPolicy = .none) -> SimulatorConfiguration {
        SimulatorConfiguration(token: token, rateLimit: rateLimit)
    }

    func writeConfig(port: Int, workload: Workload, pacing: Pacing) throws -> String {
        var sync: [String] = []
        for source in workload.configured {
            sync.append("  - data_source: \(source.id.uuidString.lowercased())")
            if let relations = source.relations {
                sync.append("    relations: [\(relations.map(yamlQuote).joined(separator: ", "))]")
            }
            if let wb = source.writeBack {
                sync.append("    write_back:")
                sync.append("      - relation: \(yamlQuote(wb.relation))")
                sync.append("        property: \(yamlQuote(wb.property))")
                sync.append("        format: \(wb.format)")
            }
        }
        let yaml = """
            notion:
              token: ${NOTION_TOKEN}
              base_url: http://127.0.0.1:\(port)
              \(pacing.yaml)
            postgres:
              url: \(yamlQuote(environment.databaseURL))
              schema: \(schema)
              views_schema: \(viewsSchema)
            sync:
            \(sync.joined(separator: "\n"))

            """
        let path = dir.appendingPathComponent("relsync.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `relsync reconcile --config F --json [extra]`; throws unless it exits 0 with a summary.
    func reconcile(_ config: String, _ extra: [String] = []) async throws -> (ChildResult, RunSummaryJSON) {
        let env = ProcessInfo.processInfo.environment
        var childEnv = ["PATH": env["PATH"] ?? "/usr/bin:/bin", "HOME": env["HOME"] ?? "/tmp", "NOTION_TOKEN": token,
                        "LOG_LEVEL": environment.relsyncLogLevel]
        if let lang = env["LANG"] { childEnv["LANG"] = lang }
        let result = try await Child.run(environment.relsync, ["reconcile", "--config", config, "--json"] + extra,
                                         environment: childEnv, directory: dir)
        if let log = environment.relsyncLog {
            let name = "\(dir.lastPathComponent)-\(Int(Date().timeIntervalSince1970 * 1000)).log"
            try? ("relsync " + (["reconcile", "--config", config, "--json"] + extra).joined(separator: " ") + "\n" + result.stderr)
                .write(to: log.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        guard result.status == 0 else {
            throw BenchError("relsync reconcile exited \(result.status): \(result.lastError)")
        }
        do {
            return (result, try RunSummaryJSON.decode(result.stdout))
        } catch {
            throw BenchError("relsync reconcile printed no readable summary (\(error)); stdout began: \(result.stdout.prefix(200))")
        }
    }

    /// Extra arguments that choose a relations strategy (none when the binary has no such flag).
    func strategyArguments(_ strategy: String?) -> [String] {
        strategy.map { ["--relations-strategy", $0] } ?? []
    }

    func dropSchemas() async {
        guard let db = try? await PostgresConnection.connect(url: environment.databaseURL, logger: BenchEnvironment.logger) else { return }
        _ = try? await db.execute("DROP SCHEMA IF EXISTS \(db.quoteIdentifier(viewsSchema)) CASCADE")
        _ = try? await db.execute("DROP SCHEMA IF EXISTS \(db.quoteIdentifier(schema)) CASCADE")
        db.close()
        try? FileManager.default.removeItem(at: dir)
    }
}

func yamlQuote(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}

/// Which `--relations-strategy` values the binary accepts, read from its help.
func supportedStrategies(relsync: String, scratch: URL) async -> [String] {
    guard let help = try? await Child.run(relsync, ["reconcile", "--help"], environment: ["PATH": "/usr/bin:/bin"],
                                          directory: scratch),
        help.stdout.contains("--relations-strategy")
    else { return [] }
    return ["paginate", "auto"]
}

/// The simulator's count of requests to one endpoint.
extension JournalSnapshot {
    var queryCalls: Int { requests(.queryDataSource) + requests(.queryDatabase) }
    var propertyCalls: Int { requests(.retrievePageProperty) }
    var dataCalls: Int { queryCalls + propertyCalls }
    var writes: Int { requests(.updatePage) }
}
