import Foundation
import Synchronization
import SyncKit
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct MetricsFileTests {
    static let finishedAt = Date(timeIntervalSince1970: 1_767_225_600.25)

    /// A run summary built through its public Codable form (property names as keys).
    static func sample(_ edit: (inout RunSummary) -> Void = { _ in }) throws -> RunSummary {
        let json = """
            {
              "runID": 42, "mode": "full", "dryRun": false, "startedAt": 1767225587.9,
              "durationSeconds": 12.3456,
              "dataSources": [
                {"id": "2f1c0c7e-1111-4222-8333-444455556666", "name": "Projects", "configured": true,
                 "mode": "full", "pagesRead": 300, "pagesTrashed": 0,
                 "relations": [{"propertyID": "a%3Bb", "name": "Team Members", "joinView": "projects__team_members",
                                "edges": 4300, "truncatedPages": 6, "reusedPages": 0, "inferredPages": 0}]},
                {"id": "9a8b7c6d-1111-4222-8333-444455556666", "name": "Members", "configured": false,
                 "mode": "full", "pagesRead": 1200, "pagesTrashed": 0, "relations": []}
              ],
              "pagesRead": 1500, "edgesAdded": 10, "edgesRemoved": 2, "edgesRepositioned": 1, "edgesTotal": 4321,
              "apiCalls": {"POST /v1/data_sources/{id}/query": 15, "GET /v1/pages/{id}/properties/{property_id}": 11,
                           "GET /v1/users/me": 1},
              "apiCallsTotal": 27, "dataCalls": 26, "forwardOptimum": 26, "retries": 3, "rateLimited": 2,
              "summariesWritten": 5, "summariesUnchanged": 295, "plannedWrites": [], "writeFailures": 1,
              "warnings": ["one", "two"]
            }
            """
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        var summary = try decoder.decode(RunSummary.self, from: Data(json.utf8))
        edit(&summary)
        return summary
    }

    static let expectedSuccess = #"""
        # HELP relsync_last_run_timestamp_seconds When the last relsync run ended, in seconds since the epoch.
        # TYPE relsync_last_run_timestamp_seconds gauge
        relsync_last_run_timestamp_seconds 1767225600.250
        # HELP relsync_last_run_success 1 if the last relsync run succeeded, 0 if it failed.
        # TYPE relsync_last_run_success gauge
        relsync_last_run_success 1
        # HELP relsync_last_run_exit_code The exit code of the last relsync run (sysexits; 0 done).
        # TYPE relsync_last_run_exit_code gauge
        relsync_last_run_exit_code 0
        # HELP relsync_last_run_info Always 1; the labels describe the last relsync run.
        # TYPE relsync_last_run_info gauge
        relsync_last_run_info{outcome="succeeded",mode="full"} 1
        # HELP relsync_last_success_timestamp_seconds When the last successful relsync run ended, in seconds since the epoch.
        # TYPE relsync_last_success_timestamp_seconds gauge
        relsync_last_success_timestamp_seconds 1767225600.250
        # HELP relsync_last_run_id The run_id of the last relsync run in the runs table.
        # TYPE relsync_last_run_id gauge
        relsync_last_run_id 42
        # HELP relsync_last_run_dry_run 1 if the last relsync run was a dry run (nothing written).
        # TYPE relsync_last_run_dry_run gauge
        relsync_last_run_dry_run 0
        # HELP relsync_run_duration_seconds How long the last relsync run took.
        # TYPE relsync_run_duration_seconds gauge
        relsync_run_duration_seconds 12.346
        # HELP relsync_api_requests HTTP requests the last run sent to Notion, by endpoint, retries included.
        # TYPE relsync_api_requests gauge
        relsync_api_requests{endpoint="GET /v1/pages/{id}/properties/{property_id}"} 11
        relsync_api_requests{endpoint="GET /v1/users/me"} 1
        relsync_api_requests{endpoint="POST /v1/data_sources/{id}/query"} 15
        # HELP relsync_api_data_calls Query and property-item requests of the last run.
        # TYPE relsync_api_data_calls gauge
        relsync_api_data_calls 26
        # HELP relsync_api_forward_optimum The forward-pagination optimum of data calls for the last run's workspace.
        # TYPE relsync_api_forward_optimum gauge
        relsync_api_forward_optimum 26
        # HELP relsync_api_retries Requests of the last run that repeated a failed attempt.
        # TYPE relsync_api_retries gauge
        relsync_api_retries 3
        # HELP relsync_api_rate_limited 429 answers the last run received from Notion.
        # TYPE relsync_api_rate_limited gauge
        relsync_api_rate_limited 2
        # HELP relsync_pages_read Pages the last run read from Notion.
        # TYPE relsync_pages_read gauge
        relsync_pages_read 1500
        # HELP relsync_edges Relation edges stored after the last run.
        # TYPE relsync_edges gauge
        relsync_edges 4321
        # HELP relsync_edges_added Edges the last run added.
        # TYPE relsync_edges_added gauge
        relsync_edges_added 10
        # HELP relsync_edges_removed Edges the last run removed.
        # TYPE relsync_edges_removed gauge
        relsync_edges_removed 2
        # HELP relsync_edges_repositioned Edges whose position the last run changed.
        # TYPE relsync_edges_repositioned gauge
        relsync_edges_repositioned 1
        # HELP relsync_write_back_written Summaries the last run wrote back to Notion.
        # TYPE relsync_write_back_written gauge
        relsync_write_back_written 5
        # HELP relsync_write_back_unchanged Summaries the last run found already right in Notion.
        # TYPE relsync_write_back_unchanged gauge
        relsync_write_back_unchanged 295
        # HELP relsync_write_back_failures Summaries Notion refused in the last run (retried next run).
        # TYPE relsync_write_back_failures gauge
        relsync_write_back_failures 1
        # HELP relsync_warnings Warnings the last run reported.
        # TYPE relsync_warnings gauge
        relsync_warnings 2
        # HELP relsync_data_source_pages Pages the last run read per data source (configured, or read for relation targets' titles).
        # TYPE relsync_data_source_pages gauge
        relsync_data_source_pages{data_source_id="2f1c0c7e-1111-4222-8333-444455556666",name="Projects",configured="true"} 300
        relsync_data_source_pages{data_source_id="9a8b7c6d-1111-4222-8333-444455556666",name="Members",configured="false"} 1200

        """#

    static let expectedFailure = #"""
        # HELP relsync_last_run_timestamp_seconds When the last relsync run ended, in seconds since the epoch.
        # TYPE relsync_last_run_timestamp_seconds gauge
        relsync_last_run_timestamp_seconds 1767225600.250
        # HELP relsync_last_run_success 1 if the last relsync run succeeded, 0 if it failed.
        # TYPE relsync_last_run_success gauge
        relsync_last_run_success 0
        # HELP relsync_last_run_exit_code The exit code of the last relsync run (sysexits; 0 done).
        # TYPE relsync_last_run_exit_code gauge
        relsync_last_run_exit_code 77
        # HELP relsync_last_run_info Always 1; the labels describe the last relsync run.
        # TYPE relsync_last_run_info gauge
        relsync_last_run_info{outcome="failed",mode="unknown"} 1

        """#

    // MARK: - Rendering

    @Test func rendersASummaryExactly() throws {
        let text = MetricsFile.render(
            try Self.sample(), outcome: "succeeded", exitCode: 0, finishedAt: Self.finishedAt, error: nil)
        #expect(text == Self.expectedSuccess)
        if text != Self.expectedSuccess {
            // Show the first line that differs, not two screens of text.
            let got = text.split(separator: "\n", omittingEmptySubsequences: false)
            let want = Self.expectedSuccess.split(separator: "\n", omittingEmptySubsequences: false)
            if let index = (0..<min(got.count, want.count)).first(where: { got[$0] != want[$0] }) {
                Issue.record("line \(index + 1): got \(got[index]) want \(want[index])")
            }
        }
        #expect(ExpositionChecker.problems(text) == [])
    }

    @Test func rendersAFailureWithoutTheErrorText() {
        let error = "Notion refused the token ntn_secret_value_123 for \"Projects\"\nsecond line"
        let text = MetricsFile.render(nil, outcome: "failed", exitCode: 77, finishedAt: Self.finishedAt, error: error)
        #expect(text == Self.expectedFailure)
        #expect(!text.contains("ntn_secret"))
        #expect(!text.contains("Notion refused"))
        #expect(ExpositionChecker.problems(text) == [])
    }

    @Test func aFailureCarriesTheLastSuccessAndAnErrorMeansFailureWhateverTheCode() throws {
        let last = Date(timeIntervalSince1970: 1_767_220_000)
        let text = MetricsFile.render(nil, outcome: "failed", exitCode: 69, finishedAt: Self.finishedAt,
                                      error: "unavailable", lastSuccessAt: last)
        #expect(text.contains("\nrelsync_last_success_timestamp_seconds 1767220000.000\n"))
        #expect(text.contains("\nrelsync_last_run_exit_code 69\n"))
        // A summary with an error is still a failure: the summary's numbers are shown, success is 0.
        let partial = MetricsFile.render(try Self.sample(), outcome: "failed", exitCode: 0, finishedAt: Self.finishedAt,
                                         error: "write-back failed")
        #expect(partial.contains("\nrelsync_last_run_success 0\n"))
        #expect(partial.contains("\nrelsync_edges 4321\n"))
        #expect(!partial.contains("relsync_last_success_timestamp_seconds"))
        #expect(ExpositionChecker.problems(partial) == [])
    }

    @Test func labelValuesAreEscaped() throws {
        let summary = try Self.sample { summary in
            summary.apiCalls = [#"GET /v1/"quoted"\path"#: 1, "line\nbreak": 2]
            summary.dataSources[0].name = #"Ordér 👥 «Members» \ back\slash "q" "# + "\nnext"
        }
        let text = MetricsFile.render(summary, outcome: "succeeded", exitCode: 0, finishedAt: Self.finishedAt, error: nil)
        #expect(text.contains(#"relsync_api_requests{endpoint="GET /v1/\"quoted\"\\path"} 1"# + "\n"))
        #expect(text.contains(#"relsync_api_requests{endpoint="line\nbreak"} 2"# + "\n"))
        #expect(text.contains(
            #"name="Ordér 👥 «Members» \\ back\\slash \"q\" \nnext",configured="true"} 300"# + "\n"))
        #expect(ExpositionChecker.problems(text) == [])
        // The checker reads the escaped values back to the originals.
        let values = ExpositionChecker.labelValues(text, metric: "relsync_data_source_pages", label: "name")
        #expect(values.first == summary.dataSources[0].name)
        let endpoints = ExpositionChecker.labelValues(text, metric: "relsync_api_requests", label: "endpoint")
        #expect(Set(endpoints) == Set(summary.apiCalls.keys))
    }

    @Test func outcomeAndModeBecomeConstantLikeLabels() {
        let text = MetricsFile.render(nil, outcome: "Failed: \"x\" {y}\n" + String(repeating: "z", count: 50),
                                      exitCode: 1, finishedAt: Self.finishedAt, error: "e")
        let outcome = ExpositionChecker.labelValues(text, metric: "relsync_last_run_info", label: "outcome")
        #expect(outcome == ["failed___x___y__" + String(repeating: "z", count: 16)])
        #expect(ExpositionChecker.problems(text) == [])
    }

    // MARK: - Writing

    static func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relsync-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func inode(_ path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64
    }

    @Test func writeReplacesTheFileAtomicallyAndLeavesNoTemporaryFile() throws {
        let dir = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("relsync.prom").path

        let first = try Self.sample()
        try MetricsFile.write(first, outcome: "succeeded", exitCode: 0, finishedAt: Self.finishedAt, error: nil, to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.expectedSuccess)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o644, "node_exporter must be able to read it")

        // A reader that opened the old file keeps reading the old, complete file: the new one
        // arrives by rename, never by rewriting the old one in place.
        let reader = try #require(FileHandle(forReadingAtPath: path))
        defer { try? reader.close() }
        let oldInode = Self.inode(path)

        let second = try Self.sample { $0.edgesTotal = 99 }
        let later = Self.finishedAt.addingTimeInterval(900)
        try MetricsFile.write(second, outcome: "succeeded", exitCode: 0, finishedAt: later, error: nil, to: path)
        let replaced = try String(contentsOfFile: path, encoding: .utf8)
        #expect(replaced == MetricsFile.render(second, outcome: "succeeded", exitCode: 0, finishedAt: later, error: nil))
        #expect(replaced.contains("\nrelsync_edges 99\n"))
        #expect(Self.inode(path) != oldInode, "the file must be replaced by rename")
        #expect(String(decoding: try reader.readToEnd() ?? Data(), as: UTF8.self) == Self.expectedSuccess)

        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["relsync.prom"])
    }

    /// A reader that opens the file while runs keep replacing it always finds a whole file: the
    /// previous run's or the new one's, never nothing, never a part.
    @Test func concurrentReadersNeverSeeAPartialOrMissingFile() async throws {
        let dir = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("relsync.prom").path
        let summaries = [try Self.sample(), try Self.sample { $0.dataSources += $0.dataSources; $0.dataSources[2].id = "x" }]
        let texts = summaries.map {
            MetricsFile.render($0, outcome: "succeeded", exitCode: 0, finishedAt: Self.finishedAt, error: nil)
        }
        try MetricsFile.write(summaries[0], outcome: "succeeded", exitCode: 0, finishedAt: Self.finishedAt, error: nil, to: path)

        final class Shared: Sendable {
            let done = Atomic<Bool>(false)
            let reads = Atomic<Int>(0)
            let bad = Mutex<[String]>([])
        }
        let shared = Shared()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !shared.done.load(ordering: .acquiring) {
                    let read = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
                    shared.reads.add(1, ordering: .relaxed)
                    if let read, texts.contains(read) { continue }
                    let what = read.map { "\($0.utf8.count) bytes" } ?? "no file"
                    shared.bad.withLock { if $0.count < 5 { $0.append(what) } }
                }
            }
            group.addTask {
                defer { shared.done.store(true, ordering: .releasing) }
                for index in 0..<300 {
                    try MetricsFile.write(summaries[index % 2], outcome: "succeeded", exitCode: 0,
                                          finishedAt: Self.finishedAt, error: nil, to: path)
                }
            }
            try await group.waitForAll()
        }
        #expect(shared.reads.load(ordering: .relaxed) > 0)
        #expect(shared.bad.withLock { $0 } == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["relsync.prom"])
    }

    @Test func aFailedRunKeepsTheLastSuccessTimeAndAnOverlapLeavesTheFileAlone() throws {
        let dir = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("relsync.prom").path

        try MetricsFile.write(try Self.sample(), outcome: "succeeded", exitCode: 0, finishedAt: Self.finishedAt,
                              error: nil, to: path)
        let afterSuccess = try String(contentsOfFile: path, encoding: .utf8)

        // Exit 75: another run holds the lock and will write the file itself.
        try MetricsFile.write(nil, outcome: "lock_held", exitCode: 75, finishedAt: Self.finishedAt.addingTimeInterval(60),
                              error: "another relsync run holds the lock", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == afterSuccess)

        let failedAt = Self.finishedAt.addingTimeInterval(900)
        try MetricsFile.write(nil, outcome: "failed", exitCode: 69, finishedAt: failedAt,
                              error: "PostgreSQL unavailable: password pw-s3cret", to: path)
        let failed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(failed == MetricsFile.render(nil, outcome: "failed", exitCode: 69, finishedAt: failedAt, error: "x",
                                             lastSuccessAt: Self.finishedAt))
        #expect(failed.contains("\nrelsync_last_run_success 0\n"))
        #expect(failed.contains("\nrelsync_last_success_timestamp_seconds 1767225600.250\n"))
        #expect(!failed.contains("pw-s3cret") && !failed.contains("relsync_edges"))

        // A second failure still knows the last success; without any previous file there is none.
        try MetricsFile.write(nil, outcome: "failed", exitCode: 1, finishedAt: failedAt, error: "x", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("relsync_last_success_timestamp_seconds 1767225600.250"))
        let fresh = dir.appendingPathComponent("fresh.prom").path
        try MetricsFile.write(nil, outcome: "failed", exitCode: 78, finishedAt: failedAt, error: "x", to: fresh)
        #expect(try String(contentsOfFile: fresh, encoding: .utf8) == MetricsFile.render(
            nil, outcome: "failed", exitCode: 78, finishedAt: failedAt, error: "x"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["fresh.prom", "relsync.prom"])
    }

    @Test func aMissingDirectoryIsAClearErrorAndLeavesNothing() throws {
        let dir = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("missing/relsync.prom").path
        #expect {
            try MetricsFile.write(nil, outcome: "failed", exitCode: 1, finishedAt: Self.finishedAt, error: "x", to: path)
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix("cannot write the metrics file \(path): ") && text.contains("No such file or directory")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [])

        // A directory given as the file: the rename fails and the temporary file is removed.
        let asDirectory = dir.appendingPathComponent("relsync.prom")
        try FileManager.default.createDirectory(at: asDirectory, withIntermediateDirectories: false)
        #expect(throws: MetricsFile.WriteError.self) {
            try MetricsFile.write(nil, outcome: "failed", exitCode: 1, finishedAt: Self.finishedAt, error: "x",
                                  to: asDirectory.path)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["relsync.prom"])
    }

    @Test func aPathWithDotComponentsWritesBesideTheFile() throws {
        let dir = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
        let path = sub.path + "/./relsync.prom"
        try MetricsFile.write(nil, outcome: "failed", exitCode: 1, finishedAt: Self.finishedAt, error: "x", to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sub.path) == ["relsync.prom"])
    }

    // MARK: - The checker itself

    /// The checker must reject what the textfile collector would reject, or the tests above
    /// prove nothing.
    @Test(arguments: [
        ("no trailing newline", "# TYPE a gauge\na 1"),
        ("sample without TYPE", "a 1\n"),
        ("bad metric name", "# TYPE 1a gauge\n1a 1\n"),
        ("bad value", "# TYPE a gauge\na one\n"),
        ("bad type", "# TYPE a gauges\na 1\n"),
        ("TYPE twice", "# TYPE a gauge\n# TYPE a gauge\na 1\n"),
        ("TYPE after samples", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# HELP a late\n"),
        ("unescaped quote", "# TYPE a gauge\na{l=\"x\"y\"} 1\n"),
        ("bad escape", "# TYPE a gauge\na{l=\"x\\ty\"} 1\n"),
        ("raw newline in label", "# TYPE a gauge\na{l=\"x\ny\"} 1\n"),
        ("unterminated labels", "# TYPE a gauge\na{l=\"x\" 1\n"),
        ("duplicate series", "# TYPE a gauge\na{l=\"x\"} 1\na{l=\"x\"} 2\n"),
        ("duplicate label", "# TYPE a gauge\na{l=\"x\",l=\"y\"} 1\n"),
        ("inconsistent labels", "# TYPE a gauge\na{l=\"x\"} 1\na{m=\"x\"} 2\n"),
        ("family split", "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{l=\"y\"} 2\n"),
        ("timestamp", "# TYPE a gauge\na 1 1767225600000\n"),
        ("empty line", "# TYPE a gauge\n\na 1\n"),
        ("bad HELP escape", "# HELP a tab\\t\n# TYPE a gauge\na 1\n"),
    ])
    func checkerRejects(_ name: String, _ text: String) {
        #expect(!ExpositionChecker.problems(text).isEmpty, "\(name) was accepted")
    }

    @Test func checkerAccepts() {
        let text = """
            # HELP a A \\\\ help\\nline.
            # TYPE a gauge
            a{l="x \\" \\\\ \\n",m=""} 1.5
            a{l="y",m=""} -Inf
            # some comment
            # TYPE b counter
            b NaN

            """
        #expect(ExpositionChecker.problems(text) == [])
    }
}

/// A line-by-line reader of Prometheus' text exposition format (version 0.0.4), as strict as
/// node_exporter's textfile collector and Prometheus' registry are about what relsync writes.
enum ExpositionChecker {
    struct Sample {
        var name: String
        var labels: [(String, String)]
        var value: String
    }

    static func problems(_ text: String) -> [String] {
        var problems: [String] = []
        if text.isEmpty { return ["empty file"] }
        if !text.hasSuffix("\n") { problems.append("no newline at the end") }
        var types: [String: String] = [:]
        var helps: Set<String> = []
        var sampled: Set<String> = []
        var finished: Set<String> = []
        var current: String?
        var series: Set<String> = []
        var labelNames: [String: [String]] = [:]

        for (index, line) in text.dropLast(text.hasSuffix("\n") ? 1 : 0).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let at = "line \(index + 1)"
            if line.isEmpty {
                problems.append("\(at): empty line")
                continue
            }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else { continue }
                let name = String(parts[2])
                if !isMetricName(name) { problems.append("\(at): bad metric name \(name)") }
                if sampled.contains(name) { problems.append("\(at): \(parts[1]) for \(name) after its samples") }
                if parts[1] == "TYPE" {
                    let type = parts.count == 4 ? String(parts[3]) : ""
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(type) {
                        problems.append("\(at): bad type \(type)")
                    }
                    if types[name] != nil { problems.append("\(at): second TYPE for \(name)") }
                    types[name] = type
                } else {
                    if helps.contains(name) { problems.append("\(at): second HELP for \(name)") }
                    helps.insert(name)
                    if parts.count == 4, !validHelp(parts[3]) { problems.append("\(at): bad escape in HELP") }
                }
                continue
            }
            guard let sample = parseSample(line) else {
                problems.append("\(at): not a sample: \(line)")
                continue
            }
            if types[sample.name] == nil { problems.append("\(at): \(sample.name) has no TYPE") }
            if current != sample.name {
                if let current { finished.insert(current) }
                if finished.contains(sample.name) { problems.append("\(at): samples of \(sample.name) are not together") }
                current = sample.name
            }
            sampled.insert(sample.name)
            let names = sample.labels.map(\.0)
            if Set(names).count != names.count { problems.append("\(at): a label appears twice") }
            if let known = labelNames[sample.name], known.sorted() != names.sorted() {
                problems.append("\(at): label names differ within \(sample.name)")
            }
            labelNames[sample.name] = names
            let key = sample.name + "{" + sample.labels.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{0}") + "}"
            if !series.insert(key).inserted { problems.append("\(at): duplicate series \(key)") }
        }
        return problems
    }

    static func labelValues(_ text: String, metric: String, label: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let sample = parseSample(line), sample.name == metric else { return nil }
            return sample.labels.first { $0.0 == label }?.1
        }
    }

    static func isMetricName(_ name: some StringProtocol) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII,
              first.properties.isAlphabetic || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }

    static func isLabelName(_ name: some StringProtocol) -> Bool {
        isMetricName(name) && !name.contains(":") && !name.hasPrefix("__")
    }

    static func validHelp(_ text: Substring) -> Bool {
        var escaped = false
        for character in text {
            if escaped {
                guard character == "\\" || character == "n" else { return false }
                escaped = false
            } else if character == "\\" {
                escaped = true
            }
        }
        return !escaped
    }

    /// `name{label="value",...} value` with exactly one space before the value and no timestamp.
    static func parseSample(_ line: Substring) -> Sample? {
        var rest = line[...]
        let name = rest.prefix { $0 != "{" && $0 != " " }
        guard isMetricName(name) else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [(String, String)] = []
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let labelName = rest.prefix { $0 != "=" }
                guard isLabelName(labelName) else { return nil }
                rest = rest.dropFirst(labelName.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\"" { closed = true; break }
                    if character == "\n" { return nil }
                    if character == "\\" {
                        guard let next = rest.first else { return nil }
                        rest = rest.dropFirst()
                        switch next {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
                labels.append((String(labelName), value))
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let value = rest.dropFirst()
        guard !value.contains(" ") else { return nil }  // a timestamp: the textfile collector refuses them
        guard ["NaN", "+Inf", "-Inf"].contains(value) || Double(value) != nil else { return nil }
        return Sample(name: String(name), labels: labels, value: String(value))
    }
}
