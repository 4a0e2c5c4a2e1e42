import Foundation
import PostgresStore
import Testing

/// The paths `apply` takes through its edge merge: the first load (nothing stored for the
/// snapshot's relations), the difference of a complete read and of an incremental one, each
/// with incoming lists that are already a set and with lists the server must group (a page's
/// edges split in two runs, or a target named twice). Every path must give the same edges,
/// history and counts.
private enum Paths {
    static func id(_ group: Int, _ n: Int) -> UUID {
        UUID(uuidString: String(format: "%08d-0000-4000-8000-%012d", group, n))!
    }
    static func p(_ n: Int) -> UUID { id(10, n) }
    static func t(_ n: Int) -> UUID { id(20, n) }

    static let source = DataSourceRow(id: id(1, 1), databaseID: nil, name: "Projects", configured: true)
    static let target = DataSourceRow(id: id(1, 2), databaseID: nil, name: "People", configured: false)
    static let team = RelationRow(
        sourceDataSourceID: source.id, propertyID: "%3AxYz", propertyName: "Team", targetDataSourceID: target.id,
        kind: .single, joinView: "paths__team")
    static let owner = RelationRow(
        sourceDataSourceID: source.id, propertyID: "own", propertyName: "Owner", targetDataSourceID: target.id,
        kind: .single, joinView: "paths__owner")

    static func pages(_ numbers: [Int]) -> [PageRow] {
        numbers.map { PageRow(pageID: p($0), dataSourceID: source.id, title: "Project \($0)") }
    }

    static func e(_ from: Int, _ to: Int, _ position: Int?) -> EdgeRow {
        EdgeRow(fromPageID: p(from), toPageID: t(to), position: position)
    }

    static func snapshot(
        pages: [Int] = [0, 1, 2], relations: [RelationRow] = [team], edges: [String: [EdgeRow]], complete: Bool = true
    ) -> DataSourceSnapshot {
        DataSourceSnapshot(dataSource: source, pages: Self.pages(pages), relations: relations, edges: edges, complete: complete)
    }

    static func people(_ store: PostgresStore, run: Int64) async throws {
        let pages = (0..<10).map { PageRow(pageID: t($0), dataSourceID: target.id, title: "Person \($0)") }
        _ = try await store.apply(
            DataSourceSnapshot(dataSource: target, pages: pages, relations: [], edges: [:], complete: true), runID: run)
    }
}

/// The history rows of this suite's relation (`HistoryRow` and `historyRows` are ApplyTests').
private enum Change {
    static func added(_ edge: EdgeRow, _ propertyID: String = Paths.team.propertyID) -> HistoryRow {
        .added(edge, propertyID)
    }

    static func removed(_ edge: EdgeRow, _ propertyID: String = Paths.team.propertyID) -> HistoryRow {
        .removed(edge, propertyID)
    }
}

private func changes(_ store: PostgresStore, run: Int64) async throws -> [HistoryRow] {
    try await historyRows(store, run: run)
}

private func stored(_ store: PostgresStore, _ relation: RelationRow = Paths.team) async throws -> Set<EdgeRow> {
    Set(try await store.edges(sourceDataSourceID: Paths.source.id, propertyID: relation.propertyID))
}

extension PostgresIntegrationTests {
    @Suite struct ApplyEdgePathTests {
        @Test func ungroupedDuplicatesKeepTheSmallestPositionOnEveryPath() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                try await Paths.people(store, run: run)
                // P0's edges come in two runs, and T0/T1 twice: the server groups them.
                let first = [
                    Paths.e(0, 0, 3), Paths.e(1, 1, 0), Paths.e(0, 0, 1), Paths.e(0, 1, nil), Paths.e(1, 1, nil),
                    Paths.e(0, 1, nil),
                ]
                let load = try await store.apply(Paths.snapshot(edges: [Paths.team.propertyID: first]), runID: run)
                #expect(load == ApplyResult(pagesUpserted: 3, edgesAdded: 3))
                let loaded: Set = [Paths.e(0, 0, 1), Paths.e(0, 1, nil), Paths.e(1, 1, 0)]
                #expect(try await stored(store) == loaded)
                #expect(Set(try await changes(store, run: run)) == Set(loaded.map { Change.added($0) }))
                #expect(try await changes(store, run: run).count == 3)

                // The same again, through the difference: nothing changes.
                let again = try await store.beginRun(mode: "full")
                #expect(try await store.apply(Paths.snapshot(edges: [Paths.team.propertyID: first]), runID: again) == ApplyResult())
                #expect(try await changes(store, run: again).isEmpty)

                // P1 in two runs again; P0→T0 moves to 0; P0→T1 and P1→T1 go; P1→T2 comes at 2.
                let next = [Paths.e(1, 2, 5), Paths.e(0, 0, 0), Paths.e(1, 2, 2), Paths.e(0, 0, 4)]
                let third = try await store.beginRun(mode: "full")
                let result = try await store.apply(Paths.snapshot(edges: [Paths.team.propertyID: next]), runID: third)
                #expect(result == ApplyResult(edgesAdded: 1, edgesRemoved: 2, edgesRepositioned: 1))
                #expect(try await stored(store) == [Paths.e(0, 0, 0), Paths.e(1, 2, 2)])
                let recorded = try await changes(store, run: third)
                #expect(recorded.count == 3)
                #expect(Set(recorded) == [
                    Change.added(Paths.e(1, 2, 2)), Change.removed(Paths.e(0, 1, nil)), Change.removed(Paths.e(1, 1, 0)),
                ])
            }
        }

        @Test func incrementalReadsOnTheFirstLoadAndTheDifferencePaths() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "incremental")
                try await Paths.people(store, run: run)
                // An incremental read as the very first load: everything is added.
                let initial = [Paths.e(0, 0, 0), Paths.e(0, 1, 1), Paths.e(0, 2, 2), Paths.e(1, 2, 0)]
                let load = try await store.apply(
                    Paths.snapshot(edges: [Paths.team.propertyID: initial], complete: false), runID: run)
                #expect(load == ApplyResult(pagesUpserted: 3, edgesAdded: 4))
                #expect(Set(try await changes(store, run: run)) == Set(initial.map { Change.added($0) }))

                // Only P1 is read. Its list is now [T3] (T2 goes), given in two runs with T3 twice.
                // Edges from pages not read are still merged (as they always were): P0→T1 moves
                // to 0 and P2→T4 is added; P0's other edges stay, as they are out of scope.
                let incoming = [Paths.e(1, 3, 0), Paths.e(0, 1, 0), Paths.e(2, 4, 0), Paths.e(1, 3, 7)]
                let next = try await store.beginRun(mode: "incremental")
                let result = try await store.apply(
                    Paths.snapshot(pages: [1], edges: [Paths.team.propertyID: incoming], complete: false), runID: next)
                #expect(result == ApplyResult(pagesUpserted: 0, edgesAdded: 2, edgesRemoved: 1, edgesRepositioned: 1))
                #expect(try await stored(store) == [
                    Paths.e(0, 0, 0), Paths.e(0, 1, 0), Paths.e(0, 2, 2), Paths.e(1, 3, 0), Paths.e(2, 4, 0),
                ])
                let recorded = try await changes(store, run: next)
                #expect(recorded.count == 3)
                #expect(Set(recorded) == [Change.added(Paths.e(1, 3, 0)), Change.added(Paths.e(2, 4, 0)), Change.removed(Paths.e(1, 2, 0))])

                // The same read again, as a set (each page's edges in one run): nothing changes.
                let grouped = [Paths.e(1, 3, 0), Paths.e(0, 1, 0), Paths.e(2, 4, 0)]
                let third = try await store.beginRun(mode: "incremental")
                #expect(try await store.apply(
                    Paths.snapshot(pages: [1], edges: [Paths.team.propertyID: grouped], complete: false), runID: third)
                        == ApplyResult())
                #expect(try await changes(store, run: third).isEmpty)
            }
        }

        @Test func anIncrementalReadListingAPageTwiceRemovesItsEdgesOnce() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                try await Paths.people(store, run: run)
                _ = try await store.apply(
                    Paths.snapshot(edges: [Paths.team.propertyID: [Paths.e(0, 0, 0), Paths.e(1, 1, 0), Paths.e(1, 2, 1)]]), runID: run)
                let next = try await store.beginRun(mode: "incremental")
                let result = try await store.apply(
                    Paths.snapshot(pages: [1, 1], edges: [Paths.team.propertyID: [Paths.e(1, 2, 0)]], complete: false), runID: next)
                #expect(result == ApplyResult(edgesRemoved: 1, edgesRepositioned: 1))
                #expect(try await changes(store, run: next) == [Change.removed(Paths.e(1, 1, 0))])
                #expect(try await stored(store) == [Paths.e(0, 0, 0), Paths.e(1, 2, 0)])
            }
        }

        @Test func aNewRelationBesideAStoredOneIsDiffedWithIt() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                try await Paths.people(store, run: run)
                let team = [Paths.e(0, 0, 0), Paths.e(1, 1, 0)]
                _ = try await store.apply(Paths.snapshot(edges: [Paths.team.propertyID: team]), runID: run)

                let owners = [Paths.e(0, 5, 0), Paths.e(2, 6, 0)]
                let next = try await store.beginRun(mode: "full")
                let result = try await store.apply(
                    Paths.snapshot(relations: [Paths.team, Paths.owner],
                                   edges: [Paths.team.propertyID: [Paths.e(0, 0, 0)], Paths.owner.propertyID: owners]),
                    runID: next)
                #expect(result == ApplyResult(edgesAdded: 2, edgesRemoved: 1))
                #expect(try await stored(store) == [Paths.e(0, 0, 0)])
                #expect(try await stored(store, Paths.owner) == Set(owners))
                #expect(Set(try await changes(store, run: next)) == [
                    Change.removed(Paths.e(1, 1, 0)), Change.added(Paths.e(0, 5, 0), "own"), Change.added(Paths.e(2, 6, 0), "own"),
                ])
            }
        }

        @Test func dryRunsOfAFirstLoadAndOfADifferenceWriteNothing() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                try await Paths.people(store, run: run)
                let initial = [Paths.e(0, 0, 0), Paths.e(0, 1, 1), Paths.e(1, 2, 0)]
                let snapshot = Paths.snapshot(edges: [Paths.team.propertyID: initial])
                #expect(try await store.apply(snapshot, runID: run, dryRun: true) == ApplyResult(pagesUpserted: 3, edgesAdded: 3))
                #expect(try await store.counts().edges == 0)
                #expect(try await changes(store, run: run).isEmpty)

                _ = try await store.apply(snapshot, runID: run)
                let next = try await store.beginRun(mode: "full")
                let changed = Paths.snapshot(edges: [Paths.team.propertyID: [Paths.e(0, 1, 0), Paths.e(1, 3, 0)]])
                #expect(try await store.apply(changed, runID: next, dryRun: true)
                        == ApplyResult(edgesAdded: 1, edgesRemoved: 2, edgesRepositioned: 1))
                #expect(try await stored(store) == Set(initial))
                #expect(try await changes(store, run: next).isEmpty)
                // And applied for real, the same counts.
                #expect(try await store.apply(changed, runID: next) == ApplyResult(edgesAdded: 1, edgesRemoved: 2, edgesRepositioned: 1))
                #expect(try await stored(store) == [Paths.e(0, 1, 0), Paths.e(1, 3, 0)])
            }
        }

        @Test func aPropertyIDWithNULTravelsThroughTheBinaryCopy() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                try await Paths.people(store, run: run)
                let relation = RelationRow(
                    sourceDataSourceID: Paths.source.id, propertyID: "a\u{0}b", propertyName: "Odd", targetDataSourceID: Paths.target.id,
                    kind: .single, joinView: "paths__odd")
                let edges = [Paths.e(0, 0, 0), Paths.e(0, 1, Int(Int32.max))]
                let result = try await store.apply(
                    Paths.snapshot(relations: [relation], edges: [relation.propertyID: edges]), runID: run)
                #expect(result == ApplyResult(pagesUpserted: 3, edgesAdded: 2))
                #expect(Set(try await store.edges(sourceDataSourceID: Paths.source.id, propertyID: "a\u{FFFD}b")) == Set(edges))
            }
        }

        @Test func historyIsIndexedByItsKeyAndOneBRIN() async throws {
            try await withStore { store in
                let indexes = try await store.connection.query(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'edge_history' ORDER BY 1",
                    [store.configuration.schema])
                #expect(indexes.rows.map { $0[0] } == ["edge_history_brin", "edge_history_pkey"])
                #expect(indexes.rows.first?[1]?.contains("USING brin (changed_at, run_id, source_data_source_id, property_id)") == true)

                // The readers of the history still answer through it.
                let run = try await store.beginRun(mode: "full")
                try await Paths.people(store, run: run)
                _ = try await store.apply(Paths.snapshot(edges: [Paths.team.propertyID: [Paths.e(0, 0, 0)]]), runID: run)
                #expect(try await changes(store, run: run) == [Change.added(Paths.e(0, 0, 0))])
                #expect(try await store.edgeChangesPerDay(days: 2).map(\.added).reduce(0, +) == 1)
                #expect(try await store.pruneHistory(olderThan: 3_600, dryRun: true) == 0)
                #expect(try await store.pruneHistory(olderThan: 0) == 1)
            }
        }

        @Test func manyPagesWithLongAndShortListsLoadAndDiffExactly() async throws {
            try await withStore { store in
                let run = try await store.beginRun(mode: "full")
                try await Paths.people(store, run: run)
                let people = (0..<3_000).map { PageRow(pageID: Paths.t($0), dataSourceID: Paths.target.id, title: "P\($0)") }
                _ = try await store.apply(
                    DataSourceSnapshot(dataSource: Paths.target, pages: people, relations: [], edges: [:], complete: true), runID: run)
                // Page 0 has 3,000 targets, the 199 others one to twenty each.
                var edges = (0..<3_000).map { Paths.e(0, $0, $0) }
                for page in 1..<200 {
                    edges += (0..<(1 + page % 20)).map { Paths.e(page, (page * 13 + $0 * 7) % 3_000, $0) }
                }
                let pages = Array(0..<200)
                let load = try await store.apply(Paths.snapshot(pages: pages, edges: [Paths.team.propertyID: edges]), runID: run)
                #expect(load == ApplyResult(pagesUpserted: 200, edgesAdded: edges.count))
                #expect(try await changes(store, run: run).count == edges.count)

                // Every 10th edge points elsewhere; every 7th of page 0's moves one place down.
                var next = edges
                var expectedAdded = 0, expectedRemoved = 0, expectedMoved = 0
                for index in next.indices {
                    if index % 10 == 0 {
                        next[index].toPageID = Paths.id(30, index)
                        expectedAdded += 1
                        expectedRemoved += 1
                    } else if index < 3_000, index % 7 == 0 {
                        next[index].position = index + 1
                        expectedMoved += 1
                    }
                }
                let second = try await store.beginRun(mode: "full")
                let result = try await store.apply(Paths.snapshot(pages: pages, edges: [Paths.team.propertyID: next]), runID: second)
                #expect(result == ApplyResult(edgesAdded: expectedAdded, edgesRemoved: expectedRemoved, edgesRepositioned: expectedMoved))
                #expect(try await stored(store) == Set(next))
                #expect(try await changes(store, run: second).count == expectedAdded + expectedRemoved)
            }
        }
    }
}
