public import Foundation
public import Logging
import PostgresStore

/// `relsync report`: one self-contained HTML file (inline CSS and SVG; no script, font, image
/// or stylesheet from anywhere else) showing what is synced: the largest relations, the degree
/// distribution of each, edges added and removed per day, and the run history.
public struct ReportBuilder: Sendable {
    /// What the report covers.
    public struct Options: Sendable {
        /// Days of edge history shown (today included).
        public var days: Int
        /// Most recent runs shown.
        public var runs: Int
        /// Relations given a degree-distribution chart (the largest first).
        public var distributionCharts: Int

        public init(days: Int = 30, runs: Int = 40, distributionCharts: Int = 12) {
            self.days = days
            self.runs = runs
            self.distributionCharts = distributionCharts
        }
    }

    let configuration: RelsyncConfiguration
    let logger: Logger

    public init(configuration: RelsyncConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Reads everything the report shows from PostgreSQL (read only) and renders it.
    public func render(_ options: Options = Options()) async throws -> String {
        let store = try await configuration.openStoreWithoutMigrating(logger: logger)
        defer { store.close() }
        let status = try await store.status(recentRuns: max(1, options.runs))
        let distributions = try await store.degreeDistributions()
        let daily = try await store.edgeChangesPerDay(days: options.days)
        let report = StatusReport(status, configuration: configuration)
        return Self.html(
            report: report, entries: status.relations.map(\.entry), distributions: distributions, daily: daily,
            runs: status.recentRuns.reversed(), options: options)
    }

    /// Writes the report to `path` (through a temporary file, renamed into place).
    public func write(to path: String, _ options: Options = Options()) async throws -> Int {
        let html = try await render(options)
        let url = URL(fileURLWithPath: path)
        let output = try FileOutput.create(folder: url.deletingLastPathComponent().path, path: url.lastPathComponent)
        do {
            try Data(html.utf8).withUnsafeBytes { try output.writeAll($0) }
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
        logger.info("Wrote report", metadata: ["report.path": "\(path)", "report.bytes": "\(html.utf8.count)"])
        return html.utf8.count
    }

    // MARK: - Rendering

    /// Degree buckets of the distribution charts; the ones past 25 are what a page object cuts.
    static let buckets: [(label: String, range: ClosedRange<Int>)] = [
        ("0", 0...0), ("1", 1...1), ("2–5", 2...5), ("6–10", 6...10), ("11–25", 11...25), ("26–50", 26...50),
        ("51–100", 51...100), ("101–500", 101...500), ("501+", 501...Int.max),
    ]

    static func html(
        report: StatusReport, entries: [RelationCatalogEntry], distributions: [RelationKey: [Int: Int]],
        daily: [DailyEdgeChanges], runs: [RunRecord], options: Options
    ) -> String {
        let e = ReportChart.escape
        let count = StatusReport.count
        let pages = report.dataSources.reduce(0) { $0 + $1.pages }
        var body = ""

        // Headline numbers.
        let lastRun = report.lastRun.map { "#\($0.runID) \($0.outcome)" } ?? "none yet"
        let lag = report.lagSeconds.map { StatusReport.age($0) } ?? "—"
        body += "<section class=\"cards\">"
        for (label, value, note) in [
            ("Edges", count(report.totalEdges), "in \(report.relations.count) relations"),
            ("Pages", count(pages), "in \(report.dataSources.count) data sources"),
            ("Pages past 25", count(report.relations.reduce(0) { $0 + $1.pagesOver25 }), "relation lists Notion cuts at 25"),
            ("Last run", lastRun, report.lastRun.map { StatusReport.time($0.startedAt) } ?? ""),
            ("Lag", lag, "since the last successful run"),
        ] {
            body += "<div class=\"card\"><div class=\"label\">\(e(label))</div><div class=\"value\">\(e(value))</div><div class=\"note\">\(e(note))</div></div>"
        }
        body += "</section>"
        if let error = report.lastError, !error.resolved {
            body += "<p class=\"error\">Last run failed (#\(error.runID), \(e(StatusReport.time(error.at)))): \(e(error.message))</p>"
        }

        // Largest relations.
        let largest = report.relations.sorted { ($0.edges, $0.joinView) > ($1.edges, $1.joinView) }.prefix(15)
        body += "<section><h2>Largest relations</h2><p>Edges per relation (top \(largest.count)), with the pages whose list is longer than the 25 references a Notion page object shows.</p>"
        body += ReportChart.horizontalBars(
            labels: largest.map { "\($0.sourceDataSourceName) → \($0.propertyName)" }, values: largest.map(\.edges),
            notes: largest.map { "\(count($0.edges)) edges · \(count($0.pagesOver25)) pages > 25" },
            caption: "Edges per relation")
        body += "</section>"

        // Degree distributions.
        body += "<section><h2>Degree distribution</h2><p>How many pages link to how many others, per relation (pages of the source data source, not in trash). <span class=\"swatch over\"></span> orange bars: more than 25 links, past what a page object and rollups built on it see.</p><div class=\"grid\">"
        let byKey = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0) })
        let charted = report.relations.sorted { ($0.edges, $0.joinView) > ($1.edges, $1.joinView) }.prefix(options.distributionCharts)
        for relation in charted {
            guard let id = UUID(uuidString: relation.sourceDataSourceID),
                let entry = byKey[RelationKey(sourceDataSourceID: id, propertyID: relation.propertyID)]
            else { continue }
            let degrees = distributions[entry.key] ?? [:]
            let values = buckets.map { bucket in degrees.filter { bucket.range.contains($0.key) }.values.reduce(0, +) }
            let colors = buckets.map { $0.range.lowerBound > 25 ? ReportChart.orange : ReportChart.blue }
            body += "<figure><figcaption>\(e(relation.sourceDataSourceName)) → \(e(relation.propertyName))<span>max \(count(relation.maxDegree)) · \(count(relation.pagesOver25)) &gt; 25</span></figcaption>"
            body += ReportChart.bars(
                categories: buckets.map(\.label), values: values, colors: colors,
                boundaryAfter: buckets.firstIndex { $0.range.upperBound == 25 }, boundaryLabel: "25: Notion's cut",
                caption: "Pages by number of links: \(relation.sourceDataSourceName) → \(relation.propertyName)")
            body += "</figure>"
        }
        if charted.isEmpty { body += "<p class=\"muted\">No relations yet: run relsync reconcile.</p>" }
        body += "</div></section>"

        // Edges over time.
        let days = Self.dayRange(endingAt: report.generatedAt, count: options.days)
        let byDay = Dictionary(daily.map { ($0.day, $0) }, uniquingKeysWith: { a, _ in a })
        let added = days.map { byDay[$0]?.added ?? 0 }, removed = days.map { byDay[$0]?.removed ?? 0 }
        body += "<section><h2>Edges over time</h2><p>Edges added and removed per day (UTC), last \(days.count) days: \(count(added.reduce(0, +))) added, \(count(removed.reduce(0, +))) removed. From the edge history (\(count(report.historyRows)) rows).</p>"
        body += ReportChart.diverging(days: days, up: added, down: removed, caption: "Edges added and removed per day")
        body += "</section>"

        // Run history.
        body += "<section><h2>Run history</h2><p>The last \(runs.count) runs: Notion API calls (rate-limited 429 responses in red) and duration.</p>"
        body += ReportChart.runCalls(
            runs: runs.map { (String($0.runID), $0.apiCallsTotal, $0.rateLimited, $0.outcome == "failed") },
            caption: "API calls per run")
        body += ReportChart.runDurations(
            runs: runs.map { (String($0.runID), $0.durationSeconds ?? 0, $0.outcome == "failed") }, caption: "Run duration")
        body += "</section>"

        // The catalog.
        body += "<section class=\"wide\"><h2>Relations</h2><table><thead><tr><th>Relation</th><th>Target</th><th>Join view</th><th>Columns</th><th class=\"n\">Edges</th><th class=\"n\">Pages linked</th><th class=\"n\">Max</th><th class=\"n\">&gt; 25</th></tr></thead><tbody>"
        for relation in report.relations {
            let columns = [relation.fromColumn, relation.toColumn].compactMap { $0 }.joined(separator: ", ")
            body += "<tr><td>\(e(relation.sourceDataSourceName)) → \(e(relation.propertyName)) <span class=\"muted\">\(e(relation.kind))</span></td>"
            body += "<td>\(e(relation.targetDataSourceName ?? relation.targetDataSourceID ?? "—"))</td><td><code>\(e(relation.joinView))</code></td>"
            body += "<td><code>\(e(columns.isEmpty ? "—" : columns))</code></td><td class=\"n\">\(count(relation.edges))</td>"
            body += "<td class=\"n\">\(count(relation.pagesWithEdges)) / \(count(relation.sourcePages))</td><td class=\"n\">\(count(relation.maxDegree))</td><td class=\"n\">\(count(relation.pagesOver25))</td></tr>"
        }
        body += "</tbody></table></section>"

        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="relsync report">
            <title>relsync report: \(e(report.schema))</title>
            <style>\(css)</style>
            </head>
            <body>
            <header><h1>relsync report</h1><p>Schema <code>\(e(report.schema))</code>, join views in <code>\(e(report.viewsSchema))</code> · data as of \(e(StatusReport.time(report.generatedAt)))</p></header>
            <main>\(body)</main>
            <footer>Generated by relsync report. Self-contained: no scripts, fonts or images are loaded.</footer>
            </body>
            </html>

            """
    }

    /// `count` UTC days ending with the day of `date`, as YYYY-MM-DD, oldest first.
    static func dayRange(endingAt date: Date, count: Int) -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.startOfDay(for: date)
        return (0..<max(1, count)).reversed().map { offset in
            let day = calendar.date(byAdding: .day, value: -offset, to: today)!
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
        }
    }

    static let css = """
        :root { color-scheme: light; }
        body { margin: 0; background: #f5f7fa; color: #2b3240; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        header { background: #1f2a44; color: #fff; padding: 20px 32px; }
        header h1 { margin: 0 0 4px; font-size: 22px; }
        header p { margin: 0; color: #c9d3e6; }
        header code { color: #fff; }
        main { max-width: 1000px; margin: 0 auto; padding: 8px 16px 32px; }
        section { background: #fff; border: 1px solid #e3e7ee; border-radius: 8px; margin: 16px 0; padding: 16px 20px; }
        h2 { margin: 0 0 4px; font-size: 17px; }
        section > p { margin: 0 0 12px; color: #6b7485; }
        .cards { display: flex; gap: 12px; background: none; border: 0; padding: 0; }
        .card { flex: 1; background: #fff; border: 1px solid #e3e7ee; border-radius: 8px; padding: 12px 14px; }
        .card .label { color: #6b7485; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .card .value { font-size: 20px; font-weight: 600; margin: 2px 0; white-space: nowrap; }
        .card .note { color: #6b7485; font-size: 12px; }
        .grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px 24px; }
        figure { margin: 0; min-width: 0; }
        figcaption { font-size: 12px; font-weight: 600; margin-bottom: 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
        figcaption span { font-weight: 400; color: #6b7485; margin-left: 6px; }
        svg { display: block; max-width: 100%; height: auto; }
        table { border-collapse: collapse; width: 100%; font-size: 13px; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e3e7ee; vertical-align: top; }
        th { color: #6b7485; font-weight: 600; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
        code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
        .wide { overflow-x: auto; }
        .muted { color: #6b7485; }
        .error { background: #fdecec; border: 1px solid #f3b9b9; color: #8c1d1d; border-radius: 8px; padding: 10px 14px; }
        .swatch { display: inline-block; width: 10px; height: 10px; vertical-align: baseline; }
        .swatch.over { background: #e8833a; }
        footer { text-align: center; color: #6b7485; font-size: 12px; padding: 0 0 24px; }
        """
}
