import Foundation
import Logging

extension PostgresStore {
    /// Applies what one read of a data source found, in one transaction, set-based: pages and
    /// edges are COPYed into temporary tables and merged with a few statements, every edge
    /// added or removed is recorded in `edge_history` under `runID`, and each relation's join
    /// view is (re)created in the views schema.
    ///
    /// Text values containing NUL characters (which PostgreSQL text cannot hold) are stored
    /// with U+FFFD in their place.
    ///
    /// With `dryRun`, the same statements run and the transaction is rolled back: the result
    /// says what would change, and nothing does. `runID` is nil for runs that are not recorded.
    public func apply(_ snapshot: DataSourceSnapshot, runID: Int64?, dryRun: Bool = false) async throws -> ApplyResult {
        try Self.validate(snapshot)
        let result = try await gate.run {
            do {
                return try await connection.withTransaction { connection in
                    let result = try await self.applyInTransaction(snapshot, runID: runID, on: connection)
                    if dryRun { throw DryRunRollback(result: result) }
                    return result
                }
            } catch let rollback as DryRunRollback {
                return rollback.result
            }
        }
        logger.info(dryRun ? "Planned data source snapshot (dry run, rolled back)" : "Applied data source snapshot", metadata: [
            "notion.data_source_id": "\(snapshot.dataSource.id)", "sync.run_id": "\(runID.map(String.init) ?? "none")",
            "sync.complete": "\(snapshot.complete)", "pages.upserted": "\(result.pagesUpserted)",
            "pages.trashed": "\(result.pagesTrashed)", "edges.inserted": "\(result.edgesAdded)",
            "edges.removed": "\(result.edgesRemoved)", "edges.repositioned": "\(result.edgesRepositioned)",
        ])
        return result
    }

    /// Carries a dry run's result out of the transaction it rolls back.
    private struct DryRunRollback: Error {
        var result: ApplyResult
    }

    static func validate(_ snapshot: DataSourceSnapshot) throws(StoreError) {
        let source = snapshot.dataSource.id
        var propertyIDs: Set<String> = []
        var joinViews: Set<String> = []
        for relation in snapshot.relations {
            guard relation.sourceDataSourceID == source else {
                throw StoreError(
                    code: .invalidInput,
                    message: "relation \(relation.propertyID) belongs to data source \(relation.sourceDataSourceID), "
                        + "not to the snapshot's data source \(source)")
            }
            guard propertyIDs.insert(relation.propertyID).inserted else {
                throw StoreError(code: .invalidInput, message: "relation \(relation.propertyID) appears twice in the snapshot")
            }
            try validateIdentifier(relation.joinView, what: "join view name of relation \(relation.propertyID)")
            try validateJoinViewColumns(relation)
            guard joinViews.insert(relation.joinView).inserted else {
                throw StoreError(
                    code: .invalidInput, message: "two relations of the snapshot share the join view name \"\(relation.joinView)\"")
            }
        }
        for (propertyID, edges) in snapshot.edges where !edges.isEmpty && !propertyIDs.contains(propertyID) {
            throw StoreError(
                code: .invalidInput, message: "the snapshot has edges for property \(propertyID), which is not among its relations")
        }
    }

    private func applyInTransaction(
        _ snapshot: DataSourceSnapshot, runID: Int64?, on connection: PostgresConnection
    ) async throws -> ApplyResult {
        let source = snapshot.dataSource.id.uuidString
        let complete = snapshot.complete ? "true" : "false"
        let run = runID.map(String.init)
        var result = ApplyResult()
        // The set-based diff hashes and sorts the whole incoming edge set; at the default 4 MB it
        // spills to disk from a few hundred thousand edges on. Only for this transaction.
        try await connection.execute("SET LOCAL work_mem = '64MB'")

        // Applies to one schema take turns, across processes too: concurrent DDL on the same
        // views would otherwise fail with "tuple concurrently updated".
        try await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["relsync.apply:" + configuration.schema])

        // 1. The incoming sets, streamed with COPY into temporary tables.
        try await connection.executeScript(
            """
            DROP TABLE IF EXISTS pg_temp.relsync_in_pages, pg_temp.relsync_in_relations, pg_temp.relsync_in_edges,
                pg_temp.relsync_incoming, pg_temp.relsync_edge_diff;
            CREATE TEMP TABLE relsync_in_pages (
                ord bigint, page_id uuid, data_source_id uuid, title text, url text, created_time timestamptz,
                last_edited_time timestamptz, last_edited_by uuid, in_trash boolean
            ) ON COMMIT DROP;
            CREATE TEMP TABLE relsync_in_relations (
                property_id text, property_name text, target_data_source_id uuid, target_database_id uuid, kind text,
                synced_property_id text, synced_property_name text, join_view text
            ) ON COMMIT DROP;
            CREATE TEMP TABLE relsync_in_edges (
                property_id text, from_page_id uuid, to_page_id uuid, position integer
            ) ON COMMIT DROP;
            """)
        _ = try await connection.copyIn(
            "COPY pg_temp.relsync_in_pages FROM STDIN", rows: CopyRows(snapshot.pages.enumerated().map { $0 }) { item in
                let page = item.element
                return [
                    String(item.offset), page.pageID.uuidString, page.dataSourceID.uuidString, clean(page.title),
                    page.url.map(clean), page.createdTime.map(timestamp), page.lastEditedTime.map(timestamp),
                    page.lastEditedBy?.uuidString, page.inTrash ? "t" : "f",
                ]
            })
        _ = try await connection.copyIn(
            "COPY pg_temp.relsync_in_relations FROM STDIN", rows: CopyRows(snapshot.relations) { relation in
                [
                    clean(relation.propertyID), clean(relation.propertyName), relation.targetDataSourceID?.uuidString,
                    relation.targetDatabaseID?.uuidString, relation.kind.rawValue, relation.syncedPropertyID.map(clean),
                    relation.syncedPropertyName.map(clean), relation.joinView,
                ]
            })
        let distinctEdges = Self.edgeListsAreDistinct(snapshot.edges)
        // The edges are the bulk of it: binary COPY spares both sides formatting and parsing
        // two uuids per row as text.
        let edgeLists = snapshot.edges
        let incomingEdges = try await connection.copyInBinary("COPY pg_temp.relsync_in_edges FROM STDIN (FORMAT binary)") { writer, rowDone in
            for (propertyID, edges) in edgeLists where !edges.isEmpty {
                let property = Array(clean(propertyID).utf8)
                for edge in edges {
                    writer.beginRow(fields: 4)
                    writer.appendText(property)
                    writer.appendUUID(edge.fromPageID)
                    writer.appendUUID(edge.toPageID)
                    writer.appendInteger(edge.position.map { Int32(clamping: $0) })
                    try rowDone(&writer)
                }
            }
        }
        // The edge table is analysed only where a join will read it (step 7).
        try await connection.execute("ANALYZE pg_temp.relsync_in_pages")

        // 2. The data source.
        try await connection.execute(
            """
            INSERT INTO \(table("data_sources")) AS d (data_source_id, database_id, name, configured, last_full_sync_at)
            VALUES ($1, $2, $3, $4, CASE WHEN $5::boolean THEN now() END)
            ON CONFLICT (data_source_id) DO UPDATE
            SET database_id = COALESCE(EXCLUDED.database_id, d.database_id),
                name = EXCLUDED.name,
                configured = EXCLUDED.configured,
                last_full_sync_at = COALESCE(EXCLUDED.last_full_sync_at, d.last_full_sync_at),
                updated_at = now()
            WHERE EXCLUDED.last_full_sync_at IS NOT NULL
               OR (d.database_id, d.name, d.configured)
                  IS DISTINCT FROM (COALESCE(EXCLUDED.database_id, d.database_id), EXCLUDED.name, EXCLUDED.configured)
            """,
            [source, snapshot.dataSource.databaseID?.uuidString, clean(snapshot.dataSource.name),
             snapshot.dataSource.configured ? "true" : "false", complete])

        // 3. Relations gone from a complete read: their edges (recorded), rows and views.
        var obsoleteViews: [String] = []
        if snapshot.complete {
            // Which properties have stored edges, by skipping through the primary key (one
            // probe per property, not a scan of the data source's edges): the DELETE below runs
            // only when one of them is gone.
            let stored = try await connection.query(
                """
                WITH RECURSIVE stored AS (
                    SELECT (SELECT min(e.property_id) FROM \(table("edges")) e WHERE e.source_data_source_id = $1) AS property_id
                    UNION ALL
                    SELECT (SELECT min(e.property_id) FROM \(table("edges")) e
                            WHERE e.source_data_source_id = $1 AND e.property_id > s.property_id)
                    FROM stored s WHERE s.property_id IS NOT NULL
                )
                SELECT EXISTS (
                    SELECT 1 FROM stored s
                    WHERE s.property_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM pg_temp.relsync_in_relations i WHERE i.property_id = s.property_id))
                """,
                [source])
            if stored.scalar == "t" {
                let removed = try await connection.query(
                    """
                    WITH gone AS (
                        DELETE FROM \(table("edges")) e
                        WHERE e.source_data_source_id = $1
                          AND NOT EXISTS (SELECT 1 FROM pg_temp.relsync_in_relations i WHERE i.property_id = e.property_id)
                        RETURNING e.source_data_source_id, e.property_id, e.from_page_id, e.to_page_id, e.position
                    ), history AS (
                        INSERT INTO \(table("edge_history"))
                            (run_id, source_data_source_id, property_id, from_page_id, to_page_id, change, position)
                        SELECT $2::bigint, source_data_source_id, property_id, from_page_id, to_page_id, 'removed', position FROM gone
                    )
                    SELECT count(*) FROM gone
                    """,
                    [source, run])
                result.edgesRemoved += Int(removed.scalar ?? "0") ?? 0
            }
            let dropped = try await connection.query(
                """
                DELETE FROM \(table("relations")) r
                WHERE r.source_data_source_id = $1
                  AND NOT EXISTS (SELECT 1 FROM pg_temp.relsync_in_relations i WHERE i.property_id = r.property_id)
                RETURNING r.join_view
                """,
                [source])
            obsoleteViews += dropped.rows.compactMap { $0[0] }
        }
        for view in obsoleteViews {
            try await connection.execute("DROP VIEW IF EXISTS \(viewsSchema).\(connection.quoteIdentifier(view))")
        }

        // 4. Renamed join views: rename the old view (views built on it follow), or drop it
        //    when the new name is already taken.
        let renamed = try await connection.query(
            """
            SELECT r.join_view, i.join_view
            FROM \(table("relations")) r JOIN pg_temp.relsync_in_relations i ON i.property_id = r.property_id
            WHERE r.source_data_source_id = $1 AND r.join_view <> i.join_view
            """,
            [source])
        for row in renamed.rows {
            guard let old = row[0], let new = row[1] else { continue }
            let oldName = "\(viewsSchema).\(connection.quoteIdentifier(old))"
            let newName = "\(viewsSchema).\(connection.quoteIdentifier(new))"
            let exists = try await connection.query(
                "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL", [oldName, newName])
            if exists.rows.first?[0] == "t", exists.rows.first?[1] == "f" {
                try await connection.execute("ALTER VIEW \(oldName) RENAME TO \(connection.quoteIdentifier(new))")
            } else {
                try await connection.execute("DROP VIEW IF EXISTS \(oldName)")
            }
        }

        // 5. The relations catalog.
        try await connection.execute(
            """
            INSERT INTO \(table("relations")) AS r
                (source_data_source_id, property_id, property_name, target_data_source_id, target_database_id, kind,
                 synced_property_id, synced_property_name, join_view)
            SELECT $1, property_id, property_name, target_data_source_id, target_database_id, kind,
                   synced_property_id, synced_property_name, join_view
            FROM pg_temp.relsync_in_relations
            ON CONFLICT (source_data_source_id, property_id) DO UPDATE
            SET property_name = EXCLUDED.property_name,
                target_data_source_id = EXCLUDED.target_data_source_id,
                target_database_id = EXCLUDED.target_database_id,
                kind = EXCLUDED.kind,
                synced_property_id = EXCLUDED.synced_property_id,
                synced_property_name = EXCLUDED.synced_property_name,
                join_view = EXCLUDED.join_view,
                updated_at = now()
            WHERE (r.property_name, r.target_data_source_id, r.target_database_id, r.kind, r.synced_property_id,
                   r.synced_property_name, r.join_view)
               IS DISTINCT FROM (EXCLUDED.property_name, EXCLUDED.target_data_source_id, EXCLUDED.target_database_id,
                   EXCLUDED.kind, EXCLUDED.synced_property_id, EXCLUDED.synced_property_name, EXCLUDED.join_view)
            """,
            [source])
        let clash = try await connection.query(
            """
            SELECT join_view FROM \(table("relations")) GROUP BY join_view HAVING count(*) > 1 ORDER BY join_view LIMIT 1
            """)
        if let view = clash.scalar {
            throw StoreError(
                code: .invalidInput,
                message: "two relations would share the join view name \"\(view)\"; join view names must be unique")
        }

        // 6. Pages: upsert (counting real changes), then, for a full read, trash the unseen ones.
        let pages = try await connection.query(
            """
            WITH incoming AS (
                SELECT DISTINCT ON (page_id) page_id, data_source_id, title, url, created_time, last_edited_time,
                       last_edited_by, in_trash
                FROM pg_temp.relsync_in_pages
                ORDER BY page_id, ord DESC
            ), changed AS (
                SELECT i.page_id, (p.page_id IS NOT NULL AND NOT p.in_trash AND i.in_trash) AS trashed
                FROM incoming i LEFT JOIN \(table("pages")) p ON p.page_id = i.page_id
                WHERE p.page_id IS NULL
                   OR (p.data_source_id, p.title, p.url, p.created_time, p.last_edited_time, p.last_edited_by, p.in_trash)
                      IS DISTINCT FROM
                      (i.data_source_id, i.title, i.url, i.created_time, i.last_edited_time, i.last_edited_by, i.in_trash)
            ), upserted AS (
                INSERT INTO \(table("pages")) AS p
                    (page_id, data_source_id, title, url, created_time, last_edited_time, last_edited_by, in_trash)
                SELECT page_id, data_source_id, title, url, created_time, last_edited_time, last_edited_by, in_trash
                FROM incoming
                ON CONFLICT (page_id) DO UPDATE
                SET data_source_id = EXCLUDED.data_source_id,
                    title = EXCLUDED.title,
                    url = EXCLUDED.url,
                    created_time = EXCLUDED.created_time,
                    last_edited_time = EXCLUDED.last_edited_time,
                    last_edited_by = EXCLUDED.last_edited_by,
                    in_trash = EXCLUDED.in_trash,
                    last_seen_at = now()
            )
            SELECT count(*), count(*) FILTER (WHERE trashed) FROM changed
            """)
        result.pagesUpserted = Int(pages.rows.first?[0] ?? "0") ?? 0
        result.pagesTrashed = Int(pages.rows.first?[1] ?? "0") ?? 0
        if snapshot.complete {
            result.pagesTrashed += try await connection.execute(
                """
                UPDATE \(table("pages")) p SET in_trash = true
                WHERE p.data_source_id = $1 AND NOT p.in_trash
                  AND NOT EXISTS (SELECT 1 FROM pg_temp.relsync_in_pages i WHERE i.page_id = p.page_id)
                """,
                [source])
        }

        // 7. Edges of the snapshot's relations: remove the missing, add the new, move the
        //    repositioned; record additions and removals. Duplicates keep their smallest position.
        //    Scope: the whole relation for a full read, else the edges from the pages read.
        let edges = try await mergeEdges(
            snapshot, distinct: distinctEdges, incomingRows: incomingEdges, source: source, run: run, on: connection)
        result.edgesAdded = edges.added
        result.edgesRemoved += edges.removed
        result.edgesRepositioned = edges.repositioned

        // 8. One join view per relation: its columns named for the two sides, kept in place
        //    (renamed, never dropped) when those names change, and comments in Notion's words.
        try await createJoinViews(snapshot, on: connection)
        return result
    }
}

/// Replaces NUL characters, which PostgreSQL text cannot hold.
private func clean(_ text: String) -> String {
    PostgresConnection.withoutNUL(text)
}

private let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

/// A timestamptz literal in UTC with milliseconds.
private func timestamp(_ date: Date) -> String {
    timestampStyle.format(date)
}

/// Rows for `copyIn`, produced one at a time from `base`.
private struct CopyRows<Element: Sendable>: Sequence, Sendable {
    let base: [Element]
    let transform: @Sendable (Element) -> [String?]

    init(_ base: [Element], transform: @escaping @Sendable (Element) -> [String?]) {
        self.base = base
        self.transform = transform
    }

    func makeIterator() -> some IteratorProtocol<[String?]> {
        var iterator = base.makeIterator()
        let transform = self.transform
        return AnyIterator { iterator.next().map(transform) }
    }
}
