import CurlTransport
import Foundation
import NotionClient
import NotionSimulator

/// (d) Peak RSS of the relsync process, and (e) pages per second through relsync end to end,
/// both from full reconciles of synthetic workspaces of 100k and 1M edges served by the
/// simulator unthrottled on loopback. One reconcile per size feeds both figures.
enum ScaleBench {
    struct Measured {
        var workload: Workload
        var edges: Int
        var child: ChildResult
        var summary: RunSummaryJSON
        var journal: JournalSnapshot
        var complete: Bool
        /// The bare client's read of the same workspace: pages, edges, seconds.
        var reference: (pages: Int, edges: Int, seconds: Double)?
    }

    static func sizes(_ env: BenchEnvironment) -> [Int] { env.quick ? [100_000] : [100_000, 1_000_000] }

    static func run(_ env: BenchEnvironment, _ results: Results, memory: Bool, throughput: Bool) async throws {
        var baseline: Measured?
        if memory {
            baseline = try await reconcile(Workloads.synthetic(seed: env.seed, edges: 100), env, reference: false)
        }
        for size in sizes(env) {
            let workload = Workloads.synthetic(seed: env.seed, edges: size)
            let m = try await reconcile(workload, env, reference: throughput)
            if memory, let baseline {
                results.add(Figure(
                    bench: "memory", name: "peak RSS of relsync, full reconcile · \(workload.name)",
                    value: m.child.maxRSSMB, unit: "MB", floor: baseline.child.maxRSSMB,
                    floorName: "the same binary reconciling 100 edges",
                    target: size >= 1_000_000 ? .valueAtMost(150) : .none, correct: m.complete,
                    notes: ["VmHWM of the relsync process (its own address space), read every 2 ms; 1 MB = 1,048,576 bytes",
                            "\(m.summary.pagesRead.formatted()) pages read, \(m.summary.edgesTotal.formatted()) edges stored, "
                                + "\(m.journal.totalRequests.formatted()) requests"]))
            }
            if throughput, let reference = m.reference {
                let pagesPerSecond = Double(m.summary.pagesRead) / m.child.wallSeconds
                let referenceRate = Double(reference.pages) / reference.seconds
                results.add(Figure(
                    bench: "throughput", name: "pages/s through relsync end to end, unthrottled loopback · \(workload.name)",
                    value: pagesPerSecond, unit: "pages/s", floor: referenceRate,
                    floorName: "NotionClient alone reading the same pages and relations",
                    target: .none, correct: m.complete,
                    notes: [String(format: "relsync: %d pages, %d requests, %d edges stored in %.2f s wall (%.0f requests/s, %.0f edges/s)",
                                   m.summary.pagesRead, m.journal.totalRequests, m.summary.edgesTotal, m.child.wallSeconds,
                                   Double(m.journal.totalRequests) / m.child.wallSeconds,
                                   Double(m.summary.edgesTotal) / m.child.wallSeconds),
                            String(format: "bare client: %d pages, %d edges in %.2f s, 3 requests in flight, no PostgreSQL",
                                   reference.pages, reference.edges, reference.seconds),
                            "simulator, relsync and PostgreSQL share this machine's \(ProcessInfo.processInfo.activeProcessorCount) CPUs"]))
            }
        }
    }

    static func reconcile(_ workload: Workload, _ env: BenchEnvironment, reference: Bool) async throws -> Measured {
        let scenario = try env.scenario("scale")
        let engine = SimulatorEngine(workspace: workload.spec, configuration: scenario.simulatorConfiguration())
        let truth = await engine.groundTruth()
        let expected = workload.expectedEdges(truth)
        do {
            let measured = try await SimulatorServer.withRunningServer(engine: engine) { port -> Measured in
                let config = try scenario.writeConfig(port: port, workload: workload, pacing: .unthrottled)
                await engine.resetJournal()
                let (child, summary) = try await scenario.reconcile(config, ["--full", "--no-write-back"])
                let journal = await engine.journal()
                var m = Measured(workload: workload, edges: expected, child: child, summary: summary, journal: journal,
                                 complete: summary.edgesTotal == expected)
                if reference {
                    m.reference = try await bareRead(workload, port: port, token: scenario.token)
                }
                return m
            }
            await scenario.dropSchemas()
            return measured
        } catch {
            await scenario.dropSchemas()
            throw error
        }
    }

    /// The same reads with relsync's Notion client and nothing else: every page of every data
    /// source read, then every truncated relation list completed, 3 requests in flight.
    static func bareRead(_ workload: Workload, port: Int, token: String) async throws -> (pages: Int, edges: Int, seconds: Double) {
        let client = NotionClient(
            configuration: NotionConfiguration(token: token, baseURL: "http://127.0.0.1:\(port)", rateLimit: .unlimited,
                                               maxConcurrentRequests: 3),
            transport: CurlTransport(), logger: BenchEnvironment.logger)
        let configured = Set(workload.configured.map(\.id))
        let (counts, elapsed) = try await timed { () -> (Int, Int) in
            var pages = 0
            var edges = 0
            var truncated: [(page: String, property: String)] = []
            for source in workload.readSources {
                for try await page in client.queryDataSource(source.uuidString.lowercased()) {
                    pages += 1
                    guard configured.contains(source) else { continue }
                    for value in page.properties.values where value.type == "relation" {
                        if value.hasMore { truncated.append((page.id, value.id)) } else { edges += value.relationIDs?.count ?? 0 }
                    }
                }
            }
            edges += try await withThrowingTaskGroup(of: Int.self) { group in
                var next = 0
                var total = 0
                func add(_ group: inout ThrowingTaskGroup<Int, any Error>) {
                    let item = truncated[next]
                    next += 1
                    group.addTask {
                        var count = 0
                        for try await _ in client.relationTargets(pageID: item.page, propertyID: item.property) { count += 1 }
                        return count
                    }
                }
                while next < truncated.count && next < 3 { add(&group) }
                while let count = try await group.next() {
                    total += count
                    if next < truncated.count { add(&group) }
                }
                return total
            }
            return (pages, edges)
        }
        return (counts.0, counts.1, elapsed)
    }
}
