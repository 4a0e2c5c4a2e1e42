import Foundation
import PostgresStore
import Testing

/// A small workspace: "Projects" (source, pages P0…) related to "People" (target, pages T0…).
private enum Fixture {
    static func id(_ group: Int, _ n: Int) -> UUID {
        UUID(uuidString: String(format: "%08d-0000-4000-8000-%012d", group, n))!
    }
    static func p(_ n: Int) -> UUID { id(10, n) }
    static func t(_ n: Int) -> UUID { id(20, n) }

    static let source = DataSourceRow(id: id(1, 1), databaseID: id(2, 1), name: "Projects", configured: true)
    static let target = DataSourceRow(id: id(1, 2), databaseID: nil, name: "People", configured: false)
    static let edited = Date(timeIntervalSince1970: 1_760_000_000)

    static func projectPages(_ numbers: [Int]) -> [PageRow] {
        numbers.map { n in
            PageRow(
                pageID: p(n), dataSourceID: source.id, title: "Project \(n)", url: "https://www.notion.so/p\(n)",
                createdTime: edited.addingTimeInterval(-86_400), lastEditedTime: edited, lastEditedBy: id(30, 1))
        }
    }

    static func peoplePages(_ numbers: [Int]) -> [PageRow] {
        numbers.map { PageRow(pageID: t($0), dataSourceID: target.id, title: "Person \($0)") }
    }

    static let team = RelationRow(
        sourceDataSourceID: source.id, propertyID: "%3AxYz", propertyName: "Team Members", targetDataSourceID: target.id,
        kind: .dual, syncedPropertyID: "abc%3D", syncedPropertyName: "Projects", joinView: "projects__team_members")
    static let owner = RelationRow(
        sourceDataSourceID: source.id, propertyID: "own", propertyName: "Owner", targetDataSourceID: target.id,
        kind: .single, joinView: "projects__owner")

    /// `[from: [to…]]` with positions in list order.
    static func edges(_ lists: [Int: [Int]]) -> [EdgeRow] {
        lists.flatMap { from, targets in
            targets.enumerated().map { EdgeRow(fromPageID: p(from), toPageID: t($0.element), position: $0.offset) }
        }
    }

    static func peopleSnapshot(_ numbers: [Int] = Array(0..<5)) -> DataSourceSnapshot {
        DataSourceSnapshot(dataSource: target, pages: peoplePages(numbers), relations: [], edges: [:], complete: true)
    }

    static func projectsSnapshot(
        pages: [Int] = [0, 1, 2], relations: [RelationRow] = [team], edges: [String: [EdgeRow]], complete: Bool = true
    ) -> DataSourceSnapshot {
        DataSourceSnapshot(dataSource: source, pages: projectPages(pages), relations: relations, edges: edges, complete: complete)
    }

    static let initialTeam: [Int: [Int]] = [0: [0, 1, 2], 1: [2], 2: []]
}

/// One row of `edge_history`, as the apply tests compare them.
struct HistoryRow: Hashable, CustomStringConvertible {
    var change: String
    var propertyID: String
    var from: UUID
    var to: UUID
    var position: Int?
    var description: String { "\(change) \(propertyID) \(from)->\(to) @\(position.map(String.init) ?? "nil")" }

    static func added(_ edge: EdgeRow, _ propertyID: String) -> HistoryRow {
        HistoryRow(change: "added", propertyID: propertyID, from: edge.fromPageID, to: edge.toPageID, position: edge.position)
    }

    static func removed(_ edge: EdgeRow, _ propertyID: String) -> HistoryRow {
        HistoryRow(change: "removed", propertyID: propertyID, from: edge.fromPageID, to: edge.toPageID, position: edge.position)
    }
}

/// The `edge_history` rows `run` wrote, duplicates kept.
func historyRows(_ store: PostgresStore, run: Int64) async throws -> [HistoryRow] {
    let schema = store.connection.quoteIdentifier(store.configuration.schema)
    let rows = try await store.connection.query(
        "SELECT change, property_id, from_page_id, to_page_id, position FROM \(schema).edge_history WHERE run_id = $1",
        [String(run)])
    return rows.rows.map { row in
        HistoryRow(change: row[0]!, propertyID: row[1]!, from: UUID(uuidString: row[2]!)!, to: UUID(uuidString: row[3]!)!,
                   position: row[4].flatMap { Int($0) })
    }
}

private func history(_ store: PostgresStore, run: Int64) async throws -> Set<HistoryRow> {
    Set(try await historyRows(store, run: run))
}

private func viewRows(_ store: PostgresStore, _ view: String) async throws -> Set<EdgeRow> {
    let connection = store.connection
    let name = "\(connection.quoteIdentifier(store.configuration.viewsSchema)).\(connection.quoteIdentifier(view))"
    let rows = try await connection.query("SELECT from_page_id, to_page_id, position FROM \(name)")
    return Set(rows.rows.map {
        EdgeRow(fromPageID: UUID(uuidString: $0[0]!)!, toPageID: UUID(uuidString: $0[1]!)!, position: $0[2].flatMap { Int($0) })
    })
}

private func viewExists(_ store: PostgresStore, _ view: String) async throws -> Bool {
    let connection = store.connection
    let name = "\(connection.quoteIdentifier(store.configuration.viewsSchema)).\(connection.quoteIdentifier(view))"
    return try await connection.query("SELECT to_regclass($1) IS NOT NULL", [name]).scalar == "t"
}

private func pageStates(_ store: PostgresStore) async throws -> [UUID: (title: String, inTrash: Bool)] {
    let schema = store.connection.quoteIdentifier(store.configuration.schema)
    let rows = try await store.connection.query("SELECT page_id, title, in_trash FROM \(schema).pages")
    var states: [UUID: (title: String, inTrash: Bool)] = [:]
    for row in rows.rows { states[UUID(uuidString: row[0]!)!] = (row[1]!, row[2] == "t") }
    return states
}

private func added(_ edges: [EdgeRow], _ propertyID: String = Fixture.team.propertyID) -> Set<HistoryRow> {
    Set(edges.map { HistoryRow.added($0, propertyID) })
}

/// Loads People, then Projects with `Fixture.initialTeam`; returns the run id.
private func initialLoad(_ store: PostgresStore) async throws -> Int64 {
    let run = try await store.beginRun(mode: "full")
    _ = try await store.apply(Fixture.peopleSnapshot(), runID: run)
    _ = try await store.apply(
        Fixture.projectsSnapshot(edges: [Fixture.team.propertyID: Fixture.edges(Fixture.initialTeam)]), runID: run)
    return run
}

extension PostgresIntegrationTests {
    @Suite struct ApplyTests {
        @Test func firstLoadThenIdenticalApplyChangesNothing() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                let people = try await store.apply(Fixture.peopleSnapshot(), runID: run)
                #expect(people == ApplyResult(pagesUpserted: 5))
                let initialEdges = Fixture.edges(Fixture.initialTeam)
                let projects = Fixture.projectsSnapshot(edges: [Fixture.team.propertyID: initialEdges])
                #expect(try await store.apply(projects, runID: run) == ApplyResult(pagesUpserted: 3, edgesAdded: 4))

                let stored = try await store.edges(sourceDataSourceID: Fixture.source.id, propertyID: Fixture.team.propertyID)
                #expect(stored == [
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(0), position: 0),
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(1), position: 1),
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(2), position: 2),
                    EdgeRow(fromPageID: Fixture.p(1), toPageID: Fixture.t(2), position: 0),
                ])
                #expect(try await history(store, run: run) == added(initialEdges))
                #expect(try await viewRows(store, "projects__team_members") == Set(initialEdges))
                #expect(try await store.relations() == [Fixture.team])
                #expect(try await store.counts() == StoreCounts(dataSources: 2, pages: 8, relations: 1, edges: 4))

                let schema = store.connection.quoteIdentifier(store.configuration.schema)
                let sources = try await store.connection.query(
                    "SELECT name, configured::text, database_id::text, last_full_sync_at IS NOT NULL FROM \(schema).data_sources ORDER BY name")
                #expect(sources.rows == [
                    ["People", "false", nil, "t"], ["Projects", "true", Fixture.source.databaseID!.uuidString.lowercased(), "t"],
                ])
                let page = try await store.connection.query(
                    """
                    SELECT title, url, extract(epoch FROM last_edited_time)::bigint::text, last_edited_by::text, in_trash::text
                    FROM \(schema).pages WHERE page_id = $1
                    """, [Fixture.p(1).uuidString])
                #expect(page.rows == [["Project 1", "https://www.notion.so/p1", "1760000000", Fixture.id(30, 1).uuidString.lowercased(), "false"]])

                let again = try await store.beginRun(mode: "full")
                #expect(try await store.apply(Fixture.peopleSnapshot(), runID: again) == ApplyResult())
                #expect(try await store.apply(projects, runID: again) == ApplyResult())
                #expect(try await history(store, run: again).isEmpty)
                #expect(try await store.counts() == StoreCounts(dataSources: 2, pages: 8, relations: 1, edges: 4))
            }
        }

        @Test func addsRemovesAndRepositionsWithExactHistory() async throws {
            try await withStore { store in
                _ = try await initialLoad(store)
                let run = try await store.beginRun(mode: "incremental")
                // P0: T2 removed, T0/T1 swapped, T3 added. P1: T4 appended.
                let next = Fixture.edges([0: [1, 0, 3], 1: [2, 4], 2: []])
                let result = try await store.apply(Fixture.projectsSnapshot(edges: [Fixture.team.propertyID: next]), runID: run)
                #expect(result == ApplyResult(edgesAdded: 2, edgesRemoved: 1, edgesRepositioned: 2))
                let stored = try await store.edges(sourceDataSourceID: Fixture.source.id, propertyID: Fixture.team.propertyID)
                #expect(Set(stored) == Set(next))
                #expect(try await history(store, run: run) == [
                    HistoryRow(change: "added", propertyID: "%3AxYz", from: Fixture.p(0), to: Fixture.t(3), position: 2),
                    HistoryRow(change: "added", propertyID: "%3AxYz", from: Fixture.p(1), to: Fixture.t(4), position: 1),
                    HistoryRow(change: "removed", propertyID: "%3AxYz", from: Fixture.p(0), to: Fixture.t(2), position: 2),
                ])
                #expect(try await viewRows(store, "projects__team_members") == Set(next))
            }
        }

        @Test func duplicateEdgesKeepTheSmallestPositionAndDuplicatePagesTheLast() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                _ = try await store.apply(Fixture.peopleSnapshot(), runID: run)
                var pages = Fixture.projectPages([0])
                pages.append(PageRow(pageID: Fixture.p(0), dataSourceID: Fixture.source.id, title: "Project 0, read again"))
                let edges = [
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(0), position: 3),
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(0), position: 1),
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(0), position: nil),
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(1), position: nil),
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(1), position: nil),
                ]
                let snapshot = DataSourceSnapshot(
                    dataSource: Fixture.source, pages: pages, relations: [Fixture.team], edges: [Fixture.team.propertyID: edges],
                    complete: true)
                #expect(try await store.apply(snapshot, runID: run) == ApplyResult(pagesUpserted: 1, edgesAdded: 2))
                let stored = try await store.edges(sourceDataSourceID: Fixture.source.id, propertyID: Fixture.team.propertyID)
                #expect(stored == [
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(0), position: 1),
                    EdgeRow(fromPageID: Fixture.p(0), toPageID: Fixture.t(1), position: nil),
                ])
                #expect(try await pageStates(store)[Fixture.p(0)]?.title == "Project 0, read again")
                #expect(try await store.apply(snapshot, runID: run) == ApplyResult())
            }
        }

        @Test func incrementalApplyTouchesOnlyThePagesRead() async throws {
            try await withStore { store in
                _ = try await initialLoad(store)
                let run = try await store.beginRun(mode: "incremental")
                var pages = Fixture.projectPages([1])
                pages[0].title = "Project 1, renamed"
                let incremental = DataSourceSnapshot(
                    dataSource: Fixture.source, pages: pages, relations: [Fixture.team],
                    edges: [Fixture.team.propertyID: Fixture.edges([1: [3]])], complete: false)
                #expect(try await store.apply(incremental, runID: run)
                        == ApplyResult(pagesUpserted: 1, edgesAdded: 1, edgesRemoved: 1, edgesRepositioned: 0))
                let stored = try await store.edges(sourceDataSourceID: Fixture.source.id, propertyID: Fixture.team.propertyID)
                #expect(Set(stored) == Set(Fixture.edges([0: [0, 1, 2], 1: [3]])))
                let states = try await pageStates(store)
                #expect(states[Fixture.p(1)]?.title == "Project 1, renamed")
                #expect(states[Fixture.p(0)]?.inTrash == false)
                #expect(states[Fixture.p(2)]?.inTrash == false)

                // An incremental read that lists no relations drops none.
                let titlesOnly = DataSourceSnapshot(
                    dataSource: Fixture.source, pages: Fixture.projectPages([2]), relations: [], edges: [:], complete: false)
                #expect(try await store.apply(titlesOnly, runID: run) == ApplyResult())
                #expect(try await store.relations() == [Fixture.team])
                #expect(try await store.counts().edges == 4)
            }
        }

        @Test func completeReadTrashesUnseenPagesAndTheirEdges() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                _ = try await store.apply(Fixture.peopleSnapshot(), runID: run)
                let withP2 = Fixture.edges([0: [0], 1: [1], 2: [4]])
                _ = try await store.apply(Fixture.projectsSnapshot(edges: [Fixture.team.propertyID: withP2]), runID: run)

                let sweep = try await store.beginRun(mode: "full")
                let withoutP2 = Fixture.edges([0: [0], 1: [1]])
                let result = try await store.apply(
                    Fixture.projectsSnapshot(pages: [0, 1], edges: [Fixture.team.propertyID: withoutP2]), runID: sweep)
                #expect(result == ApplyResult(pagesTrashed: 1, edgesRemoved: 1))
                #expect(try await history(store, run: sweep) == [
                    HistoryRow(change: "removed", propertyID: "%3AxYz", from: Fixture.p(2), to: Fixture.t(4), position: 0),
                ])
                #expect(try await pageStates(store)[Fixture.p(2)]?.inTrash == true)

                // Notion reports P1 trashed (still listed), and People lost T3.
                var pages = Fixture.projectPages([0, 1])
                pages[1].inTrash = true
                let trashed = try await store.apply(
                    DataSourceSnapshot(dataSource: Fixture.source, pages: pages, relations: [Fixture.team],
                                       edges: [Fixture.team.propertyID: withoutP2], complete: true), runID: sweep)
                #expect(trashed == ApplyResult(pagesUpserted: 1, pagesTrashed: 1))
                #expect(try await store.apply(Fixture.peopleSnapshot([0, 1, 2, 4]), runID: sweep) == ApplyResult(pagesTrashed: 1))
                var states = try await pageStates(store)
                #expect(states[Fixture.p(1)]?.inTrash == true)
                #expect(states[Fixture.t(3)]?.inTrash == true)

                // P2 comes back from the trash.
                let restored = try await store.apply(
                    Fixture.projectsSnapshot(pages: [0, 1, 2], edges: [Fixture.team.propertyID: withP2]), runID: sweep)
                #expect(restored == ApplyResult(pagesUpserted: 2, edgesAdded: 1))
                states = try await pageStates(store)
                #expect(states[Fixture.p(2)]?.inTrash == false)
                #expect(states[Fixture.p(1)]?.inTrash == false)
            }
        }

        @Test func renamedRelationMovesItsViewAndKeepsItsEdges() async throws {
            try await withStore { store in
                _ = try await initialLoad(store)
                let views = store.connection.quoteIdentifier(store.configuration.viewsSchema)
                // An analyst's view built on the join view survives the rename.
                try await store.connection.execute(
                    "CREATE VIEW \(views).analyst AS SELECT count(*) AS n FROM \(views).projects__team_members")

                var renamed = Fixture.team
                renamed.propertyName = "Members"
                renamed.joinView = "projects__members"
                let run = try await store.beginRun(mode: "full")
                let result = try await store.apply(
                    Fixture.projectsSnapshot(relations: [renamed], edges: [Fixture.team.propertyID: Fixture.edges(Fixture.initialTeam)]),
                    runID: run)
                #expect(result == ApplyResult())
                #expect(try await viewExists(store, "projects__team_members") == false)
                #expect(try await viewRows(store, "projects__members") == Set(Fixture.edges(Fixture.initialTeam)))
                #expect(try await store.relations() == [renamed])
                #expect(try await store.connection.query("SELECT n::text FROM \(views).analyst").scalar == "4")
                let comment = try await store.connection.query(
                    "SELECT obj_description(to_regclass($1), 'pg_class')", ["\(views).projects__members"])
                #expect(comment.scalar?.contains("Notion relation \"Members\"") == true)
            }
        }

        @Test func relationGoneFromACompleteReadIsDropped() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                _ = try await store.apply(Fixture.peopleSnapshot(), runID: run)
                let ownerEdges = Fixture.edges([0: [4], 1: [3]])
                _ = try await store.apply(
                    Fixture.projectsSnapshot(
                        relations: [Fixture.team, Fixture.owner],
                        edges: [Fixture.team.propertyID: Fixture.edges(Fixture.initialTeam), Fixture.owner.propertyID: ownerEdges]),
                    runID: run)
                #expect(try await viewRows(store, "projects__owner") == Set(ownerEdges))

                let sweep = try await store.beginRun(mode: "full")
                let result = try await store.apply(
                    Fixture.projectsSnapshot(edges: [Fixture.team.propertyID: Fixture.edges(Fixture.initialTeam)]), runID: sweep)
                #expect(result == ApplyResult(edgesRemoved: 2))
                #expect(try await history(store, run: sweep) == Set(ownerEdges.map {
                    HistoryRow(change: "removed", propertyID: "own", from: $0.fromPageID, to: $0.toPageID, position: $0.position)
                }))
                #expect(try await store.relations() == [Fixture.team])
                #expect(try await viewExists(store, "projects__owner") == false)
                #expect(try await store.edges(sourceDataSourceID: Fixture.source.id, propertyID: "own") == [])
            }
        }

        @Test func hostileNamesInSchemasViewsAndComments() async throws {
            let schema = TestDatabase.uniqueName("rs") + "\"; DROP SCHEMA public; --"
            let viewsSchema = TestDatabase.uniqueName("v") + " 'views' \\ 表"
            try await withStore(schema: schema, viewsSchema: viewsSchema) { store in
                let source = DataSourceRow(
                    id: Fixture.source.id, databaseID: nil, name: "Pro\"jects'; DROP TABLE x; --\\ 🚀", configured: true)
                let relation = RelationRow(
                    sourceDataSourceID: source.id, propertyID: "%3A'\"\\x;", propertyName: "Team \"Members\"; DROP SCHEMA public; -- \\ ü",
                    targetDataSourceID: Fixture.target.id, kind: .single,
                    joinView: Self.padded("select\"; drop table x; --\\ ü'", toBytes: 63))
                #expect(relation.joinView.utf8.count == 63)
                let edges = Fixture.edges([0: [0, 1]])
                let run = try await store.beginRun(mode: "full")
                let result = try await store.apply(
                    DataSourceSnapshot(dataSource: source, pages: [PageRow(pageID: Fixture.p(0), dataSourceID: source.id,
                                                                           title: "tab\there\nnew 'line' \\ \"q\" \0 nul")],
                                       relations: [relation], edges: [relation.propertyID: edges], complete: true),
                    runID: run)
                #expect(result == ApplyResult(pagesUpserted: 1, edgesAdded: 2))
                #expect(try await viewRows(store, relation.joinView) == Set(edges))
                #expect(try await store.relations() == [relation])
                #expect(try await store.edges(sourceDataSourceID: source.id, propertyID: relation.propertyID) == edges)
                #expect(try await pageStates(store)[Fixture.p(0)]?.title == "tab\there\nnew 'line' \\ \"q\" \u{FFFD} nul")

                let connection = store.connection
                let view = "\(connection.quoteIdentifier(viewsSchema)).\(connection.quoteIdentifier(relation.joinView))"
                let comment = try #require(try await connection.query(
                    "SELECT obj_description(to_regclass($1), 'pg_class')", [view]).scalar)
                #expect(comment.contains("Notion relation \"\(relation.propertyName)\""))
                #expect(comment.contains("of data source \"\(source.name)\""))
                #expect(comment.contains("property id \(relation.propertyID)"))
                // Nothing was injected: public still exists.
                #expect(try await connection.query("SELECT to_regnamespace('public') IS NOT NULL").scalar == "t")
            }
        }

        static func padded(_ text: String, toBytes bytes: Int) -> String {
            text + String(repeating: "z", count: bytes - text.utf8.count)
        }

        @Test func invalidSnapshotsAreRejectedWithoutWriting() async throws {
            try await withStore { store in
                _ = try await initialLoad(store)
                let before = try await store.counts()
                let run = try await store.beginRun(mode: "full")
                var long = Fixture.owner
                long.joinView = String(repeating: "v", count: 64)
                var foreign = Fixture.owner
                foreign.sourceDataSourceID = Fixture.target.id
                var sharedName = Fixture.owner
                sharedName.joinView = Fixture.team.joinView
                let invalid: [DataSourceSnapshot] = [
                    Fixture.projectsSnapshot(relations: [Fixture.team, long], edges: [:]),
                    Fixture.projectsSnapshot(relations: [Fixture.team, foreign], edges: [:]),
                    Fixture.projectsSnapshot(relations: [Fixture.team, sharedName], edges: [:]),
                    Fixture.projectsSnapshot(edges: ["unknown": Fixture.edges([0: [1]])]),
                    // The people data source claiming a view name Projects already uses.
                    DataSourceSnapshot(
                        dataSource: Fixture.target, pages: [],
                        relations: [RelationRow(sourceDataSourceID: Fixture.target.id, propertyID: "back", propertyName: "Projects",
                                                targetDataSourceID: Fixture.source.id, kind: .dual, joinView: Fixture.team.joinView)],
                        edges: [:], complete: false),
                ]
                for snapshot in invalid {
                    let error = try #require(await storeError { _ = try await store.apply(snapshot, runID: run) })
                    #expect(error.code == .invalidInput, "\(error)")
                }
                #expect(try await store.counts() == before)
                #expect(try await history(store, run: run).isEmpty)
                #expect(try await viewRows(store, Fixture.team.joinView).count == 4)
            }
        }

        @Test func concurrentAppliesFromTwoStoresBothLand() async throws {
            try await withStore { store in
                let other = try await PostgresStore.open(store.configuration, logger: TestDatabase.logger)
                defer { other.close() }
                let run = try await store.beginRun(mode: "full")
                async let people = store.apply(Fixture.peopleSnapshot(), runID: run)
                async let projects = other.apply(
                    Fixture.projectsSnapshot(edges: [Fixture.team.propertyID: Fixture.edges(Fixture.initialTeam)]), runID: run)
                #expect(try await people == ApplyResult(pagesUpserted: 5))
                #expect(try await projects == ApplyResult(pagesUpserted: 3, edgesAdded: 4))
                #expect(try await store.counts() == StoreCounts(dataSources: 2, pages: 8, relations: 1, edges: 4))
            }
        }

        @Test func manyEdgesStreamThroughCopy() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                let people = (0..<2_000).map { PageRow(pageID: Fixture.t($0), dataSourceID: Fixture.target.id, title: "Person \($0)") }
                _ = try await store.apply(
                    DataSourceSnapshot(dataSource: Fixture.target, pages: people, relations: [], edges: [:], complete: true), runID: run)
                // 50 projects × 400 targets = 20,000 edges, several COPY chunks.
                let lists = Dictionary(uniqueKeysWithValues: (0..<50).map { from in (from, (0..<400).map { (from * 7 + $0) % 2_000 }) })
                let edges = Fixture.edges(lists)
                let result = try await store.apply(
                    Fixture.projectsSnapshot(pages: Array(0..<50), edges: [Fixture.team.propertyID: edges]), runID: run)
                #expect(result == ApplyResult(pagesUpserted: 50, edgesAdded: 20_000))
                #expect(try await store.counts().edges == 20_000)
                let reversed = Fixture.edges(lists.mapValues { Array($0.reversed()) })
                let second = try await store.apply(
                    Fixture.projectsSnapshot(pages: Array(0..<50), edges: [Fixture.team.propertyID: reversed]), runID: run)
                // Reversing a list of 400 moves every edge (no middle element: 400 is even).
                #expect(second == ApplyResult(edgesRepositioned: 20_000))
            }
        }
    }
}
