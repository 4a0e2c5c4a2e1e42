import Foundation
import PostgresStore
import Synchronization
import Testing

/// Titles that break naive CSV, COPY text format and JSON handling.
let hostileTitles = [
    #"He said "hi", then left"#, #"back\slash \\ double \N \. end"#, "line\nbreak", "crlf\r\nline", "lone\rreturn",
    "tab\there", "comma,semi;colon", "emoji 🎉👥🏳️‍🌈", "e\u{301}combining", "sep\u{2028}arator", "", "  padded  ",
    "\u{01}\u{02} control \u{7F}", #"{"json": [1, "two"]}"#, "\"", "\"\"", ",", "\\", #"\\N"#, "日本語のタイトル",
]

private enum ExportFixture {
    static func id(_ group: Int, _ n: Int) -> UUID {
        UUID(uuidString: String(format: "%08d-0000-4000-8000-%012d", group, n))!
    }

    static let source = DataSourceRow(id: id(1, 1), databaseID: id(2, 1), name: "Pro\"jects, \\ 🚀", configured: true)
    static let target = DataSourceRow(id: id(1, 2), databaseID: nil, name: "People", configured: false)

    static func relation(from: String = "project_page_id", to: String = "person_page_id", view: String = "projects__team") -> RelationRow {
        RelationRow(
            sourceDataSourceID: source.id, propertyID: "%3A'x\\y", propertyName: "Team \"Members\"", targetDataSourceID: target.id,
            kind: .single, joinView: view, fromColumn: from, toColumn: to)
    }

    static var sourcePages: [PageRow] {
        hostileTitles.enumerated().map { index, title in
            PageRow(
                pageID: id(10, index), dataSourceID: source.id, title: title, url: index % 2 == 0 ? nil : "https://x.test/\(index)?a=1,b=\"2\"",
                createdTime: Date(timeIntervalSince1970: 1_760_000_000.123), lastEditedTime: Date(timeIntervalSince1970: 1_760_000_060))
        }
    }

    static var targetPages: [PageRow] {
        (0..<40).map { PageRow(pageID: id(20, $0), dataSourceID: target.id, title: "Person \($0)") }
    }

    /// Page i links to the first i people.
    static var edges: [EdgeRow] {
        (0..<hostileTitles.count).flatMap { from in
            (0..<from).map { EdgeRow(fromPageID: id(10, from), toPageID: id(20, $0), position: $0) }
        }
    }

    static func load(_ store: PostgresStore, relation: RelationRow = relation()) async throws {
        let run = try await store.beginRun(mode: "full")
        _ = try await store.apply(
            DataSourceSnapshot(dataSource: target, pages: targetPages, relations: [], edges: [:], complete: true), runID: run)
        _ = try await store.apply(
            DataSourceSnapshot(dataSource: source, pages: sourcePages, relations: [relation], edges: [relation.propertyID: edges], complete: true),
            runID: run)
    }
}

/// Collects what a COPY sends, chunk by chunk.
final class ChunkCollector: Sendable {
    private let state = Mutex<(bytes: [UInt8], chunks: [Int])>(([], []))

    func append(_ buffer: UnsafeRawBufferPointer) {
        state.withLock {
            $0.bytes.append(contentsOf: buffer)
            $0.chunks.append(buffer.count)
        }
    }

    var bytes: [UInt8] { state.withLock { $0.bytes } }
    var chunks: [Int] { state.withLock { $0.chunks } }
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Runs psql against the test database; returns its exit status and stderr.
func runPsql(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", TestDatabase.url] + arguments
    let errorPipe = Pipe()
    process.standardError = errorPipe
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let stderr = errorPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
}

extension PostgresIntegrationTests {
    @Suite struct ExportTests {
        @Test func copyOutStreamsInChunksAndCountsRows() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            let collector = ChunkCollector()
            let result = try await connection.copyOut(
                "COPY (SELECT g, repeat('x', 50) FROM generate_series(1, 1000) g) TO STDOUT", chunkSize: 4096
            ) { collector.append($0) }
            #expect(result.rows == 1000)
            #expect(result.bytes == collector.bytes.count)
            let lines = collector.text.split(separator: "\n")
            #expect(lines.count == 1000)
            #expect(lines.first.map(String.init) == "1\t" + String(repeating: "x", count: 50))
            // Several chunks, none over the limit: streamed, not buffered whole.
            #expect(collector.chunks.count > 10)
            #expect(collector.chunks.allSatisfy { $0 <= 4096 })
        }

        @Test func aRowLongerThanAChunkArrivesWhole() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            let collector = ChunkCollector()
            let result = try await connection.copyOut("COPY (SELECT repeat('y', 10000)) TO STDOUT", chunkSize: 100) { collector.append($0) }
            #expect(result.rows == 1)
            #expect(collector.bytes.count == 10_001)
        }

        @Test func aFailingSinkCancelsTheCopyAndTheConnectionStaysUsable() async throws {
            struct DiskFull: Error {}
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            let collector = ChunkCollector()
            await #expect(throws: DiskFull.self) {
                try await connection.copyOut(
                    "COPY (SELECT g FROM generate_series(1, 5000000) g) TO STDOUT", chunkSize: 1024
                ) { buffer in
                    collector.append(buffer)
                    if collector.chunks.count == 3 { throw DiskFull() }
                }
            }
            #expect(collector.chunks.count == 3)
            #expect(try await connection.query("SELECT 41 + 1").scalar == "42")
        }

        @Test func aStatementThatIsNotCopyToStdoutIsRefused() async throws {
            let connection = try await TestDatabase.connect()
            defer { connection.close() }
            let error = await storeError { _ = try await connection.copyOut("SELECT 1") { _ in } }
            #expect(error?.code == .protocol)
            let serverError = await storeError { _ = try await connection.copyOut("COPY nonexistent_table_x TO STDOUT") { _ in } }
            #expect(serverError?.sqlState == "42P01")
            #expect(try await connection.query("SELECT 1").scalar == "1")
        }

        @Test func csvRoundTripsThroughPsqlCopyExactly() async throws {
            try await withStore { store in
                try await ExportFixture.load(store)
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent(TestDatabase.uniqueName("export"))
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: dir) }

                let schema = store.connection.quoteIdentifier(store.configuration.schema)
                for dataset in [ExportDataset.pages, .edgeHistory(), .relationCatalog] {
                    let collector = ChunkCollector()
                    let result = try await store.withExportSnapshot { session in
                        try await session.copy(dataset, format: .csv) { collector.append($0) }
                    }
                    let file = dir.appendingPathComponent(dataset.path + ".csv")
                    try Data(collector.bytes).write(to: file)
                    #expect(collector.text.hasPrefix(dataset.kind == .edgeHistory ? "history_id,run_id," : ""))

                    // Re-import with psql \copy into a table of the same shape; compare both ways.
                    let copyTable = "\(schema).reimport_\(dataset.kind.rawValue)"
                    let sourceQuery: String
                    switch dataset.kind {
                    case .pages: sourceQuery = "SELECT * FROM \(schema).pages"
                    case .relationCatalog: sourceQuery = "SELECT * FROM \(schema).relation_catalog"
                    default:
                        sourceQuery = """
                            SELECT h.history_id, h.run_id, h.changed_at, h.change, h.source_data_source_id, h.property_id,
                                   r.property_name, h.from_page_id, h.to_page_id, h.position
                            FROM \(schema).edge_history h LEFT JOIN \(schema).relations r USING (source_data_source_id, property_id)
                            """
                    }
                    try await store.connection.execute("CREATE TABLE \(copyTable) AS \(sourceQuery) WITH NO DATA")
                    let psql = try runPsql(["-c", "\\copy \(copyTable) FROM '\(file.path)' WITH (FORMAT csv, HEADER true)"])
                    #expect(psql.status == 0, "psql: \(psql.stderr)")
                    let counts = try await store.connection.query(
                        """
                        SELECT (SELECT count(*) FROM \(copyTable)),
                               (SELECT count(*) FROM (\(sourceQuery) EXCEPT ALL SELECT * FROM \(copyTable)) a),
                               (SELECT count(*) FROM (SELECT * FROM \(copyTable) EXCEPT ALL \(sourceQuery)) b)
                        """)
                    #expect(counts.rows[0] == [String(result.rows), "0", "0"], "\(dataset.kind)")
                    #expect(result.rows > 0)
                }
                // NULL and the empty string stay apart: url NULL vs title "".
                let pages = try await store.connection.query(
                    "SELECT count(*) FROM \(schema).reimport_pages WHERE title = '' AND url IS NULL")
                #expect(pages.scalar == "1")
            }
        }

        @Test func jsonLinesCarryHostileTextExactly() async throws {
            try await withStore { store in
                try await ExportFixture.load(store)
                let collector = ChunkCollector()
                let result = try await store.withExportSnapshot { session in
                    try await session.copy(.pages, format: .jsonl, chunkSize: 512) { collector.append($0) }
                }
                let text = collector.text
                #expect(text.hasSuffix("\n"))
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                #expect(lines.count == result.rows)
                #expect(result.rows == hostileTitles.count + 40)
                var titles: [UUID: String] = [:]
                for line in lines {
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                    let id = try #require((object["page_id"] as? String).flatMap(UUID.init(uuidString:)))
                    titles[id] = object["title"] as? String
                    #expect(object.keys.contains("url"))
                    #expect(object["in_trash"] as? Bool == false)
                }
                for page in ExportFixture.sourcePages {
                    #expect(titles[page.pageID] == page.title, "title \(page.title.debugDescription)")
                }
                // Keys in column order; timestamps in UTC ISO 8601.
                let first = try #require(lines.first.map(String.init))
                #expect(first.hasPrefix(#"{"page_id":"#))
                let edited = try #require(lines.first { $0.contains(ExportFixture.id(10, 1).uuidString.lowercased()) })
                #expect(edited.contains(#""last_edited_time":"2025-10-09T08:54:20+00:00""#))
                #expect(edited.contains(#""url":"https://x.test/1?a=1,b=\"2\"""#))
            }
        }

        @Test func joinViewsExportInNotionOrderUnderTheirColumnNames() async throws {
            try await withStore { store in
                try await ExportFixture.load(store)
                let catalog = try await store.relationCatalog()
                let relation = try #require(catalog.first)
                #expect(relation.fromColumn == "project_page_id")
                #expect(relation.toColumn == "person_page_id")
                #expect(relation.sourceName == ExportFixture.source.name)
                #expect(relation.targetName == "People")
                let csv = ChunkCollector(), json = ChunkCollector()
                let (csvResult, jsonResult) = try await store.withExportSnapshot { session in
                    (try await session.copy(.joinView(relation), format: .csv) { csv.append($0) },
                     try await session.copy(.joinView(relation), format: .jsonl) { json.append($0) })
                }
                let expected = ExportFixture.edges.count
                #expect(csvResult.rows == expected)
                #expect(jsonResult.rows == expected)
                let lines = csv.text.split(separator: "\n")
                #expect(lines.first == "project_page_id,person_page_id,position")
                // Page 2's two targets, in position order.
                let page2 = ExportFixture.id(10, 2).uuidString.lowercased()
                let rows = lines.filter { $0.hasPrefix(page2) }.map { $0.split(separator: ",").last.map(String.init) }
                #expect(rows == ["0", "1"])
                #expect(json.text.split(separator: "\n").first?.hasPrefix(#"{"project_page_id":"#) == true)
            }
        }

        @Test func historyExportCanBeLimitedToSomeRelations() async throws {
            try await withStore { store in
                try await ExportFixture.load(store)
                let key = RelationKey(sourceDataSourceID: ExportFixture.source.id, propertyID: ExportFixture.relation().propertyID)
                let (all, some, none) = try await store.withExportSnapshot { session in
                    (try await session.copy(.edgeHistory(), format: .csv) { _ in },
                     try await session.copy(.edgeHistory(relations: [key]), format: .csv) { _ in },
                     try await session.copy(.edgeHistory(relations: [RelationKey(sourceDataSourceID: ExportFixture.target.id, propertyID: "x'y")]), format: .csv) { _ in })
                }
                #expect(all.rows == ExportFixture.edges.count)
                #expect(some.rows == all.rows)
                #expect(none.rows == 0)
            }
        }
    }
}
