import ArgumentParser
import Foundation
import Logging
import NotionSimulator

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum Preset: String, CaseIterable, ExpressibleByArgument {
    case demo
    case bench
    case edgeCases = "edge-cases"
}

struct NotionSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notion-sim",
        abstract: "Serve a simulated Notion API (2025-09-03 shapes) on loopback for relsync's tests, benchmarks and demo.",
        discussion: """
        The simulator answers the endpoints relsync uses, under /v1, as Notion does: users/me, \
        databases/{id}, data_sources/{id}, data_sources/{id}/query (with the 10,000-row cap), \
        pages/{id}, PATCH pages/{id} and pages/{id}/properties/{property_id} (relations past 25 \
        references). Requests need `Authorization: Bearer <token>` and a Notion-Version of \
        2022-06-28, 2025-09-03 or 2026-03-11.

        The workspace is built from --workspace and --seed: the same seed gives the same ids, \
        titles, timestamps and relations.
          demo        Projects (300) <-> Members (1,200); Tasks -> Projects, Tags
          bench       Projects (2,000) <-> Members (5,000), skewed team sizes
          edge-cases  relation sizes 0, 1, 25, 26, 100, 101, 1,003; hostile names

        Once listening it writes --manifest (base URL, token, bot user id, data sources with \
        their property ids) and prints one line, "notion-sim: listening on URL …", to stdout. \
        Scripts can also read GET /__sim/manifest, /__sim/journal (request counts), \
        /__sim/truth (every relation list), and POST /__sim/journal/reset, /__sim/mutate, \
        /__sim/config. SIGINT or SIGTERM stops it.

        Example:
          notion-sim --workspace demo --port 8765 --rate-limit average:3 \\
            --fault-5xx 0.02 --manifest .demo/notion-sim.json
        """
    )

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free one (see the ready line or the manifest).")
    var port = 0

    @Option(help: "Seed for the workspace and for every random choice (faults, cursors, request ids).")
    var seed: UInt64 = 1

    @Option(help: "The workspace to serve: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workspace: Preset = .demo

    @Option(help: "Number of projects (demo and bench workspaces).")
    var projects: Int?

    @Option(help: "Number of members (demo and bench workspaces).")
    var members: Int?

    @Option(help: "The bearer token clients must send.")
    var token = "secret_simulator_token"

    @Option(name: .customLong("rate-limit"),
            help: "none, average:RPS[:BURST] (token bucket) or window:N:SECONDS (N requests per fixed window). Over it: 429 with Retry-After.")
    var rateLimit = "none"

    @Flag(help: "Answer every authenticated request 429 public_api_request_blocked.")
    var blocked = false

    @Option(name: .customLong("fault-5xx"), help: "Probability of a 500/502/503/504/529 Notion error per request.")
    var fault5xx = 0.0

    @Option(name: .customLong("fault-429"), help: "Probability of an injected 429 rate_limited per request.")
    var fault429 = 0.0

    @Option(name: .customLong("retry-after"), help: "Retry-After seconds of injected 429s.")
    var retryAfter = 1

    @Option(name: .customLong("fault-drop"), help: "Probability that the connection closes mid-body.")
    var faultDrop = 0.0

    @Option(name: .customLong("fault-truncate"), help: "Probability that a 200's body is cut in half.")
    var faultTruncate = 0.0

    @Option(name: .customLong("fault-html-502"), help: "Probability of a text/html 502 from an edge proxy.")
    var faultHTML502 = 0.0

    @Option(name: .customLong("fault-cursor"), help: "Probability that a request's start_cursor is rejected as invalid.")
    var faultCursor = 0.0

    @Option(name: .customLong("fault-committed-write"),
            help: "Probability that a PATCH is saved but answered 503 with retry_guidance.")
    var faultCommittedWrite = 0.0

    @Option(name: .customLong("latency-ms"), help: "Milliseconds added to every /v1 answer.")
    var latencyMs = 0

    @Option(name: .customLong("latency-jitter-ms"), help: "Up to this many random milliseconds more.")
    var latencyJitterMs = 0

    @Option(name: .customLong("result-cap"), help: "Rows one query walk can yield (Notion: 10,000).")
    var resultCap = 10_000

    @Option(name: .customLong("cursor-ttl"), help: "Seconds a cursor stays valid.")
    var cursorTTL = 600

    @Option(help: "Write a JSON manifest here once listening.")
    var manifest: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (server logs on stderr).")
    var logLevel = "warning"

    func validate() throws {
        guard RateLimitPolicy(parsing: rateLimit) != nil else {
            throw ValidationError("--rate-limit must be none, average:RPS[:BURST] or window:N:SECONDS, for example average:3 or window:180:60.")
        }
        let probabilities = [("--fault-5xx", fault5xx), ("--fault-429", fault429), ("--fault-drop", faultDrop),
                             ("--fault-truncate", faultTruncate), ("--fault-html-502", faultHTML502),
                             ("--fault-cursor", faultCursor), ("--fault-committed-write", faultCommittedWrite)]
        for (flag, p) in probabilities where !(0...1).contains(p) {
            throw ValidationError("\(flag) is a probability: give a number between 0 and 1.")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard latencyMs >= 0, latencyJitterMs >= 0 else { throw ValidationError("Latencies cannot be negative.") }
        guard retryAfter >= 1 else { throw ValidationError("--retry-after must be at least 1 second.") }
        guard resultCap >= 1, cursorTTL >= 1 else { throw ValidationError("--result-cap and --cursor-ttl must be at least 1.") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
        for (flag, count) in [("--projects", projects), ("--members", members)] {
            if let count, count < 1 { throw ValidationError("\(flag) must be at least 1.") }
        }
    }

    mutating func run() async throws {
        try await serve()
    }

    /// Builds the workspace, serves it until SIGINT or SIGTERM.
    func serve() async throws {
        let spec = buildWorkspace()
        var configuration = SimulatorConfiguration(token: token, rateLimit: RateLimitPolicy(parsing: rateLimit)!)
        configuration.blocked = blocked
        configuration.faults = FaultConfiguration(
            serverError: fault5xx, rateLimited: fault429, rateLimitedRetryAfter: retryAfter, dropConnection: faultDrop,
            truncateBody: faultTruncate, htmlBadGateway: faultHTML502, committedWriteUnavailable: faultCommittedWrite,
            cursorInvalidation: faultCursor)
        configuration.latency = .milliseconds(latencyMs)
        configuration.latencyJitter = .milliseconds(latencyJitterMs)
        configuration.queryResultCap = resultCap
        configuration.cursorTTL = .seconds(cursorTTL)

        let engine = SimulatorEngine(workspace: spec, configuration: configuration)
        var logger = Logger(label: "notion-sim")
        logger.logLevel = Logger.Level(rawValue: logLevel)!
        let server = SimulatorServer(engine: engine, host: host, port: port, logger: logger)
        let manifestPath = manifest
        let label = workspace.rawValue
        let seed = seed
        let sourceCount = spec.dataSources.count

        let serving = Task {
            try await server.run { port in
                let manifest = await engine.manifest()
                if let manifestPath {
                    do {
                        try manifest.jsonData().write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
                    } catch {
                        FileHandle.standardError.write(Data("notion-sim: cannot write the manifest to \(manifestPath): \(error)\n".utf8))
                    }
                }
                let line = "notion-sim: listening on \(manifest.baseURL) (workspace \(label), seed \(seed), \(sourceCount) data sources, bot user \(manifest.botUserID))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        }
        let stop = SignalStopper(signals: [SIGINT, SIGTERM]) { serving.cancel() }
        defer { stop.cancel() }
        do {
            try await serving.value
        } catch is CancellationError {
            // Stopped by a signal.
        }
    }

    private func buildWorkspace() -> WorkspaceSpec {
        switch workspace {
        case .demo:
            var parameters = DemoParameters()
            if let projects { parameters.projects = projects }
            if let members {
                parameters.members = members
                parameters.everyoneSize = min(parameters.everyoneSize, members)
            }
            return .demo(seed: seed, parameters)
        case .bench:
            var parameters = BenchParameters()
            if let projects { parameters.projects = projects }
            if let members { parameters.members = members }
            return .bench(seed: seed, parameters)
        case .edgeCases:
            return .edgeCases(seed: seed)
        }
    }
}

/// Turns SIGINT / SIGTERM into a call, instead of the default immediate exit.
final class SignalStopper {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], onSignal: @escaping @Sendable () -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: onSignal)
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}

// The explicit form of AsyncParsableCommand.main(): in main.swift the synchronous overloads of
// main() and run() win, and would print the help instead of serving.
do {
    let command = try NotionSim.parseAsRoot()
    if let simulator = command as? NotionSim {
        try await simulator.serve()
    } else {
        var command = command
        try command.run()
    }
} catch {
    NotionSim.exit(withError: error)
}
