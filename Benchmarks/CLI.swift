// relsync-bench: the benchmark suite (`make bench`; never part of `make test`).
// Each benchmark lives in its own file: CallsBench, WallTimeBench, PostgresBench, ScaleBench.
import ArgumentParser
import Foundation

@main
struct RelsyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relsync-bench",
        abstract: "Measure relsync against its targets: API calls, wall time under a rate limit, the PostgreSQL phase, memory, throughput.",
        discussion: """
            Every benchmark runs the real relsync binary (build it in release mode) \
            against the Notion simulator, served from this process on loopback, and a \
            real PostgreSQL. Each figure prints as

              [bench] what was measured
                figure F · floor L (what L is) · ratio F/L · target T · VERDICT

            PASS / ABOVE compare with the issue's targets (see BENCHMARKS.md); INFO has \
            no target; FAILED: the run was wrong (edges missing), so the figure is void.

            Benchmarks (one, or all, the default; full-size durations):
              calls       (a) API calls, full and unchanged incremental reconcile,
                          vs the forward-pagination optimum (~1 min)
              walltime    (b) wall time under 3 req/s and 180 per 60 s vs the
                          floor the budget sets (~9 min)
              postgres    (c) the PostgreSQL phase, 100k and 1M edges, vs
                          psql \\copy of the same rows (~3 min)
              memory      (d) peak RSS of relsync at 100k and 1M edges (~1 min)
              throughput  (e) pages/s through relsync, simulator unthrottled,
                          vs relsync's Notion client alone (~1 min)

            --quick: smaller workspaces, 100k edges only, no 3 req/s run (~2 min).

            Needs PostgreSQL (DATABASE_URL or --database-url; scratch schemas are \
            created and dropped there), /usr/bin/psql, and relsync next to this \
            binary (or --relsync). `make bench` builds and runs everything.

            Examples:
              relsync-bench --quick
              relsync-bench all --json bench.json --markdown bench.md
              relsync-bench calls
              relsync-bench postgres --database-url postgresql://postgres@127.0.0.1/db
            """,
        subcommands: [All.self, Calls.self, WallTime.self, Postgres.self, Memory.self, Throughput.self],
        defaultSubcommand: All.self)
}

struct BenchOptions: ParsableArguments {
    @Flag(help: "Smaller workspaces, 100k edges only, no 3 req/s run: about 2 minutes instead of about 13.")
    var quick = false

    @Option(help: ArgumentHelp("The relsync binary to measure (default: `relsync` next to this executable).", valueName: "path"))
    var relsync: String?

    @Option(help: ArgumentHelp("PostgreSQL to use (default: $DATABASE_URL). Scratch schemas are created and dropped.", valueName: "url"))
    var databaseURL: String?

    @Option(help: ArgumentHelp("Also write every figure as JSON to this file.", valueName: "path"))
    var json: String?

    @Option(help: ArgumentHelp("Also write every figure as a Markdown table to this file (for BENCHMARKS.md).", valueName: "path"))
    var markdown: String?

    @Option(help: "Seed of the generated workspaces.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Keep every relsync run's stderr in this folder (to see why a figure is what it is).", valueName: "dir"))
    var relsyncLog: String?

    @Option(help: ArgumentHelp("relsync's LOG_LEVEL for those runs: trace, debug, info, notice, warning, error.", valueName: "level"))
    var relsyncLogLevel: String = "warning"

    func environment() async throws -> BenchEnvironment {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let relsync = relsync ?? own.deletingLastPathComponent().appendingPathComponent("relsync").path
        guard FileManager.default.isExecutableFile(atPath: relsync) else {
            throw ValidationError("no relsync binary at \(relsync): build it (swift build -c release --product relsync) or pass --relsync PATH")
        }
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no PostgreSQL: set DATABASE_URL or pass --database-url (scripts/pg.sh start; eval \"$(scripts/pg.sh env)\")")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("relsync-bench-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let strategies = await supportedStrategies(relsync: relsync, scratch: scratch)
        if let relsyncLog { try FileManager.default.createDirectory(atPath: relsyncLog, withIntermediateDirectories: true) }
        return BenchEnvironment(relsync: relsync, databaseURL: url, quick: quick, seed: seed, strategies: strategies, scratch: scratch,
                                relsyncLog: relsyncLog.map { URL(fileURLWithPath: $0) }, relsyncLogLevel: relsyncLogLevel)
    }

    /// Runs `body`, then writes the results and cleans the scratch folder, whatever happened.
    func perform(_ names: String, _ body: (BenchEnvironment, Results) async throws -> Void) async throws {
        let env = try await environment()
        defer { try? FileManager.default.removeItem(at: env.scratch) }
        print("relsync-bench \(names)\(quick ? " --quick" : ""): relsync \(env.relsync); relations strategies: "
            + (env.strategies.isEmpty ? "none selectable (no --relations-strategy flag): the binary's default is measured" : env.strategies.joined(separator: ", ")))
        let results = Results()
        var failure: (any Error)?
        do {
            try await body(env, results)
        } catch {
            failure = error
        }
        try results.write(json: json, markdown: markdown, quick: quick, relsync: env.relsync, strategies: env.strategies)
        let above = results.figures.filter { $0.verdict == .above || $0.verdict == .failed }
        let elapsed = Date().timeIntervalSince(results.started)
        print(String(format: "\n%d figures in %.0f s: %d PASS, %d ABOVE, %d FAILED, %d INFO", results.figures.count, elapsed,
                     results.figures.filter { $0.verdict == .pass }.count, results.figures.filter { $0.verdict == .above }.count,
                     results.figures.filter { $0.verdict == .failed }.count, results.figures.filter { $0.verdict == .info }.count))
        for figure in above { print("  \(figure.verdict.rawValue): [\(figure.bench)] \(figure.name)") }
        if let failure {
            print("relsync-bench: \(failure)")
            throw ExitCode(1)
        }
    }
}

extension RelsyncBench {
    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run every benchmark (a)–(e), in order.")
        @OptionGroup var options: BenchOptions

        func run() async throws {
            try await options.perform("all") { env, results in
                try await CallsBench.run(env, results)
                try await PostgresBench.run(env, results)
                try await ScaleBench.run(env, results, memory: true, throughput: true)
                try await WallTimeBench.run(env, results)
            }
        }
    }

    struct Calls: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(a) API calls of a full and an unchanged incremental reconcile vs the forward-pagination optimum.")
        @OptionGroup var options: BenchOptions
        func run() async throws { try await options.perform("calls") { try await CallsBench.run($0, $1) } }
    }

    struct WallTime: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "walltime",
            abstract: "(b) Wall time under 3 req/s average and under 180 per 60 s vs the budget's floor.")
        @OptionGroup var options: BenchOptions
        func run() async throws { try await options.perform("walltime") { try await WallTimeBench.run($0, $1) } }
    }

    struct Postgres: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(c) The PostgreSQL phase (apply) for 100k and 1M edges vs psql \\copy of the same rows.")
        @OptionGroup var options: BenchOptions
        func run() async throws { try await options.perform("postgres") { try await PostgresBench.run($0, $1) } }
    }

    struct Memory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "(d) Peak RSS of relsync at 100k and 1M edges.")
        @OptionGroup var options: BenchOptions
        func run() async throws {
            try await options.perform("memory") { try await ScaleBench.run($0, $1, memory: true, throughput: false) }
        }
    }

    struct Throughput: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "(e) Pages per second through relsync end to end, simulator unthrottled on loopback.")
        @OptionGroup var options: BenchOptions
        func run() async throws {
            try await options.perform("throughput") { try await ScaleBench.run($0, $1, memory: false, throughput: true) }
        }
    }
}
