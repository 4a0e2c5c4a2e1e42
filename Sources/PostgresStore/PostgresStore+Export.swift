public import Foundation

/// The file formats of `relsync export`.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// RFC 4180 CSV from `COPY … (FORMAT csv, HEADER true)`: a header line, fields quoted with
    /// `"` when they hold a comma, a quote, CR or LF (quotes doubled), lines ended by LF, UTF-8.
    /// NULL is an empty unquoted field; an empty string is `""`.
    case csv
    /// JSON Lines: one JSON object per row (`row_to_json`), keys in column order, UTF-8, LF.
    case jsonl

    public var fileExtension: String { rawValue }
}

/// One table or view an export writes to one file.
public struct ExportDataset: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A relation's join view in the views schema.
        case joinView = "join_view"
        /// `pages`: every page read.
        case pages
        /// `edge_history` with the relation's name.
        case edgeHistory = "edge_history"
        /// `relation_catalog`: every relation with its Notion names and join view.
        case relationCatalog = "relation_catalog"
    }

    public var kind: Kind
    /// The relation, for a join view.
    public var relation: RelationCatalogEntry?
    /// For the edge history: only these relations' rows (`nil`: all).
    public var relations: [RelationKey]?

    public static func joinView(_ relation: RelationCatalogEntry) -> ExportDataset {
        ExportDataset(kind: .joinView, relation: relation, relations: nil)
    }

    public static let pages = ExportDataset(kind: .pages, relation: nil, relations: nil)
    public static let relationCatalog = ExportDataset(kind: .relationCatalog, relation: nil, relations: nil)

    public static func edgeHistory(relations: [RelationKey]? = nil) -> ExportDataset {
        ExportDataset(kind: .edgeHistory, relation: nil, relations: relations)
    }

    /// The file's path under the export folder, without the extension: `views/<join view>`,
    /// `pages`, `edge_history`, `relation_catalog`.
    public var path: String {
        switch kind {
        case .joinView: return "views/" + (relation?.joinView ?? "unnamed")
        case .pages, .edgeHistory, .relationCatalog: return kind.rawValue
        }
    }
}

/// A consistent, read-only snapshot of relsync's tables for one export: every COPY in it sees
/// the same data, whatever a concurrent reconcile commits meanwhile. Timestamps are written
/// in UTC, ISO 8601.
public struct ExportSession: Sendable {
    let store: PostgresStore
    let connection: PostgresConnection
    /// The server's transaction time: what the export shows is the data as of this instant.
    public let snapshotTime: Date

    /// The relations catalog, as of the snapshot.
    public func relationCatalog() async throws -> [RelationCatalogEntry] {
        try await store.readRelationCatalog(on: connection)
    }

    /// The data sources, as of the snapshot.
    public func dataSources() async throws -> [DataSourceRow] {
        let rows = try await connection.query(
            "SELECT data_source_id, database_id, name, configured FROM \(store.table("data_sources")) ORDER BY configured DESC, name, data_source_id")
        return try rows.rows.map { row in
            DataSourceRow(
                id: try PostgresStore.uuid(row[0]), databaseID: try row[1].map { try PostgresStore.uuid($0) },
                name: row[2] ?? "", configured: row[3] == "t")
        }
    }

    /// Streams `dataset` in `format` to `sink`, chunk by chunk as PostgreSQL sends it.
    @discardableResult
    public func copy(
        _ dataset: ExportDataset, format: ExportFormat, chunkSize: Int = PostgresConnection.copyOutChunkSize,
        to sink: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> CopyOutResult {
        try await connection.copyOut(try await copyStatement(dataset, format: format), chunkSize: chunkSize, to: sink)
    }

    /// The `COPY … TO STDOUT` that exports `dataset` in `format`, rows in a stable order.
    ///
    /// JSON Lines come out of CSV-format COPY of one `row_to_json` text column with QUOTE and
    /// DELIMITER set to the control characters U+0001 and U+0002: JSON text never holds a raw
    /// control character (it escapes them) nor a raw line break (row_to_json adds none), so no
    /// field is ever quoted and every byte arrives exactly as PostgreSQL made it. (COPY's text
    /// format would double every backslash.)
    public func copyStatement(_ dataset: ExportDataset, format: ExportFormat) async throws -> String {
        let (source, order) = try await sourceAndOrder(dataset)
        switch format {
        case .csv:
            return "COPY (SELECT * FROM \(source) t ORDER BY \(order)) TO STDOUT (FORMAT csv, HEADER true, ENCODING 'UTF8')"
        case .jsonl:
            return """
                COPY (SELECT row_to_json(t)::text FROM \(source) t ORDER BY \(order)) \
                TO STDOUT (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01', ENCODING 'UTF8')
                """
        }
    }

    /// The FROM item (a table, view or parenthesized query) and the ORDER BY list over `t`.
    private func sourceAndOrder(_ dataset: ExportDataset) async throws -> (String, String) {
        let q = connection.quoteIdentifier
        switch dataset.kind {
        case .joinView:
            guard let relation = dataset.relation else {
                throw StoreError(code: .invalidInput, message: "a join view export needs its relation")
            }
            let schema = relation.joinViewSchema ?? store.configuration.viewsSchema
            let view = "\(q(schema)).\(q(relation.joinView))"
            let exists = try await connection.query("SELECT to_regclass($1) IS NOT NULL", [view])
            guard exists.scalar == "t" else {
                throw StoreError(
                    code: .invalidInput,
                    message: "the join view \(schema).\(relation.joinView) of relation \"\(relation.propertyName)\" does not exist; run relsync reconcile")
            }
            // The view's own column names (they depend on the data sources' names).
            let columns = try await connection.query("SELECT * FROM \(view) LIMIT 0").columns
            guard columns.count >= 3 else {
                throw StoreError(code: .protocol, message: "the join view \(schema).\(relation.joinView) has \(columns.count) columns, not 3")
            }
            return (view, "t.\(q(columns[0])), t.\(q(columns[2])) NULLS LAST, t.\(q(columns[1]))")
        case .pages:
            return (store.table("pages"), "t.data_source_id, t.page_id")
        case .relationCatalog:
            return (store.table("relation_catalog"), "t.source_data_source_name, t.property_name, t.source_data_source_id, t.property_id")
        case .edgeHistory:
            var filter = ""
            if let relations = dataset.relations {
                let pairs = relations.map {
                    "(\(connection.quoteLiteral($0.sourceDataSourceID.uuidString))::uuid, \(connection.quoteLiteral($0.propertyID)))"
                }
                filter = pairs.isEmpty ? "WHERE false" : "WHERE (h.source_data_source_id, h.property_id) IN (\(pairs.joined(separator: ", ")))"
            }
            let query = """
                (SELECT h.history_id, h.run_id, h.changed_at, h.change, h.source_data_source_id, h.property_id,
                        r.property_name, h.from_page_id, h.to_page_id, h.position
                 FROM \(store.table("edge_history")) h
                 LEFT JOIN \(store.table("relations")) r USING (source_data_source_id, property_id)
                 \(filter))
                """
            return (query, "t.history_id")
        }
    }
}

extension PostgresStore {
    /// Runs `body` in a read-only REPEATABLE READ transaction with the session in UTC and ISO
    /// date style, so every COPY of an export sees one consistent snapshot and timestamps are
    /// written the same way whatever the server's settings.
    public func withExportSnapshot<T: Sendable>(_ body: @Sendable (ExportSession) async throws -> T) async throws -> T {
        try await gate.run {
            try await connection.withTransaction { connection in
                try await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                try await connection.execute("SET LOCAL TimeZone TO 'UTC'")
                try await connection.execute("SET LOCAL DateStyle TO 'ISO, YMD'")
                try await connection.execute("SET LOCAL IntervalStyle TO 'iso_8601'")
                let now = try await connection.query("SELECT extract(epoch FROM now())::float8")
                let time = Date(timeIntervalSince1970: Double(now.scalar ?? "") ?? Date().timeIntervalSince1970)
                return try await body(ExportSession(store: self, connection: connection, snapshotTime: time))
            }
        }
    }
}
