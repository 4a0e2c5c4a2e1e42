import Foundation
import Logging

/// The per-relation join views: `<views schema>.<join view>(<from column>, <to column>, position)`,
/// one per relation, over the relation's rows of `edges`.
///
/// Column names come from `RelationRow.fromColumn` / `toColumn` (the reconciler names them
/// after the two data sources, see `JoinViewNaming.columns`). When they change (a data source
/// renamed in Notion), the view's columns are renamed in place with `ALTER VIEW … RENAME
/// COLUMN`, so views an analyst built on top keep working and no row moves. Every view and
/// column carries a `COMMENT` in Notion's words, and the relations catalog records where each
/// view is and what its columns are called.
extension PostgresStore {
    /// A join view's two page columns must be distinct identifiers that PostgreSQL keeps whole,
    /// and neither may be `position`.
    static func validateJoinViewColumns(_ relation: RelationRow) throws(StoreError) {
        try validateIdentifier(relation.fromColumn, what: "join view column name (from) of relation \(relation.propertyID)")
        try validateIdentifier(relation.toColumn, what: "join view column name (to) of relation \(relation.propertyID)")
        guard relation.fromColumn != relation.toColumn else {
            throw StoreError(
                code: .invalidInput,
                message: "relation \(relation.propertyID) names both join view columns \"\(relation.fromColumn)\"")
        }
        guard relation.fromColumn != "position", relation.toColumn != "position" else {
            throw StoreError(
                code: .invalidInput,
                message: "relation \(relation.propertyID) names a join view column \"position\", which the view already has")
        }
    }

    /// Step 8 of `apply`: (re)creates the snapshot's join views with their comments and records
    /// them in the catalog; then refreshes the comments of other relations' views that point
    /// into this data source, whose name they quote (it may be new or changed).
    func createJoinViews(_ snapshot: DataSourceSnapshot, on connection: PostgresConnection) async throws {
        let source = snapshot.dataSource
        if !snapshot.relations.isEmpty {
            try await Self.createSchemaIfMissing(viewsSchema, on: connection)
            let targetNames = try await dataSourceNames(
                Set(snapshot.relations.compactMap(\.targetDataSourceID)), on: connection)
            var script = ""
            for relation in snapshot.relations {
                let view = "\(viewsSchema).\(connection.quoteIdentifier(relation.joinView))"
                script += try await joinViewColumnChanges(view: view, relation: relation, on: connection)
                let target = relation.targetDataSourceID.flatMap { $0 == source.id ? source.name : targetNames[$0] }
                script += """
                    CREATE OR REPLACE VIEW \(view) AS
                    SELECT from_page_id AS \(connection.quoteIdentifier(relation.fromColumn)),
                           to_page_id AS \(connection.quoteIdentifier(relation.toColumn)),
                           position
                    FROM \(table("edges"))
                    WHERE source_data_source_id = \(connection.quoteLiteral(source.id.uuidString))
                      AND property_id = \(connection.quoteLiteral(relation.propertyID));

                    """
                script += commentStatements(view: view, relation: relation, sourceName: source.name, targetName: target, on: connection)
            }
            try await connection.executeScript(script)
            for relation in snapshot.relations {
                try await connection.execute(
                    """
                    UPDATE \(table("relations"))
                    SET join_view_schema = $3, from_column = $4, to_column = $5
                    WHERE source_data_source_id = $1 AND property_id = $2
                      AND (join_view_schema, from_column, to_column) IS DISTINCT FROM ($3, $4, $5)
                    """,
                    [source.id.uuidString, PostgresConnection.withoutNUL(relation.propertyID), configuration.viewsSchema,
                     relation.fromColumn, relation.toColumn])
            }
        }
        try await refreshCommentsOfRelations(into: source, on: connection)
    }

    /// `ALTER VIEW` (or `DROP VIEW`) statements that make an existing view's columns match
    /// `relation`'s names, so `CREATE OR REPLACE VIEW` can follow. Empty when the view is new
    /// or already matches.
    private func joinViewColumnChanges(view: String, relation: RelationRow, on connection: PostgresConnection) async throws -> String {
        let existing = try await connection.query(
            """
            SELECT attname FROM pg_attribute
            WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
            ORDER BY attnum
            """,
            [view]).rows.compactMap { $0[0] }
        let wanted = [relation.fromColumn, relation.toColumn, "position"]
        if existing.isEmpty || existing == wanted { return "" }
        guard existing.count == 3, existing[2] == "position" else {
            // Not a shape relsync makes: replace it (without CASCADE, so nothing built on it is
            // dropped silently; PostgreSQL refuses and the run says why).
            return "DROP VIEW \(view);\n"
        }
        // Through temporary names, so that swapped names (from ↔ to) never collide.
        var first = "", second = ""
        for index in 0..<2 where existing[index] != wanted[index] {
            let temporary = connection.quoteIdentifier("relsync_renaming_\(index)")
            first += "ALTER VIEW \(view) RENAME COLUMN \(connection.quoteIdentifier(existing[index])) TO \(temporary);\n"
            second += "ALTER VIEW \(view) RENAME COLUMN \(temporary) TO \(connection.quoteIdentifier(wanted[index]));\n"
        }
        logger.info("Renaming join view columns", metadata: [
            "db.view": "\(relation.joinView)", "db.columns.old": "\(existing[0]), \(existing[1])",
            "db.columns.new": "\(wanted[0]), \(wanted[1])",
        ])
        return first + second
    }

    /// The COMMENT statements of one join view and its three columns.
    private func commentStatements(
        view: String, relation: RelationRow, sourceName: String, targetName: String?, on connection: PostgresConnection
    ) -> String {
        let comments = Self.joinViewComments(relation, sourceName: sourceName, targetName: targetName, pagesTable: "\(configuration.schema).pages")
        return """
            COMMENT ON VIEW \(view) IS \(connection.quoteLiteral(comments.view));
            COMMENT ON COLUMN \(view).\(connection.quoteIdentifier(relation.fromColumn)) IS \(connection.quoteLiteral(comments.from));
            COMMENT ON COLUMN \(view).\(connection.quoteIdentifier(relation.toColumn)) IS \(connection.quoteLiteral(comments.to));
            COMMENT ON COLUMN \(view).position IS \(connection.quoteLiteral(comments.position));

            """
    }

    /// What a join view and its columns are, in Notion's terms.
    static func joinViewComments(
        _ relation: RelationRow, sourceName: String, targetName: String?, pagesTable: String
    ) -> (view: String, from: String, to: String, position: String) {
        let sourceID = relation.sourceDataSourceID.uuidString.lowercased()
        let target: String
        switch (relation.targetDataSourceID, targetName) {
        case let (id?, name?): target = "data source \"\(name)\" (\(id.uuidString.lowercased()))"
        case let (id?, nil): target = "data source \(id.uuidString.lowercased()) (not read by relsync)"
        default: target = "an unknown data source"
        }
        let from = relation.fromColumn, to = relation.toColumn
        let view = """
            Notion relation "\(relation.propertyName)" (property id \(relation.propertyID), \(relation.kind.rawValue)) \
            of data source "\(sourceName)" (\(sourceID)), linking to \(target). One row per edge: \(from) links to \(to); \
            position is the 0-based order in Notion (NULL where unknown). Titles: join \(pagesTable) on page_id. \
            Maintained by relsync; do not edit.
            """
        return (
            view,
            "A page of data source \"\(sourceName)\" (\(sourceID)) whose relation \"\(relation.propertyName)\" links to \(to); \(pagesTable).page_id.",
            "A page of \(target) that \"\(relation.propertyName)\" of \(from) links to; \(pagesTable).page_id.",
            "0-based place of \(to) in the \"\(relation.propertyName)\" list of \(from) in Notion; NULL where the order could not be known."
        )
    }

    /// Names of the given data sources, as stored.
    private func dataSourceNames(_ ids: Set<UUID>, on connection: PostgresConnection) async throws -> [UUID: String] {
        var names: [UUID: String] = [:]
        for id in ids {
            let rows = try await connection.query(
                "SELECT name FROM \(table("data_sources")) WHERE data_source_id = $1", [id.uuidString])
            if let name = rows.scalar { names[id] = name }
        }
        return names
    }

    /// Re-comments the views of relations (of other data sources) that point into `target`,
    /// whose comments quote its name. Views not made by this version (no recorded columns) or
    /// already gone are skipped.
    private func refreshCommentsOfRelations(into target: DataSourceRow, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT r.source_data_source_id, r.property_id, r.property_name, r.kind, r.join_view_schema, r.join_view,
                   r.from_column, r.to_column, s.name
            FROM \(table("relations")) r JOIN \(table("data_sources")) s ON s.data_source_id = r.source_data_source_id
            WHERE r.target_data_source_id = $1 AND r.source_data_source_id <> $1
              AND r.join_view_schema IS NOT NULL AND r.from_column IS NOT NULL AND r.to_column IS NOT NULL
            """,
            [target.id.uuidString])
        var script = ""
        for row in rows.rows {
            guard let sourceID = row[0].flatMap(UUID.init(uuidString:)), let propertyID = row[1], let name = row[2],
                let kind = row[3].flatMap(RelationKind.init(rawValue:)), let schemaName = row[4], let viewName = row[5],
                let from = row[6], let to = row[7], let sourceName = row[8]
            else { continue }
            let view = "\(connection.quoteIdentifier(schemaName)).\(connection.quoteIdentifier(viewName))"
            let exists = try await connection.query("SELECT to_regclass($1) IS NOT NULL", [view])
            guard exists.scalar == "t" else { continue }
            let relation = RelationRow(
                sourceDataSourceID: sourceID, propertyID: propertyID, propertyName: name, targetDataSourceID: target.id,
                kind: kind, joinView: viewName, fromColumn: from, toColumn: to)
            script += commentStatements(view: view, relation: relation, sourceName: sourceName, targetName: target.name, on: connection)
        }
        if !script.isEmpty { try await connection.executeScript(script) }
    }
}
