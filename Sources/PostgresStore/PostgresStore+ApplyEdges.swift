import Foundation

extension PostgresStore {
    /// What step 7 of `apply` did to the edges.
    struct EdgeChanges {
        var added = 0
        var removed = 0
        var repositioned = 0
    }

    /// Whether the incoming edge lists are already a set: each list names every source page's
    /// edges in one run (the order relsync reads them in), no page's run names a target twice,
    /// and no two property ids become the same once NUL characters are replaced. Then the
    /// server need not group a million rows to drop duplicates. Any other input is still
    /// right, just grouped by the server. Holds one page's targets and the pages seen at a time.
    static func edgeListsAreDistinct(_ edges: [String: [EdgeRow]]) -> Bool {
        var properties: Set<String> = []
        var pages: Set<UUID> = []
        var targets: Set<UUID> = []
        for (propertyID, list) in edges where !list.isEmpty {
            guard properties.insert(PostgresConnection.withoutNUL(propertyID)).inserted else { return false }
            pages.removeAll()
            var current: UUID?
            for edge in list {
                if edge.fromPageID != current {
                    guard pages.insert(edge.fromPageID).inserted else { return false }
                    current = edge.fromPageID
                    // Not keepingCapacity: one long list must not make every later clear slow.
                    targets.removeAll()
                }
                guard targets.insert(edge.toPageID).inserted else { return false }
            }
        }
        return true
    }

    /// Step 7 of `apply`: merges `pg_temp.relsync_in_edges` into `edges` and records every
    /// addition and removal in `edge_history`. Duplicates keep their smallest position. Edges
    /// are removed from the whole relation for a complete read, else only from the pages read;
    /// incoming edges are added or moved wherever they come from, as they always were.
    ///
    /// Set-based, in separate statements rather than one CTE (measured on 1M edges; BENCHMARKS.md):
    /// - nothing stored yet for these relations (a first load): a plain INSERT … SELECT into
    ///   `edges` and one into `edge_history`, with no anti-join and no DELETE;
    /// - otherwise the difference is computed once into a temporary table that holds only what
    ///   changes: one hash full join for a complete read; for an incremental one, a join of the
    ///   incoming edges with the stored ones and, for removals, one primary-key probe per page
    ///   read. The DELETE, UPDATE and INSERTs then touch only those rows, and an unchanged read
    ///   writes nothing.
    func mergeEdges(
        _ snapshot: DataSourceSnapshot, distinct: Bool, incomingRows: Int, source: String, run: String?,
        on connection: PostgresConnection
    ) async throws -> EdgeChanges {
        var changes = EdgeChanges()
        // No relations: no incoming edges (validated) and nothing in scope.
        guard !snapshot.relations.isEmpty else { return changes }
        let edges = table("edges")
        let history = table("edge_history")
        let columns = "source_data_source_id, property_id, from_page_id, to_page_id"
        let historyColumns = "run_id, source_data_source_id, property_id, from_page_id, to_page_id, change, position"

        // The incoming set, one row per edge with its smallest position.
        var incoming = "pg_temp.relsync_in_edges"
        if !distinct {
            try await connection.execute(
                """
                CREATE TEMP TABLE relsync_incoming ON COMMIT DROP AS
                SELECT property_id, from_page_id, to_page_id, min(position) AS position
                FROM pg_temp.relsync_in_edges
                GROUP BY property_id, from_page_id, to_page_id
                """)
            incoming = "pg_temp.relsync_incoming"
        }

        let stored = try await connection.query(
            """
            SELECT EXISTS (
                SELECT 1 FROM \(edges) e
                WHERE e.source_data_source_id = $1::uuid
                  AND e.property_id IN (SELECT property_id FROM pg_temp.relsync_in_relations))
            """,
            [source])
        if stored.scalar != "t" {
            // A first load: every incoming edge is new; nothing to remove or move.
            changes.added = try await connection.execute(
                """
                INSERT INTO \(edges) (\(columns), position)
                SELECT $1::uuid, property_id, from_page_id, to_page_id, position FROM \(incoming)
                """,
                [source])
            if changes.added > 0 {
                try await connection.execute(
                    """
                    INSERT INTO \(history) (\(historyColumns))
                    SELECT $2::bigint, $1::uuid, property_id, from_page_id, to_page_id, 'added', position FROM \(incoming)
                    """,
                    [source, run])
            }
            return changes
        }

        // The difference, once: `change` is added, removed or moved; `position` is the new one
        // (the stored one for a removal, as the history records it).
        try await connection.execute("ANALYZE \(incoming)")
        try await connection.execute(
            """
            CREATE TEMP TABLE relsync_edge_diff (
                change text NOT NULL, property_id text NOT NULL, from_page_id uuid NOT NULL, to_page_id uuid NOT NULL,
                position integer
            ) ON COMMIT DROP
            """)
        let differences: Int
        if snapshot.complete {
            differences = try await connection.execute(
                """
                INSERT INTO pg_temp.relsync_edge_diff
                SELECT CASE WHEN e.from_page_id IS NULL THEN 'added' WHEN i.from_page_id IS NULL THEN 'removed' ELSE 'moved' END,
                       COALESCE(i.property_id, e.property_id), COALESCE(i.from_page_id, e.from_page_id),
                       COALESCE(i.to_page_id, e.to_page_id),
                       CASE WHEN i.from_page_id IS NULL THEN e.position ELSE i.position END
                FROM \(incoming) i
                FULL JOIN (
                    SELECT property_id, from_page_id, to_page_id, position FROM \(edges)
                    WHERE source_data_source_id = $1::uuid
                      AND property_id IN (SELECT property_id FROM pg_temp.relsync_in_relations)
                ) e ON e.property_id = i.property_id AND e.from_page_id = i.from_page_id AND e.to_page_id = i.to_page_id
                WHERE e.from_page_id IS NULL OR i.from_page_id IS NULL OR e.position IS DISTINCT FROM i.position
                """,
                [source])
        } else {
            differences = try await connection.execute(
                """
                INSERT INTO pg_temp.relsync_edge_diff
                SELECT CASE WHEN e.from_page_id IS NULL THEN 'added' ELSE 'moved' END,
                       i.property_id, i.from_page_id, i.to_page_id, i.position
                FROM \(incoming) i
                LEFT JOIN \(edges) e
                  ON e.source_data_source_id = $1::uuid AND e.property_id = i.property_id
                 AND e.from_page_id = i.from_page_id AND e.to_page_id = i.to_page_id
                WHERE e.from_page_id IS NULL OR e.position IS DISTINCT FROM i.position
                UNION ALL
                SELECT 'removed', e.property_id, e.from_page_id, e.to_page_id, e.position
                FROM pg_temp.relsync_in_relations r
                CROSS JOIN (SELECT DISTINCT page_id FROM pg_temp.relsync_in_pages) p
                CROSS JOIN LATERAL (
                    -- OFFSET 0 keeps this a probe of the primary key per page read: without
                    -- statistics (after a load) the planner would scan the whole relation.
                    SELECT e.property_id, e.from_page_id, e.to_page_id, e.position FROM \(edges) e
                    WHERE e.source_data_source_id = $1::uuid AND e.property_id = r.property_id
                      AND e.from_page_id = p.page_id
                    OFFSET 0
                ) e
                WHERE NOT EXISTS (
                      SELECT 1 FROM \(incoming) i
                      WHERE i.property_id = e.property_id AND i.from_page_id = e.from_page_id
                        AND i.to_page_id = e.to_page_id)
                """,
                [source])
        }
        guard differences > 0 else { return changes }

        try await connection.execute("ANALYZE pg_temp.relsync_edge_diff")
        let kinds = try await connection.query(
            """
            SELECT count(*) FILTER (WHERE change = 'added'), count(*) FILTER (WHERE change = 'removed'),
                   count(*) FILTER (WHERE change = 'moved')
            FROM pg_temp.relsync_edge_diff
            """)
        let counts = (kinds.rows.first ?? []).map { Int($0 ?? "") ?? -1 }
        guard counts.count == 3, counts.allSatisfy({ $0 >= 0 }) else {
            throw StoreError(code: .protocol, message: "counting the edge differences returned \(kinds.rows)")
        }
        let matches = """
            e.source_data_source_id = $1::uuid AND e.property_id = d.property_id
              AND e.from_page_id = d.from_page_id AND e.to_page_id = d.to_page_id
            """
        // Few changes against many edges: probe the primary key once per change. The planner
        // would otherwise hash the whole stored relation whenever its statistics lag behind a
        // load (autovacuum analyses the table later): 0.3-0.5 s instead of a few ms per 10,000.
        let probe = differences <= max(1_000, incomingRows / 10)
        var planner: [String?] = []
        if probe {
            planner = (try await connection.query(
                "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')").rows.first) ?? []
            try await connection.execute("SET LOCAL enable_hashjoin = off")
            try await connection.execute("SET LOCAL enable_mergejoin = off")
        }
        if counts[1] > 0 {
            changes.removed = try await connection.execute(
                "DELETE FROM \(edges) e USING pg_temp.relsync_edge_diff d WHERE d.change = 'removed' AND \(matches)",
                [source])
        }
        if counts[2] > 0 {
            changes.repositioned = try await connection.execute(
                """
                UPDATE \(edges) e SET position = d.position
                FROM pg_temp.relsync_edge_diff d
                WHERE d.change = 'moved' AND \(matches)
                """,
                [source])
        }
        if probe, planner.count == 2, let hash = planner[0], let merge = planner[1] {
            try await connection.execute("SELECT set_config('enable_hashjoin', $1, true), set_config('enable_mergejoin', $2, true)",
                                         [hash, merge])
        }
        if counts[0] > 0 {
            changes.added = try await connection.execute(
                """
                INSERT INTO \(edges) (\(columns), position)
                SELECT $1::uuid, property_id, from_page_id, to_page_id, position
                FROM pg_temp.relsync_edge_diff WHERE change = 'added'
                """,
                [source])
        }
        if changes.added + changes.removed > 0 {
            try await connection.execute(
                """
                INSERT INTO \(history) (\(historyColumns))
                SELECT $2::bigint, $1::uuid, property_id, from_page_id, to_page_id, 'removed', position
                FROM pg_temp.relsync_edge_diff WHERE change = 'removed'
                UNION ALL
                SELECT $2::bigint, $1::uuid, property_id, from_page_id, to_page_id, 'added', position
                FROM pg_temp.relsync_edge_diff WHERE change = 'added'
                """,
                [source, run])
        }
        return changes
    }
}
