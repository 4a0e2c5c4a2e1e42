public import Foundation

/// What one reconcile did: printed as text or `--json`, and recorded in the runs table.
public struct RunSummary: Sendable, Codable {
    public struct DataSource: Sendable, Codable {
        public var id: String
        public var name: String
        /// false for a data source read only for the titles of relation targets.
        public var configured: Bool
        /// "full" (every page) or "incremental" (pages edited since the watermark).
        public var mode: String
        public var pagesRead: Int
        public var relations: [Relation]
        public var pagesTrashed: Int
    }

    public struct Relation: Sendable, Codable {
        public var propertyID: String
        public var name: String
        public var joinView: String
        public var edges: Int
        /// Pages read whose relation was longer than the 25 Notion shows.
        public var truncatedPages: Int
        /// Of those, pages whose stored list was kept without the property-item walk (their first
        /// 25 unchanged and the last edit relsync's own, or older than the previous read).
        public var reusedPages: Int
        /// Of those, pages whose relation was completed from the other side of the dual
        /// relation, at no call (positions past the first 25 unknown).
        public var inferredPages: Int
    }

    /// A summary `--dry-run` would have written.
    public struct PlannedWrite: Sendable, Codable {
        public var pageID: String
        public var property: String
        /// The first 120 characters a reader would see.
        public var preview: String
    }

    public var runID: Int64?
    public var mode: String
    public var dryRun: Bool
    public var startedAt: Date
    public var durationSeconds: Double
    public var dataSources: [DataSource]
    public var pagesRead: Int
    public var edgesAdded: Int
    public var edgesRemoved: Int
    public var edgesRepositioned: Int
    public var edgesTotal: Int
    /// HTTP requests sent to Notion by endpoint, retries included.
    public var apiCalls: [String: Int]
    public var apiCallsTotal: Int
    /// Query and property-item calls: the ones the forward-pagination optimum counts.
    public var dataCalls: Int
    /// Σ ⌈pages/100⌉ per data source + Σ ⌈r/100⌉ over truncated relations.
    public var forwardOptimum: Int
    public var retries: Int
    public var rateLimited: Int
    /// Summaries PATCHed to Notion, and those found already right.
    public var summariesWritten: Int
    public var summariesUnchanged: Int
    /// With `--dry-run`: the summaries that would be written.
    public var plannedWrites: [PlannedWrite]
    /// Summaries Notion refused this run (retried next run).
    public var writeFailures: Int
    public var warnings: [String]
}

extension RunSummary {
    /// A few human lines for the terminal.
    public var text: String {
        var lines: [String] = []
        let verb = dryRun ? "would change" : "changed"
        for ds in dataSources where ds.configured {
            lines.append("\(ds.name): \(ds.pagesRead) pages read (\(ds.mode))")
            for r in ds.relations {
                let inferred = r.inferredPages > 0 ? " (\(r.inferredPages) from the other side)" : ""
                let truncated = r.truncatedPages > 0 ? ", \(r.truncatedPages) completed past 25\(inferred)" : ""
                lines.append("  \(r.name) → \(r.edges) edges\(truncated)  [view \(r.joinView)]")
            }
        }
        let targets = dataSources.filter { !$0.configured }
        if !targets.isEmpty {
            lines.append("relation targets: " + targets.map { "\($0.name) (\($0.pagesRead) pages)" }.joined(separator: ", "))
        }
        lines.append(
            "edges: \(edgesTotal) total, \(verb): +\(edgesAdded) −\(edgesRemoved), \(edgesRepositioned) reordered")
        lines.append(
            "Notion: \(apiCallsTotal) requests (\(dataCalls) data calls; forward-pagination optimum \(forwardOptimum)), \(retries) retries, \(rateLimited) rate-limited")
        if dryRun {
            lines.append("summaries: \(plannedWrites.count) would be written, \(summariesUnchanged) unchanged")
            for write in plannedWrites.prefix(10) {
                lines.append("  would write \(write.property) of \(write.pageID): \(write.preview)")
            }
            if plannedWrites.count > 10 { lines.append("  … and \(plannedWrites.count - 10) more") }
        } else if summariesWritten + summariesUnchanged + writeFailures > 0 {
            lines.append("summaries: \(summariesWritten) written, \(summariesUnchanged) unchanged" + (writeFailures > 0 ? ", \(writeFailures) failed" : ""))
        }
        lines.append(String(format: "done in %.1f s", durationSeconds) + (runID.map { " (run \($0))" } ?? ""))
        for warning in warnings { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n")
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
