public import Foundation

/// What an incremental run and the write-back phase read and record.
extension PostgresStore {
    /// Where a data source's reads stand.
    public struct SyncState: Sendable, Equatable {
        /// Everything edited before this was read and applied.
        public var watermark: Date?
        public var lastFullSyncAt: Date?
    }

    public func syncState(dataSourceID: UUID) async throws -> SyncState {
        try await gate.run {
            let rows = try await connection.query(
                """
                SELECT extract(epoch FROM watermark)::float8, extract(epoch FROM last_full_sync_at)::float8
                FROM \(table("data_sources")) WHERE data_source_id = $1
                """,
                [dataSourceID.uuidString])
            guard let row = rows.rows.first else { return SyncState(watermark: nil, lastFullSyncAt: nil) }
            return SyncState(
                watermark: row[0].flatMap(Double.init).map(Date.init(timeIntervalSince1970:)),
                lastFullSyncAt: row[1].flatMap(Double.init).map(Date.init(timeIntervalSince1970:)))
        }
    }

    /// Advances the watermarks of the data sources a run read, in one transaction, after
    /// everything the run read has been applied. A watermark never moves back.
    public func advanceWatermarks(_ marks: [UUID: Date]) async throws {
        guard !marks.isEmpty else { return }
        let ids = marks.keys.sorted { $0.uuidString < $1.uuidString }
        try await gate.run {
            try await connection.execute(
                """
                UPDATE \(table("data_sources")) d
                SET watermark = GREATEST(d.watermark, to_timestamp(m.epoch)), updated_at = now()
                FROM unnest($1::uuid[], $2::float8[]) AS m(id, epoch)
                WHERE d.data_source_id = m.id
                """,
                [Self.uuidArray(ids), "{" + ids.map { String(marks[$0]!.timeIntervalSince1970) }.joined(separator: ",") + "}"])
        }
    }

    /// The stored edges of one relation from the given pages, each list in position order.
    public func edges(sourceDataSourceID: UUID, propertyID: String, from pages: [UUID]) async throws -> [UUID: [EdgeRow]] {
        guard !pages.isEmpty else { return [:] }
        return try await gate.run {
            let rows = try await connection.query(
                """
                SELECT from_page_id, to_page_id, position FROM \(table("edges"))
                WHERE source_data_source_id = $1 AND property_id = $2 AND from_page_id = ANY($3::uuid[])
                ORDER BY from_page_id, position NULLS LAST, to_page_id
                """,
                [sourceDataSourceID.uuidString, propertyID, Self.uuidArray(pages)])
            var result: [UUID: [EdgeRow]] = [:]
            for row in rows.rows {
                let edge = EdgeRow(fromPageID: try Self.uuid(row[0]), toPageID: try Self.uuid(row[1]), position: row[2].flatMap { Int($0) })
                result[edge.fromPageID, default: []].append(edge)
            }
            return result
        }
    }

    /// For each target page, the pages of a relation that point at it.
    public func sources(sourceDataSourceID: UUID, propertyID: String, pointingTo targets: [UUID]) async throws -> [UUID: Set<UUID>] {
        guard !targets.isEmpty else { return [:] }
        return try await gate.run {
            let rows = try await connection.query(
                """
                SELECT to_page_id, from_page_id FROM \(table("edges"))
                WHERE source_data_source_id = $1 AND property_id = $2 AND to_page_id = ANY($3::uuid[])
                """,
                [sourceDataSourceID.uuidString, propertyID, Self.uuidArray(targets)])
            var result: [UUID: Set<UUID>] = [:]
            for row in rows.rows {
                result[try Self.uuid(row[0]), default: []].insert(try Self.uuid(row[1]))
            }
            return result
        }
    }

    /// The stored rows of the given pages (those relsync has seen).
    public func pages(_ ids: [UUID]) async throws -> [PageRow] {
        guard !ids.isEmpty else { return [] }
        return try await gate.run {
            let rows = try await connection.query(
                """
                SELECT page_id, data_source_id, title, url, extract(epoch FROM created_time)::float8,
                       extract(epoch FROM last_edited_time)::float8, last_edited_by, in_trash
                FROM \(table("pages")) WHERE page_id = ANY($1::uuid[])
                """,
                [Self.uuidArray(ids)])
            return try rows.rows.map { row in
                PageRow(
                    pageID: try Self.uuid(row[0]), dataSourceID: try Self.uuid(row[1]), title: row[2] ?? "", url: row[3],
                    createdTime: row[4].flatMap(Double.init).map(Date.init(timeIntervalSince1970:)),
                    lastEditedTime: row[5].flatMap(Double.init).map(Date.init(timeIntervalSince1970:)),
                    lastEditedBy: row[6].flatMap(UUID.init(uuidString:)), inTrash: row[7] == "t")
            }
        }
    }

    /// One page's relation as a summary needs it: targets with their titles, in stored order.
    public struct SummarySource: Sendable, Equatable {
        public var pageID: UUID
        public var targets: [(pageID: UUID, title: String?, position: Int?)]

        public static func == (a: SummarySource, b: SummarySource) -> Bool {
            a.pageID == b.pageID && a.targets.elementsEqual(b.targets) { $0.pageID == $1.pageID && $0.title == $1.title && $0.position == $1.position }
        }
    }

    /// Every live page of a data source with its relation's targets and their current titles
    /// (nil where the target's page was never read, e.g. not shared with the integration).
    public func summarySources(sourceDataSourceID: UUID, propertyID: String) async throws -> [SummarySource] {
        try await gate.run {
            let rows = try await connection.query(
                """
                SELECT p.page_id, e.to_page_id, t.title, e.position
                FROM \(table("pages")) p
                LEFT JOIN \(table("edges")) e
                       ON e.source_data_source_id = $1 AND e.property_id = $2 AND e.from_page_id = p.page_id
                LEFT JOIN \(table("pages")) t ON t.page_id = e.to_page_id
                WHERE p.data_source_id = $1 AND NOT p.in_trash
                ORDER BY p.page_id, e.position NULLS LAST, t.title, e.to_page_id
                """,
                [sourceDataSourceID.uuidString, propertyID])
            var result: [SummarySource] = []
            for row in rows.rows {
                let page = try Self.uuid(row[0])
                if result.last?.pageID != page { result.append(SummarySource(pageID: page, targets: [])) }
                if let target = row[1] {
                    result[result.count - 1].targets.append((try Self.uuid(target), row[2], row[3].flatMap { Int($0) }))
                }
            }
            return result
        }
    }

    /// The hash of what relsync last wrote into a property, per page.
    public func summaryHashes(sourceDataSourceID: UUID, propertyID: String) async throws -> [UUID: String] {
        try await gate.run {
            let rows = try await connection.query(
                "SELECT page_id, hash FROM \(table("summaries")) WHERE source_data_source_id = $1 AND property_id = $2",
                [sourceDataSourceID.uuidString, propertyID])
            var result: [UUID: String] = [:]
            for row in rows.rows { result[try Self.uuid(row[0])] = row[1] ?? "" }
            return result
        }
    }

    /// Records what was written (or found already there) for one page's summary property.
    public func recordSummary(
        pageID: UUID, propertyID: String, sourceDataSourceID: UUID, relationPropertyID: String, format: String,
        hash: String, plainText: String, runID: Int64?
    ) async throws {
        try await gate.run {
            try await connection.execute(
                """
                INSERT INTO \(table("summaries"))
                    (page_id, property_id, source_data_source_id, relation_property_id, format, hash, plain_text, run_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (page_id, property_id) DO UPDATE
                SET relation_property_id = EXCLUDED.relation_property_id, format = EXCLUDED.format,
                    hash = EXCLUDED.hash, plain_text = EXCLUDED.plain_text, run_id = EXCLUDED.run_id, written_at = now()
                """,
                [pageID.uuidString, propertyID, sourceDataSourceID.uuidString, relationPropertyID, format, hash,
                 PostgresConnection.withoutNUL(plainText), runID.map(String.init)])
        }
    }

    /// Records the write-back figures of a run (after `finishRun`).
    public func recordSummaryCounts(_ runID: Int64, written: Int, unchanged: Int) async throws {
        try await gate.run {
            try await connection.execute(
                "UPDATE \(table("runs")) SET summaries_written = $2, summaries_unchanged = $3 WHERE run_id = $1",
                [String(runID), String(written), String(unchanged)])
        }
    }

    static func uuidArray(_ ids: [UUID]) -> String {
        "{" + ids.map(\.uuidString).joined(separator: ",") + "}"
    }
}
