import Foundation
import NotionSimulator
import PostgresStore
import Testing

/// `relsync status` and `relsync report` after real runs: a run with 429s, a run after edits,
/// and a failed run. The report is checked as a file (self-contained, escaped, every chart has
/// marks), as a browser parses it (Chromium's DOM), and as a person sees it (a screenshot whose
/// pixels hold the charts' colours).
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct ReportEndToEndTests {
    struct Runs {
        var truth: GroundTruth
        var config: String
        var succeeded: Int
        var failed: RunResult
    }

    static let hostileName = #"<script>alert("x")</script> & Co's Tasks"#

    /// Three runs: the first meets 429s, the second follows edits (and a data source renamed to
    /// markup), the third fails on 503s after it started.
    static func threeRuns(_ scenario: Scenario) async throws -> Runs {
        let engine = SimulatorEngine(
            workspace: .demo(seed: 41, DemoParameters(projects: 50, members: 1_060, tasks: 80, tags: 8)),
            configuration: scenario.simulatorConfiguration)
        let manifest = await engine.manifest()
        let projects = try #require(manifest.dataSource(named: PresetNames.projects))
        let tasks = try #require(manifest.dataSource(named: PresetNames.tasks))
        let projectsID = UUID(uuidString: projects.id)!
        let team = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id
        let sync = "  - data_source: \(projects.id)\n  - data_source: \(tasks.id)\n"
        return try await withSimulator(engine) { port in
            let config = try scenario.writeConfig(port: port, sync: sync)
            await engine.injectFault(.rateLimited(retryAfter: 1), on: .queryDataSource, count: 2)
            let first = try await scenario.reconcile(config)
            #expect(first.status == 0, "stderr: \(first.stderr)")
            #expect((first.int("rate_limited") ?? 0) >= 2)

            let truth = await engine.groundTruth()
            let page = truth.pages[projectsID]!.first { (2...25).contains(truth.relation(projectsID, team, $0)?.count ?? 0) }!
            try await engine.removeRelationTarget(page: page, property: team, target: truth.relation(projectsID, team, page)![0])
            try await engine.renameDataSource(UUID(uuidString: tasks.id)!, to: hostileName)
            let second = try await scenario.reconcile(config, ["--full"])
            #expect(second.status == 0, "stderr: \(second.stderr)")

            _ = try scenario.writeConfig(port: port, sync: sync, notionExtra: "max_attempts: 2")
            await engine.injectFault(.serverError(503), on: .queryDataSource, count: 20)
            let third = try await scenario.reconcile(config, ["--full"])
            #expect(third.status == 69, "stderr: \(third.stderr)")
            return Runs(truth: await engine.groundTruth(), config: config, succeeded: try #require(second.int("run_id")), failed: third)
        }
    }

    @Test func statusAndReportShowWhatIsSynced() async throws {
        try await withScenario { scenario in
            let runs = try await Self.threeRuns(scenario)
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }

            // status --json: numbers from the truth.
            let status = try await runRelsync(["status", "--config", runs.config, "--json"], environment: scenario.environment)
            #expect(status.status == 0, "stderr: \(status.stderr)")
            let json = try #require(status.json)
            let relations = try #require(json["relations"] as? [[String: Any]])
            #expect(relations.count == 3)
            let configured = Set(runs.truth.relations.keys.map(\.dataSourceID)).filter { id in
                relations.contains { ($0["source_data_source_id"] as? String) == id.uuidString.lowercased() }
            }
            let truthEdges = runs.truth.relations.filter { configured.contains($0.key.dataSourceID) }
            #expect(json["total_edges"] as? Int == truthEdges.values.reduce(0) { $0 + $1.count })
            #expect(relations.reduce(0) { $0 + ($1["pages_over_25"] as? Int ?? 0) } == truthEdges.values.filter { $0.count > 25 }.count)
            #expect(relations.compactMap { $0["max_degree"] as? Int }.max() == 1_003)
            let lastRun = try #require(json["last_run"] as? [String: Any])
            #expect(lastRun["outcome"] as? String == "failed")
            #expect((json["last_successful_run"] as? [String: Any])?["run_id"] as? Int == runs.succeeded)
            #expect((json["lag_seconds"] as? Double ?? -1) >= 0)
            let lastError = try #require(json["last_error"] as? [String: Any])
            #expect(lastError["resolved"] as? Bool == false)
            #expect((lastError["message"] as? String)?.isEmpty == false)
            let sources = try #require(json["data_sources"] as? [[String: Any]])
            for source in sources {
                let id = try #require((source["id"] as? String).flatMap(UUID.init(uuidString:)))
                #expect(source["pages"] as? Int == runs.truth.pages[id]?.count, "\(source["name"] ?? "")")
            }
            let history = try await db.query("SELECT count(*) FROM \(db.quoteIdentifier(scenario.schema)).edge_history")
            #expect(json["history_rows"] as? Int == Int(history.scalar ?? ""))

            // status as a table, and the report: PostgreSQL only, so NOTION_TOKEN is not needed.
            let text = try await runRelsync(["status", "--config", runs.config])
            #expect(text.status == 0, "stderr: \(text.stderr)")
            for expected in ["last run      #", "failed", "lag", "last error    run #", "RELATION", "JOIN VIEW", "projects__team_members", "Team Members"] {
                #expect(text.stdout.contains(expected), "status text lacks \(expected)")
            }

            // The report file.
            let path = scenario.dir.appendingPathComponent("report.html").path
            let report = try await runRelsync(["report", "--config", runs.config, "--out", path])
            #expect(report.status == 0, "stderr: \(report.stderr)")
            let html = try String(contentsOfFile: path, encoding: .utf8)
            try ReportChecks.selfContained(html)
            #expect(!html.contains(Self.hostileName), "names are escaped")
            #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s Tasks"))
            let charts = ReportChecks.svgs(html)
            // Largest relations, one distribution per relation (3), edges per day, calls, durations.
            let expectedCharts = 7
            #expect(charts.count == expectedCharts)
            for (index, chart) in charts.enumerated() {
                #expect(ReportChecks.marks(chart) > 0, "chart \(index) has no marks")
            }
            #expect(charts.allSatisfy { $0.contains("<title>") })
            #expect(html.contains(ReportChecks.orange), "a bucket past 25 is drawn in orange")
            #expect(html.contains(ReportChecks.red), "the 429s and the removed edges are drawn in red")
            #expect(html.contains("Last run failed"))
        }
    }

    @Test(.enabled(if: Chromium.path != nil, "chromium is not installed (apt-get install chromium; scripts/deps.sh)"))
    func theReportRendersWithItsChartsInChromium() async throws {
        try await withScenario { scenario in
            let runs = try await Self.threeRuns(scenario)
            let path = scenario.dir.appendingPathComponent("report.html").path
            let report = try await runRelsync(["report", "--config", runs.config, "--out", path])
            #expect(report.status == 0, "stderr: \(report.stderr)")
            let html = try String(contentsOfFile: path, encoding: .utf8)

            // The DOM as Chromium parsed it: the same charts, each with its marks, and no script.
            let dom = try await Chromium.dumpDOM(path)
            #expect(dom.status == 0, "chromium: \(dom.stderr.suffix(500))")
            let parsed = ReportChecks.svgs(dom.stdout)
            #expect(parsed.count == ReportChecks.svgs(html).count)
            #expect(parsed.allSatisfy { ReportChecks.marks($0) > 0 })
            #expect(!dom.stdout.lowercased().contains("<script"))

            // The picture: not blank, many colours, and the charts' colours in real pixels.
            let png = scenario.dir.appendingPathComponent("report.png").path
            let shot = try await Chromium.screenshot(path, to: png, width: 1100, height: 3200)
            #expect(shot.status == 0, "chromium: \(shot.stderr.suffix(500))")
            let pixels = try PNGStatistics.measure(png)
            #expect(pixels.width == 1100 && pixels.height == 3200)
            #expect(pixels.dominantFraction < 0.85, "mostly one colour: \(pixels.dominantFraction)")
            #expect(pixels.distinctColors > 50)
            for (name, count) in pixels.chartColors {
                #expect(count > 200, "\(name) bars: \(count) pixels")
            }
            if let keep = ProcessInfo.processInfo.environment["RELSYNC_REPORT_PNG"] {
                try? FileManager.default.removeItem(atPath: keep)
                try FileManager.default.copyItem(atPath: png, toPath: keep)
            }
        }
    }
}

/// Makes docs/report.png, the README's screenshot: two weeks of daily runs on the demo
/// workspace (edits between runs, 429s in some, one failed run), each run's rows moved back to
/// its day. Run it on purpose:
///   RELSYNC_DOCS_SCREENSHOT=$PWD/docs/report.png swift test --filter docsScreenshot
@Suite(.enabled(
    if: E2E.enabled && Chromium.path != nil && ProcessInfo.processInfo.environment["RELSYNC_DOCS_SCREENSHOT"] != nil,
    "set RELSYNC_DOCS_SCREENSHOT=<png path> to remake the README's screenshot (needs chromium)"))
struct ReportScreenshotTests {
    @Test func docsScreenshot() async throws {
        let output = try #require(ProcessInfo.processInfo.environment["RELSYNC_DOCS_SCREENSHOT"])
        try await withScenario { scenario in
            let engine = SimulatorEngine(workspace: .demo(seed: 3), configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let members = try #require(manifest.dataSource(named: PresetNames.members))
            let tasks = try #require(manifest.dataSource(named: PresetNames.tasks))
            let projectsID = UUID(uuidString: projects.id)!
            let team = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id
            let sync = "  - data_source: \(projects.id)\n  - data_source: \(tasks.id)\n"
            let db = try await PostgresConnection.connect(url: E2E.databaseURL, logger: E2E.logger)
            defer { db.close() }
            let schema = db.quoteIdentifier(scenario.schema)
            let days = 14
            try await withSimulator(engine) { port in
                var generator = SystemRandomNumberGenerator()
                for day in 0..<days {
                    let failing = day == 9
                    _ = try scenario.writeConfig(port: port, sync: sync, notionExtra: failing ? "max_attempts: 2" : "")
                    if day > 0 {
                        // A day of edits: members join and leave projects.
                        let truth = await engine.groundTruth()
                        let memberPages = truth.pages[UUID(uuidString: members.id)!]!
                        for _ in 0..<Int.random(in: 5...40, using: &generator) {
                            let page = truth.pages[projectsID]!.randomElement(using: &generator)!
                            let list = truth.relation(projectsID, team, page) ?? []
                            if Bool.random(using: &generator), let gone = list.randomElement(using: &generator) {
                                try? await engine.removeRelationTarget(page: page, property: team, target: gone)
                            } else if let joiner = memberPages.randomElement(using: &generator), !list.contains(joiner) {
                                try? await engine.addRelationTarget(page: page, property: team, target: joiner)
                            }
                        }
                    }
                    if day % 4 == 1 { await engine.injectFault(.rateLimited(retryAfter: 1), on: .queryDataSource, count: 3) }
                    if failing { await engine.injectFault(.serverError(503), on: .queryDataSource, count: 2) }
                    let config = scenario.dir.appendingPathComponent("relsync.yaml").path
                    let run = try await scenario.reconcile(config, day == 0 ? [] : ["--full"])
                    #expect(run.status == (failing ? 69 : 0), "stderr: \(run.stderr)")
                    // Move this run's rows back to its day.
                    let back = String(days - 1 - day)
                    try await db.execute(
                        "UPDATE \(schema).runs SET started_at = started_at - $1::int * interval '1 day', finished_at = finished_at - $1::int * interval '1 day' WHERE run_id = (SELECT max(run_id) FROM \(schema).runs)",
                        [back])
                    try await db.execute(
                        "UPDATE \(schema).edge_history SET changed_at = changed_at - $1::int * interval '1 day' WHERE run_id = (SELECT max(run_id) FROM \(schema).runs)",
                        [back])
                }
            }
            let html = scenario.dir.appendingPathComponent("report.html").path
            let config = scenario.dir.appendingPathComponent("relsync.yaml").path
            let report = try await runRelsync(["report", "--config", config, "--out", html, "--days", "14"], environment: scenario.environment)
            #expect(report.status == 0, "stderr: \(report.stderr)")
            let shot = try await Chromium.screenshot(html, to: output, width: 1100, height: 2300)
            #expect(shot.status == 0, "chromium: \(shot.stderr.suffix(500))")
            // The report itself beside the picture (report.png → report.html).
            let page = URL(fileURLWithPath: output).deletingPathExtension().appendingPathExtension("html").path
            try? FileManager.default.removeItem(atPath: page)
            try FileManager.default.copyItem(atPath: html, toPath: page)
        }
    }
}

enum ReportChecks {
    static let blue = "#3b6fd4", orange = "#e8833a", green = "#2e9e5b", red = "#d64545"

    /// Nothing is loaded from elsewhere: no script, no external URL, no font or image file.
    static func selfContained(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let lower = html.lowercased()
        #expect(lower.hasPrefix("<!doctype html>"), sourceLocation: sourceLocation)
        for forbidden in ["<script", "src=", "href=", "url(", "@import", "@font-face", "<link", "<img", "<iframe"] {
            #expect(!lower.contains(forbidden), "the report contains \(forbidden)", sourceLocation: sourceLocation)
        }
        // The only URL is the SVG namespace, which is never fetched.
        let urls = lower.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix(30) }
        #expect(urls.allSatisfy { $0.hasPrefix("http://www.w3.org/2000/svg") }, "\(urls.prefix(3))", sourceLocation: sourceLocation)
    }

    /// Every `<svg …>…</svg>` element.
    static func svgs(_ html: String) -> [String] {
        html.components(separatedBy: "<svg").dropFirst().map { $0.components(separatedBy: "</svg>").first ?? "" }
    }

    /// Data marks in one chart: elements with class "mark".
    static func marks(_ svg: String) -> Int {
        svg.components(separatedBy: "class=\"mark\"").count - 1
    }
}

/// Headless Chromium, when installed.
enum Chromium {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    static func run(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent(E2E.uniqueName("chromium"))
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path ?? "chromium")
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(profile.path)", "--force-device-scale-factor=1",
        ] + arguments
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(E2E.uniqueName("chromium-out"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("stdout"), err = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        // Bounded: a hung browser fails the test instead of hanging it.
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "", (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    static func dumpDOM(_ file: String) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await run(["--dump-dom", URL(fileURLWithPath: file).absoluteString])
    }

    static func screenshot(_ file: String, to png: String, width: Int, height: Int) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await run(["--screenshot=\(png)", "--window-size=\(width),\(height)", URL(fileURLWithPath: file).absoluteString])
    }
}

/// Pixel statistics of a PNG: decoded here (chunks, zlib through the system's libz, scanline
/// filters), so no image library or Python package is needed.
enum PNGStatistics {
    struct Result {
        var width: Int
        var height: Int
        /// The share of pixels that have the most common colour.
        var dominantFraction: Double
        /// Colours after quantizing each channel to 5 bits.
        var distinctColors: Int
        /// Pixels within a small distance of each chart colour.
        var chartColors: [String: Int]
    }

    struct DecodeError: Error, CustomStringConvertible {
        var description: String
    }

    typealias Uncompress = @convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt) -> Int32

    /// zlib's `uncompress`, from the libz every libpq and libcurl install brings.
    static let uncompress: Uncompress? = {
        guard let handle = dlopen("libz.so.1", RTLD_NOW) ?? dlopen("libz.dylib", RTLD_NOW),
            let symbol = dlsym(handle, "uncompress")
        else { return nil }
        return unsafeBitCast(symbol, to: Uncompress.self)
    }()

    static func measure(_ path: String) throws -> Result {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard data.count > 8, data[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw DecodeError(description: "not a PNG") }
        func be32(_ at: Int) -> Int { Int(data[at]) << 24 | Int(data[at + 1]) << 16 | Int(data[at + 2]) << 8 | Int(data[at + 3]) }
        var position = 8, width = 0, height = 0, channels = 0
        var compressed: [UInt8] = []
        while position + 8 <= data.count {
            let length = be32(position)
            let kind = String(decoding: data[(position + 4)..<(position + 8)], as: UTF8.self)
            let body = position + 8
            if kind == "IHDR" {
                width = be32(body)
                height = be32(body + 4)
                guard data[body + 8] == 8, data[body + 12] == 0, [2, 6].contains(data[body + 9]) else {
                    throw DecodeError(description: "unsupported PNG layout")
                }
                channels = data[body + 9] == 6 ? 4 : 3
            } else if kind == "IDAT" {
                compressed += data[body..<(body + length)]
            }
            position = body + length + 4
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var size = UInt(raw.count)
        guard let uncompress else { throw DecodeError(description: "libz is not available") }
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { uncompress(out.baseAddress, &size, $0.baseAddress, UInt($0.count)) }
        }
        guard status == 0, Int(size) == raw.count else { throw DecodeError(description: "zlib failed (\(status))") }

        let targets: [(String, (Int, Int, Int))] = [
            ("blue", (0x3B, 0x6F, 0xD4)), ("orange", (0xE8, 0x83, 0x3A)), ("green", (0x2E, 0x9E, 0x5B)), ("red", (0xD6, 0x45, 0x45)),
        ]
        var near = [Int](repeating: 0, count: targets.count)
        var counts: [Int: Int] = [:]
        var previous = [UInt8](repeating: 0, count: stride)
        var line = [UInt8](repeating: 0, count: stride)
        for row in 0..<height {
            let start = row * (stride + 1)
            let filter = raw[start]
            for i in 0..<stride {
                let x = Int(raw[start + 1 + i])
                let a = i >= channels ? Int(line[i - channels]) : 0
                let b = Int(previous[i])
                let c = i >= channels ? Int(previous[i - channels]) : 0
                var value = x
                switch filter {
                case 1: value = x + a
                case 2: value = x + b
                case 3: value = x + (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    value = x + (pa <= pb && pa <= pc ? a : (pb <= pc ? b : c))
                default: break
                }
                line[i] = UInt8(truncatingIfNeeded: value)
            }
            for x in Swift.stride(from: 0, to: stride, by: channels) {
                let r = Int(line[x]), g = Int(line[x + 1]), b = Int(line[x + 2])
                counts[(r >> 3) << 10 | (g >> 3) << 5 | (b >> 3), default: 0] += 1
                for (index, target) in targets.enumerated()
                where abs(r - target.1.0) < 12 && abs(g - target.1.1) < 12 && abs(b - target.1.2) < 12 {
                    near[index] += 1
                }
            }
            swap(&previous, &line)
        }
        return Result(
            width: width, height: height, dominantFraction: Double(counts.values.max() ?? 0) / Double(max(1, width * height)),
            distinctColors: counts.count,
            chartColors: Dictionary(uniqueKeysWithValues: targets.enumerated().map { ($0.element.0, near[$0.offset]) }))
    }
}
