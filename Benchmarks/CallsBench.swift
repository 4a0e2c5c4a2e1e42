import Foundation
import NotionSimulator

/// (a) API calls of a full and of an unchanged incremental reconcile against the
/// forward-pagination optimum, on the generated workspace and on one page with 1,003 references.
/// The simulator is unthrottled (calls, not time, are measured here); the counts are the
/// simulator's own journal, not relsync's report.
enum CallsBench {
    static func run(_ env: BenchEnvironment, _ results: Results) async throws {
        let (projects, members) = env.quick ? (500, 1_250) : (2_000, 5_000)
        let strategies: [String?] = env.strategies.isEmpty ? [nil] : env.strategies.map(Optional.some)
        for strategy in strategies {
            // Nothing written back: the next run finds the workspace exactly as it left it.
            try await measure(Workloads.generated(seed: env.seed, projects: projects, members: members, writeBack: false),
                              isGenerated: true, strategy: strategy, reportFull: true, env, results)
            // Summaries written back: the next run also sees relsync's own writes (within the
            // watermark overlap) and must recognise them.
            try await measure(Workloads.generated(seed: env.seed, projects: projects, members: members, writeBack: true),
                              isGenerated: true, strategy: strategy, reportFull: false, env, results)
            try await measure(Workloads.onePage(seed: env.seed), isGenerated: false, strategy: strategy, reportFull: true, env, results)
        }
    }

    static func measure(_ workload: Workload, isGenerated: Bool, strategy: String?, reportFull: Bool, _ env: BenchEnvironment,
                        _ results: Results) async throws {
        let scenario = try env.scenario("calls")
        let engine = SimulatorEngine(workspace: workload.spec, configuration: scenario.simulatorConfiguration())
        let truth = await engine.groundTruth()
        let optimum = workload.forwardOptimum(truth)
        let expected = workload.expectedEdges(truth)
        let strategyName = (strategy ?? "default strategy") + (workload.configured.contains { $0.writeBack != nil } ? " · with write-back" : "")
        do {
            let figures = try await SimulatorServer.withRunningServer(engine: engine) { port -> [Figure] in
                let config = try scenario.writeConfig(port: port, workload: workload, pacing: .unthrottled)
                await engine.resetJournal()
                let (fullRun, full) = try await scenario.reconcile(config, ["--full"] + scenario.strategyArguments(strategy))
                let fullJournal = await engine.journal()
                await engine.resetJournal()
                let (incRun, inc) = try await scenario.reconcile(config, scenario.strategyArguments(strategy))
                let incJournal = await engine.journal()

                let target: Target = strategy == "auto" && isGenerated ? .ratioAtMost(0.5) : .ratioAtMost(1.0)
                var fullNotes = [
                    "\(fullJournal.totalRequests) requests in all (\(fullJournal.queryCalls) query, \(fullJournal.propertyCalls) property-item, "
                        + "\(fullJournal.writes) PATCH writes, the rest users/me and schema reads)",
                    "relsync's own report: \(full.dataCalls) data calls, forward optimum \(full.forwardOptimum)",
                    "edges stored \(full.edgesTotal) of \(expected); \(full.inferredPages) relation lists inferred from the other side; "
                        + String(format: "%.2f s wall", fullRun.wallSeconds),
                ]
                fullNotes += relationBreakdown(full)
                if strategy == nil { fullNotes.append("the binary has no --relations-strategy flag yet: its default was measured") }
                let fullFigure = Figure(
                    bench: "calls", name: "full reconcile · \(workload.name) · \(strategyName)",
                    value: Double(fullJournal.dataCalls), unit: "calls", floor: Double(optimum),
                    floorName: "forward-pagination optimum", target: target,
                    correct: full.edgesTotal == expected, notes: fullNotes)

                // The floor of an unchanged run: one query per data source read, plus the paging
                // of whatever the query returned (relsync's own writes, within the watermark overlap).
                let queryFloor = inc.dataSources.reduce(0) { $0 + max(1, ceilDiv($1.pagesRead, 100)) }
                let incFigure = Figure(
                    bench: "calls", name: "unchanged incremental reconcile · \(workload.name) · \(strategyName)",
                    value: Double(incJournal.dataCalls), unit: "calls", floor: Double(queryFloor),
                    floorName: "1 query per data source + paging", target: .ratioAtMost(1.0),
                    correct: inc.edgesTotal == expected,
                    notes: [
                        "\(incJournal.queryCalls) query, \(incJournal.propertyCalls) property-item calls over "
                            + "\(inc.dataSources.count) data sources; pages returned: "
                            + inc.dataSources.map { "\($0.name) \($0.pagesRead)" }.joined(separator: ", "),
                        "\(incJournal.totalRequests) requests in all; " + String(format: "%.2f s wall", incRun.wallSeconds),
                    ] + relationBreakdown(inc))
                let writesFigure = Figure(
                    bench: "calls", name: "unchanged incremental reconcile, writes · \(workload.name) · \(strategyName)",
                    value: Double(incJournal.writes), unit: "writes", floor: 0, floorName: "nothing changed",
                    target: .valueAtMost(0), correct: inc.edgesTotal == expected,
                    notes: workload.configured.contains { $0.writeBack != nil }
                        ? ["the full run before it wrote \(fullJournal.writes) summaries "
                            + "(\(fullJournal.dataCalls) data calls, optimum \(optimum))"]
                        : ["no write-back configured for this workload"])
                return (reportFull ? [fullFigure] : []) + [incFigure] + (writesFigure.notes.first!.hasPrefix("no write-back") ? [] : [writesFigure])
            }
            results.add(figures)
        } catch {
            await scenario.dropSchemas()
            throw error
        }
        await scenario.dropSchemas()
    }

    /// Per relation: lists past 25 seen, and how many were kept (reused) or inferred without a call.
    static func relationBreakdown(_ summary: RunSummaryJSON) -> [String] {
        let parts = summary.dataSources.flatMap { ds in
            ds.relations.filter { $0.truncatedPages > 0 }.map { r in
                "\(ds.name).\(r.name): \(r.truncatedPages) lists past 25, \(r.reusedPages ?? 0) reused, \(r.inferredPages ?? 0) inferred"
            }
        }
        return parts.isEmpty ? [] : ["relations: " + parts.joined(separator: "; ")]
    }
}
