import Foundation
import PostgresStore
import Testing

/// The join views analysts read and export: columns named for each side, renamed in place,
/// commented in Notion's words, recorded in the catalog.
extension PostgresIntegrationTests {
    @Suite struct ExportJoinViewTests {
        static func id(_ group: Int, _ n: Int) -> UUID {
            UUID(uuidString: String(format: "%08d-0000-4000-8000-%012d", group, n))!
        }

        static let projects = DataSourceRow(id: id(1, 1), databaseID: nil, name: "Projects", configured: true)
        static let members = DataSourceRow(id: id(1, 2), databaseID: nil, name: "Members", configured: false)

        static func relation(view: String = "projects__team_members", from: String, to: String) -> RelationRow {
            RelationRow(
                sourceDataSourceID: projects.id, propertyID: "%3AxYz", propertyName: "Team Members", targetDataSourceID: members.id,
                kind: .dual, syncedPropertyID: "b%7D", syncedPropertyName: "Projects", joinView: view, fromColumn: from, toColumn: to)
        }

        static let edges = [
            EdgeRow(fromPageID: id(10, 0), toPageID: id(20, 0), position: 0),
            EdgeRow(fromPageID: id(10, 0), toPageID: id(20, 1), position: 1),
            EdgeRow(fromPageID: id(10, 1), toPageID: id(20, 1), position: 0),
        ]

        static func apply(_ store: PostgresStore, _ relation: RelationRow, source: DataSourceRow = projects) async throws {
            let run = try await store.beginRun(mode: "full")
            _ = try await store.apply(
                DataSourceSnapshot(
                    dataSource: members, pages: (0..<2).map { PageRow(pageID: id(20, $0), dataSourceID: members.id, title: "M\($0)") },
                    relations: [], edges: [:], complete: true),
                runID: run)
            _ = try await store.apply(
                DataSourceSnapshot(
                    dataSource: source, pages: (0..<2).map { PageRow(pageID: id(10, $0), dataSourceID: projects.id, title: "P\($0)") },
                    relations: [relation], edges: [relation.propertyID: edges], complete: true),
                runID: run)
        }

        static func columns(_ store: PostgresStore, _ view: String) async throws -> [String] {
            let c = store.connection
            let name = "\(c.quoteIdentifier(store.configuration.viewsSchema)).\(c.quoteIdentifier(view))"
            return try await c.query("SELECT * FROM \(name) LIMIT 0").columns
        }

        static func comment(_ store: PostgresStore, _ view: String, column: Int? = nil) async throws -> String? {
            let c = store.connection
            let name = "\(c.quoteIdentifier(store.configuration.viewsSchema)).\(c.quoteIdentifier(view))"
            if let column {
                return try await c.query("SELECT col_description(to_regclass($1), $2::int)", [name, String(column)]).scalar
            }
            return try await c.query("SELECT obj_description(to_regclass($1), 'pg_class')", [name]).scalar
        }

        @Test func viewColumnsAreNamedForEachSideAndCommented() async throws {
            try await withStore { store in
                try await Self.apply(store, Self.relation(from: "project_page_id", to: "member_page_id"))
                #expect(try await Self.columns(store, "projects__team_members") == ["project_page_id", "member_page_id", "position"])
                let view = try #require(try await Self.comment(store, "projects__team_members"))
                #expect(view.contains(#"Notion relation "Team Members""#))
                #expect(view.contains(#"linking to data source "Members""#))
                #expect(view.contains("project_page_id links to member_page_id"))
                #expect(try await Self.comment(store, "projects__team_members", column: 1)?.contains(#"data source "Projects""#) == true)
                #expect(try await Self.comment(store, "projects__team_members", column: 2)?.contains(#"data source "Members""#) == true)
                #expect(try await Self.comment(store, "projects__team_members", column: 3)?.contains("0-based place of member_page_id") == true)

                let catalog = try await store.relationCatalog()
                #expect(catalog.count == 1)
                #expect(catalog.first?.fromColumn == "project_page_id")
                #expect(catalog.first?.toColumn == "member_page_id")
                #expect(catalog.first?.joinViewSchema == store.configuration.viewsSchema)
                #expect(catalog.first?.sourceName == "Projects")
                #expect(catalog.first?.targetName == "Members")
            }
        }

        @Test func renamedColumnsKeepRowsAndTheViewsBuiltOnThem() async throws {
            try await withStore { store in
                try await Self.apply(store, Self.relation(from: "project_page_id", to: "member_page_id"))
                let c = store.connection
                let views = c.quoteIdentifier(store.configuration.viewsSchema)
                try await c.execute(
                    "CREATE VIEW \(views).analyst AS SELECT project_page_id AS p, count(*) AS n FROM \(views).projects__team_members GROUP BY 1")

                // The data source is renamed "Portfolio": view and columns follow, rows stay.
                var portfolio = Self.projects
                portfolio.name = "Portfolio"
                try await Self.apply(
                    store, Self.relation(view: "portfolio__team_members", from: "portfolio_page_id", to: "member_page_id"),
                    source: portfolio)
                #expect(try await Self.columns(store, "portfolio__team_members") == ["portfolio_page_id", "member_page_id", "position"])
                let rows = try await c.query("SELECT count(*) FROM \(views).portfolio__team_members")
                #expect(rows.scalar == "3")
                #expect(try await c.query("SELECT to_regclass($1) IS NULL", ["\(views).projects__team_members"]).scalar == "t")
                #expect(try await c.query("SELECT sum(n)::text FROM \(views).analyst").scalar == "3")
                #expect(try await Self.comment(store, "portfolio__team_members", column: 1)?.contains(#""Portfolio""#) == true)

                // Swapped names (from ↔ to) go through temporary names without colliding.
                try await Self.apply(
                    store, Self.relation(view: "portfolio__team_members", from: "member_page_id", to: "portfolio_page_id"),
                    source: portfolio)
                #expect(try await Self.columns(store, "portfolio__team_members") == ["member_page_id", "portfolio_page_id", "position"])
                #expect(try await c.query("SELECT count(*) FROM \(views).portfolio__team_members").scalar == "3")
                #expect(try await store.relationCatalog().first?.fromColumn == "member_page_id")
            }
        }

        @Test func aTargetReadLaterCompletesTheComments() async throws {
            try await withStore { store in
                // The source is applied before its target has ever been read.
                let run = try await store.beginRun(mode: "full")
                let relation = Self.relation(from: "project_page_id", to: "member_page_id")
                _ = try await store.apply(
                    DataSourceSnapshot(
                        dataSource: Self.projects, pages: [PageRow(pageID: Self.id(10, 0), dataSourceID: Self.projects.id, title: "P")],
                        relations: [relation], edges: [:], complete: true),
                    runID: run)
                #expect(try await Self.comment(store, "projects__team_members", column: 2)?.contains("not read by relsync") == true)
                _ = try await store.apply(
                    DataSourceSnapshot(dataSource: Self.members, pages: [], relations: [], edges: [:], complete: true), runID: run)
                #expect(try await Self.comment(store, "projects__team_members", column: 2)?.contains(#"data source "Members""#) == true)
                #expect(try await Self.comment(store, "projects__team_members")?.contains(#"linking to data source "Members""#) == true)
            }
        }

        @Test func invalidColumnNamesAreRejected() async throws {
            try await withStore { store in
                for (from, to) in [("same", "same"), ("position", "x_page_id"), ("", "x"), (String(repeating: "c", count: 64), "x")] {
                    let error = await storeError { try await Self.apply(store, Self.relation(from: from, to: to)) }
                    #expect(error?.code == .invalidInput, "\(from) / \(to)")
                }
            }
        }
    }
}
