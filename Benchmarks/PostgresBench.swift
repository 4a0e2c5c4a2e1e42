import Foundation
import Logging
import PostgresStore

/// (c) The PostgreSQL phase: `PostgresStore.apply` of a synthetic snapshot with N edges (a first
/// load, then the same snapshot with 1% of its edges changed, then unchanged), against
/// `psql \copy` of the very same rows into tables declared like relsync's own (same columns,
/// primary keys and secondary indexes), measured side by side in the same run.
enum PostgresBench {
    static let psql = "/usr/bin/psql"

    struct Timings {
        var firstLoad: [Double] = []
        var changed: [Double] = []
        var unchanged: [Double] = []
        var copy: [Double] = []
        var copyReload: [Double] = []
        var copyPKOnly: [Double] = []
        var added = 0
        var removed = 0
    }

    static func run(_ env: BenchEnvironment, _ results: Results) async throws {
        guard FileManager.default.isExecutableFile(atPath: psql) else { throw BenchError("\(psql) is missing (apt-get install postgresql-client)") }
        let sizes = env.quick ? [100_000] : [100_000, 1_000_000]
        for size in sizes {
            try await measure(edges: size, repetitions: size >= 1_000_000 ? 2 : 3, env, results)
        }
    }

    static func measure(edges count: Int, repetitions: Int, _ env: BenchEnvironment, _ results: Results) async throws {
        let data = SnapshotData(edges: count, seed: env.seed)
        let dir = env.scratch.appendingPathComponent("pg-\(count)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try data.writeFiles(to: dir)

        var t = Timings()
        for _ in 0..<repetitions {
            try await relsyncSide(data, env, &t)
            try await copySide(files, env, &t)
        }
        let label = "\(count.formatted()) edges, \(data.pages.count.formatted()) pages"
        let target: Target = count >= 1_000_000 ? .ratioAtMost(1.5) : .none
        let pkOnly = median(t.copyPKOnly)
        let common = "median of \(repetitions); the floor is one psql --single-transaction with two \\copy (pages, edges) into tables "
            + "declared like relsync's (primary keys + the to_page_id and data_source_id indexes); "
            + String(format: "into tables with primary keys only it took %.2f s", pkOnly)
        results.add(Figure(
            bench: "postgres", name: "apply, first load · \(label)", value: median(t.firstLoad), unit: "s",
            floor: median(t.copy), floorName: "psql \\copy of the same rows", target: target,
            notes: [common, "apply also writes \(count.formatted()) edge_history rows, the relations catalog and the join view, "
                + "and diffs against what is stored; all in one transaction",
                    "runs: apply " + t.firstLoad.map { format($0, decimals: 2) }.joined(separator: ", ")
                        + " s; \\copy " + t.copy.map { format($0, decimals: 2) }.joined(separator: ", ") + " s"]))
        results.add(Figure(
            bench: "postgres", name: "apply, 1% of edges changed · \(label)", value: median(t.changed), unit: "s",
            floor: median(t.copyReload), floorName: "psql TRUNCATE + \\copy of the same rows", target: target,
            notes: ["+\(t.added) −\(t.removed) edges; the floor reloads everything in one transaction, as a naive sync would"]))
        results.add(Figure(
            bench: "postgres", name: "apply, nothing changed · \(label)", value: median(t.unchanged), unit: "s",
            floor: median(t.copyReload), floorName: "psql TRUNCATE + \\copy of the same rows", target: .none,
            notes: ["the usual cron case on a full sweep; information only"]))
    }

    // MARK: relsync's side

    static func relsyncSide(_ data: SnapshotData, _ env: BenchEnvironment, _ t: inout Timings) async throws {
        let schema = "bench_pg_\(UInt32.random(in: 0...UInt32.max))"
        let store = try await PostgresStore.open(
            StoreConfiguration(url: env.databaseURL, schema: schema, viewsSchema: schema + "_views", applicationName: "relsync-bench"),
            logger: BenchEnvironment.logger)
        do {
            _ = try await store.migrate()
            let runID = try await store.beginRun(mode: "full")
            await checkpoint(env)
            let (_, first) = try await timed { try await store.apply(data.snapshot(changed: false), runID: runID) }
            t.firstLoad.append(first)
            let changed = data.snapshot(changed: true)
            await checkpoint(env)
            let (result, second) = try await timed { try await store.apply(changed, runID: runID) }
            t.changed.append(second)
            t.added = result.edgesAdded
            t.removed = result.edgesRemoved
            await checkpoint(env)
            let (_, third) = try await timed { try await store.apply(changed, runID: runID) }
            t.unchanged.append(third)
        } catch {
            store.close()
            await drop([schema, schema + "_views"], env)
            throw error
        }
        store.close()
        await drop([schema, schema + "_views"], env)
    }

    // MARK: The floor: psql \copy

    static func copySide(_ files: SnapshotData.Files, _ env: BenchEnvironment, _ t: inout Timings) async throws {
        for pkOnly in [false, true] {
            let schema = "bench_copy_\(UInt32.random(in: 0...UInt32.max))"
            let db = try await PostgresConnection.connect(url: env.databaseURL, logger: BenchEnvironment.logger)
            defer { db.close() }
            try await db.executeScript(
                """
                CREATE SCHEMA \(schema);
                CREATE TABLE \(schema).pages (
                    page_id uuid PRIMARY KEY, data_source_id uuid NOT NULL, title text NOT NULL DEFAULT '', url text,
                    created_time timestamptz, last_edited_time timestamptz, last_edited_by uuid,
                    in_trash boolean NOT NULL DEFAULT false,
                    first_seen_at timestamptz NOT NULL DEFAULT now(), last_seen_at timestamptz NOT NULL DEFAULT now());
                CREATE TABLE \(schema).edges (
                    source_data_source_id uuid NOT NULL, property_id text NOT NULL, from_page_id uuid NOT NULL,
                    to_page_id uuid NOT NULL, position integer, added_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (source_data_source_id, property_id, from_page_id, to_page_id));
                """ + (pkOnly ? "" : """

                CREATE INDEX ON \(schema).pages (data_source_id);
                CREATE INDEX ON \(schema).edges (to_page_id);
                """))
            do {
                let load = [
                    "\\copy \(schema).pages (page_id, data_source_id, title, url, created_time, last_edited_time, last_edited_by, in_trash) FROM '\(files.pages)'",
                    "\\copy \(schema).edges (source_data_source_id, property_id, from_page_id, to_page_id, position) FROM '\(files.edges)'",
                ]
                await checkpoint(env)
                let first = try await runPSQL(load, env)
                if pkOnly {
                    t.copyPKOnly.append(first)
                } else {
                    t.copy.append(first)
                    let reload = [
                        "TRUNCATE \(schema).pages, \(schema).edges",
                        "\\copy \(schema).pages (page_id, data_source_id, title, url, created_time, last_edited_time, last_edited_by, in_trash) FROM '\(files.pagesChanged)'",
                        "\\copy \(schema).edges (source_data_source_id, property_id, from_page_id, to_page_id, position) FROM '\(files.edgesChanged)'",
                    ]
                    await checkpoint(env)
                    t.copyReload.append(try await runPSQL(reload, env))
                }
            } catch {
                _ = try? await db.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
                throw error
            }
            _ = try? await db.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        }
    }

    /// Runs psql with `commands` in one transaction; returns its wall time (connection included).
    static func runPSQL(_ commands: [String], _ env: BenchEnvironment) async throws -> Double {
        let process = ProcessInfo.processInfo.environment
        var childEnv = ["PATH": process["PATH"] ?? "/usr/bin:/bin", "HOME": process["HOME"] ?? "/tmp"]
        for key in ["PGPASSWORD", "PGSSLMODE", "PGUSER", "PGHOST", "PGPORT", "PGDATABASE"] { childEnv[key] = process[key] }
        let arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", env.databaseURL]
            + commands.flatMap { ["-c", $0] }
        let result = try await Child.run(psql, arguments, environment: childEnv, directory: env.scratch)
        guard result.status == 0 else { throw BenchError("psql exited \(result.status): \(result.lastError)") }
        return result.wallSeconds
    }

    /// Flushes dirty buffers before a timed step, so no step pays for the previous one's writes.
    static func checkpoint(_ env: BenchEnvironment) async {
        guard let db = try? await PostgresConnection.connect(url: env.databaseURL, logger: BenchEnvironment.logger) else { return }
        _ = try? await db.execute("CHECKPOINT")
        db.close()
    }

    static func drop(_ schemas: [String], _ env: BenchEnvironment) async {
        guard let db = try? await PostgresConnection.connect(url: env.databaseURL, logger: BenchEnvironment.logger) else { return }
        for schema in schemas { _ = try? await db.execute("DROP SCHEMA IF EXISTS \(db.quoteIdentifier(schema)) CASCADE") }
        db.close()
    }
}

/// A synthetic data-source snapshot with an exact number of edges: source pages with 1–99
/// targets each (50 on average) among 20,000 target pages; the "changed" variant points 1% of
/// the edges at other pages.
struct SnapshotData {
    let dataSource: DataSourceRow
    let relation: RelationRow
    let pages: [PageRow]
    let edges: [EdgeRow]
    let changedEdges: [EdgeRow]

    init(edges count: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed &+ UInt64(count))
        let sourceID = rng.uuid(), targetSourceID = rng.uuid()
        dataSource = DataSourceRow(id: sourceID, databaseID: rng.uuid(), name: "Items", configured: true)
        relation = RelationRow(sourceDataSourceID: sourceID, propertyID: "Lk%3D", propertyName: "Links",
                               targetDataSourceID: targetSourceID, kind: .single, joinView: "items__links")
        let targets = (0..<20_000).map { _ in rng.uuid() }
        let editor = rng.uuid()
        let base = Date(timeIntervalSince1970: 1_767_603_600)
        var pages: [PageRow] = []
        var edges: [EdgeRow] = []
        edges.reserveCapacity(count)
        while edges.count < count {
            let size = min(rng.int(in: 1...99), count - edges.count)
            let id = rng.uuid()
            let created = base.addingTimeInterval(Double(pages.count) * 26)
            pages.append(PageRow(pageID: id, dataSourceID: sourceID, title: "Item \(pages.count + 1)",
                                 url: "https://www.notion.so/Item-\(id.uuidString.lowercased().replacingOccurrences(of: "-", with: ""))",
                                 createdTime: created, lastEditedTime: created.addingTimeInterval(3_600), lastEditedBy: editor))
            for (position, target) in rng.sample(size, of: targets).enumerated() {
                edges.append(EdgeRow(fromPageID: id, toPageID: target, position: position))
            }
        }
        self.pages = pages
        self.edges = edges
        var changed = edges
        var index = 0
        while index < changed.count {
            changed[index].toPageID = rng.uuid()   // a page outside the pool: one edge removed, one added
            index += 100
        }
        changedEdges = changed
    }

    func snapshot(changed: Bool) -> DataSourceSnapshot {
        DataSourceSnapshot(dataSource: dataSource, pages: pages, relations: [relation],
                           edges: [relation.propertyID: changed ? changedEdges : edges], complete: true)
    }

    struct Files {
        var pages: String
        var edges: String
        var pagesChanged: String
        var edgesChanged: String
    }

    /// The same rows in COPY text format, for psql.
    func writeFiles(to dir: URL) throws -> Files {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var pageText = ""
        pageText.reserveCapacity(pages.count * 200)
        for p in pages {
            pageText += "\(p.pageID.uuidString)\t\(p.dataSourceID.uuidString)\t\(p.title)\t\(p.url ?? "\\N")\t"
                + "\(p.createdTime.map { style.format($0) } ?? "\\N")\t\(p.lastEditedTime.map { style.format($0) } ?? "\\N")\t"
                + "\(p.lastEditedBy?.uuidString ?? "\\N")\t\(p.inTrash ? "t" : "f")\n"
        }
        func edgeText(_ list: [EdgeRow]) -> Data {
            var out = Data()
            out.reserveCapacity(list.count * 130)
            let prefix = "\(dataSource.id.uuidString)\t\(relation.propertyID)\t"
            for e in list {
                out.append(contentsOf: (prefix + "\(e.fromPageID.uuidString)\t\(e.toPageID.uuidString)\t\(e.position.map(String.init) ?? "\\N")\n").utf8)
            }
            return out
        }
        let files = Files(pages: dir.appendingPathComponent("pages.tsv").path, edges: dir.appendingPathComponent("edges.tsv").path,
                          pagesChanged: dir.appendingPathComponent("pages.tsv").path,
                          edgesChanged: dir.appendingPathComponent("edges-changed.tsv").path)
        try pageText.write(toFile: files.pages, atomically: false, encoding: .utf8)
        try edgeText(edges).write(to: URL(fileURLWithPath: files.edges))
        try edgeText(changedEdges).write(to: URL(fileURLWithPath: files.edgesChanged))
        return files
    }
}
