import Foundation
import NotionSimulator
import PostgresStore
import ReconcilerCore
import Testing

/// Summaries written back to Notion, incremental runs, and convergence — the real binary
/// against the simulator and PostgreSQL.
@Suite(.enabled(if: E2E.enabled, "needs POSTGRES_HOSTNAME and RELSYNC_BIN (make test sets them)"))
struct WriteBackEndToEndTests {
    /// The summary relsync should have written for `page`: the truth's targets and titles, in
    /// Notion's order — except where relsync stored a list completed by inference from the other
    /// side (positions NULL past the first 25: PRODUCT.md orders the rest by title, then id).
    static func expected(
        _ truth: GroundTruth, dataSource: UUID, relation: String, page: UUID, format: SummaryFormat, stored: StoredEdges
    ) -> RenderedSummary {
        let list = truth.relation(dataSource, relation, page) ?? []
        let key = TruthKey(dataSourceID: dataSource, propertyID: relation, pageID: page)
        let inferred = stored.positions[key]?.contains(nil) == true
        let targets = list.enumerated().map { index, id in
            SummaryTarget(
                pageID: id.uuidString.lowercased(), title: truth.titles[id] ?? "",
                position: inferred && index >= 25 ? nil : index)
        }
        return SummaryRenderer.render(targets, format: format)
    }

    /// The query calls a run needs: one per data source read, plus one per further 100 pages.
    static func queryPages(_ result: RunResult) -> Int {
        let sources = result.json?["data_sources"] as? [[String: Any]] ?? []
        return sources.reduce(0) { $0 + max(1, (($1["pages_read"] as? Int ?? 0) + 99) / 100) }
    }

    /// What the simulator holds in a page's summary property, as the elements relsync sent.
    static func stored(_ engine: SimulatorEngine, page: UUID, property: String) async -> [SummaryElement] {
        await engine.storedRichText(page: page, property: property).compactMap { item -> SummaryElement? in
            switch item.content {
            case .text(let text, _): return .text(text)
            case .pageMention(let id): return .mention(pageID: id.uuidString.lowercased())
            default: return nil
            }
        }
    }

    /// Checks every live page of the data source holds exactly its rendered summary.
    static func expectSummaries(
        _ engine: SimulatorEngine, schema: String, dataSource: UUID, relation: String, property: String, format: SummaryFormat,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let truth = await engine.groundTruth()
        let storedEdges = (try? await StoredEdges.read(schema: schema)) ?? StoredEdges()
        var wrong = 0
        for page in truth.pages[dataSource] ?? [] {
            let expected = expected(truth, dataSource: dataSource, relation: relation, page: page, format: format, stored: storedEdges)
            let actual = await stored(engine, page: page, property: property)
            if actual != expected.elements {
                wrong += 1
                if wrong <= 3 {
                    Issue.record("page \(page): \(actual.count) elements, expected \(expected.elements.count) (\(expected.plainText.prefix(60)))", sourceLocation: sourceLocation)
                }
            }
        }
        #expect(wrong == 0, sourceLocation: sourceLocation)
    }

    @Test(arguments: SummaryFormat.allCases)
    func summariesMatchTheRulesAndASecondRunWritesNothing(format: SummaryFormat) async throws {
        try await withScenario { scenario in
            let engine = SimulatorEngine(workspace: .edgeCases(seed: 4), configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let sources = try #require(manifest.dataSource(named: PresetNames.edgeSources))
            let dual = try #require(sources.properties.first { $0.name == PresetNames.edgeDual })
            let notes = try #require(sources.properties.first { $0.name == PresetNames.edgeNotes })
            let sourcesID = UUID(uuidString: sources.id)!

            let (first, second) = try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: """
                      - data_source: \(sources.id)
                        relations: [\(yamlQuote(PresetNames.edgeDual))]
                        write_back:
                          - relation: \(yamlQuote(PresetNames.edgeDual))
                            property: \(yamlQuote(PresetNames.edgeNotes))
                            format: \(format.rawValue)
                    """)
                let first = try await scenario.reconcile(config)
                let patchesBefore = await engine.journal().requests(.updatePage)
                let second = try await scenario.reconcile(config)
                let patchesAfter = await engine.journal().requests(.updatePage)
                #expect(patchesAfter == patchesBefore, "the second run PATCHed \(patchesAfter - patchesBefore) pages")
                return (first, second)
            }
            #expect(first.status == 0, "stderr: \(first.stderr)")
            #expect(second.status == 0, "stderr: \(second.stderr)")
            #expect((first.int("summaries_written") ?? 0) > 0)
            #expect(second.int("summaries_written") == 0)
            #expect(second.int("edges_added") == 0 && second.int("edges_removed") == 0)
            await Self.expectSummaries(engine, schema: scenario.schema, dataSource: sourcesID, relation: dual.id, property: notes.id, format: format)

            // The rules, spelled out for a few sizes.
            let truth = await engine.groundTruth()
            func page(_ title: String) -> UUID { truth.pages[sourcesID]!.first { truth.titles[$0] == title }! }
            let zero = await Self.stored(engine, page: page("size 0"), property: notes.id)
            let one = await Self.stored(engine, page: page("size 1"), property: notes.id)
            let big = await Self.stored(engine, page: page("size 1003"), property: notes.id)
            let firstMember = truth.relation(sourcesID, dual.id, page("size 1"))![0]
            switch format {
            case .names:
                #expect(zero.isEmpty)
                #expect(one == [.text(#"O'Brien "quoted""#)])
                let text = big.map { if case .text(let t) = $0 { t } else { "" } }.joined()
                #expect(text.hasPrefix(#"O'Brien "quoted", semi;colon, back\slash, emoji 🎉👥, Untitled, "#))
                #expect(!text.contains("more)"))
            case .json:
                #expect(zero == [.text("[]")])
                #expect(one == [.text(#"[{"id":"\#(firstMember.uuidString.lowercased())","title":"O'Brien \"quoted\""}]"#)])
            case .mentions:
                #expect(zero.isEmpty)
                #expect(one == [.mention(pageID: firstMember.uuidString.lowercased())])
                #expect(big.count == 100)
                #expect(big.last == .text(" … (+953 more)"))
            }
        }
    }

    /// Added, removed and reordered edges, a renamed target, an edit made from the other side of
    /// a dual relation (which does not touch the source page), a hand-edited summary, a trashed
    /// page and its restoration: each converges in one run, summaries included.
    @Test func editsConvergeInOneRun() async throws {
        try await withScenario { scenario in
            var configuration = scenario.simulatorConfiguration
            configuration.dualRelationWriteTouchesOtherSide = false
            let engine = SimulatorEngine(
                workspace: .demo(seed: 21, DemoParameters(projects: 40, members: 1_050, tasks: 10, tags: 2)),
                configuration: configuration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let members = try #require(manifest.dataSource(named: PresetNames.members))
            let projectsID = UUID(uuidString: projects.id)!
            let team = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id
            let summary = try #require(projects.properties.first { $0.name == PresetNames.teamMembersAll }).id
            let back = try #require(members.properties.first { $0.name == PresetNames.memberProjects }).id

            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: """
                      - data_source: \(projects.id)
                        relations: [Team Members]
                        write_back:
                          - relation: Team Members
                            property: Team Members (all)
                    """)
                func runAndCheck(_ label: String, _ extra: [String] = []) async throws -> RunResult {
                    let result = try await scenario.reconcile(config, extra)
                    #expect(result.status == 0, "\(label): \(result.stderr)")
                    let truth = await engine.groundTruth()
                    let stored = try await StoredEdges.read(schema: scenario.schema)
                    expectExact(stored, expectedEdges(truth, dataSources: [projectsID], properties: [team]))
                    await Self.expectSummaries(engine, schema: scenario.schema, dataSource: projectsID, relation: team, property: summary, format: .names)
                    return result
                }
                _ = try await runAndCheck("first run")

                let truth = await engine.groundTruth()
                let pages = truth.pages[projectsID]!
                let withTeams = pages.filter { (truth.relation(projectsID, team, $0)?.count ?? 0) >= 3 }
                let (a, b) = (withTeams[0], withTeams[1])
                let listA = truth.relation(projectsID, team, a)!
                let memberPages = truth.pages[UUID(uuidString: members.id)!]!
                let outsider = memberPages.first { !listA.contains($0) }!

                try await engine.removeRelationTarget(page: a, property: team, target: listA[1])
                try await engine.addRelationTarget(page: a, property: team, target: outsider)
                try await engine.setRelation(page: b, property: team, targets: truth.relation(projectsID, team, b)!.reversed())
                let edited = try await runAndCheck("edges added, removed, reordered")
                #expect(edited.json?["mode"] as? String == "incremental")

                try await engine.renamePage(listA[0], to: "Renamed — Ünïcode ✓")
                _ = try await runAndCheck("target renamed")

                // From the member's side, without touching the project page.
                let loner = memberPages.first { member in !pages.contains { (truth.relation(projectsID, team, $0) ?? []).contains(member) } }!
                let untouched = await engine.lastEditedTime(of: a)
                try await engine.setRelation(page: loner, property: back, targets: [a, b])
                #expect(await engine.lastEditedTime(of: a) == untouched, "the project page must not be touched for this case")
                _ = try await runAndCheck("edited from the dual side")

                try await engine.setRichText(page: b, property: summary, text: "edited by hand")
                let patches = await engine.journal().requests(.updatePage)
                _ = try await runAndCheck("hand edit restored")
                #expect(await engine.journal().requests(.updatePage) == patches + 1)

                try await engine.trashPage(b)
                _ = try await runAndCheck("page trashed (full sweep)", ["--full"])
                try await engine.restorePage(b)
                _ = try await runAndCheck("page restored")
            }
        }
    }

    /// The figures the closing note reports: an unchanged incremental run costs one query call
    /// per data source read and writes nothing; a one-page change adds one write.
    @Test func unchangedAndOnePageRunsAreCheap() async throws {
        try await withScenario { scenario in
            let engine = SimulatorEngine(
                workspace: .demo(seed: 8, DemoParameters(projects: 120, members: 1_050, tasks: 30, tags: 3)),
                configuration: scenario.simulatorConfiguration)
            let manifest = await engine.manifest()
            let projects = try #require(manifest.dataSource(named: PresetNames.projects))
            let team = try #require(projects.properties.first { $0.name == PresetNames.teamMembers }).id
            try await withSimulator(engine) { port in
                let config = try scenario.writeConfig(port: port, sync: """
                      - data_source: \(projects.id)
                        relations: [Team Members]
                        write_back:
                          - relation: Team Members
                            property: Team Members (all)
                    """)
                let first = try await scenario.reconcile(config)
                #expect(first.status == 0, "\(first.stderr)")
                // The run right after a write-back re-reads the pages it wrote (their
                // last_edited_time moved) and recognizes its own edits: no property-item walk, no PATCH.
                await engine.resetJournal()
                let second = try await scenario.reconcile(config)
                var journal = await engine.journal()
                #expect(second.status == 0, "\(second.stderr)")
                #expect(journal.requests(.updatePage) == 0)
                #expect(journal.requests(.retrievePageProperty) == 0)
                #expect(journal.requests(.queryDataSource) == Self.queryPages(second))

                // Unchanged: one query per data source read (Projects, Members), plus paging over
                // the pages edited within the overlap before the previous run (here: all that run 1
                // wrote, seconds ago; under cron, the two minutes before the last run).
                await engine.resetJournal()
                let third = try await scenario.reconcile(config)
                journal = await engine.journal()
                #expect(third.status == 0)
                #expect(journal.requests(.queryDataSource) == Self.queryPages(third))
                #expect(Self.queryPages(third) <= 2 + 2)
                #expect(journal.requests(.updatePage) == 0)
                #expect(journal.requests(.retrievePageProperty) == 0)

                let truth = await engine.groundTruth()
                let page = truth.pages[UUID(uuidString: projects.id)!]!.first { (truth.relation(UUID(uuidString: projects.id)!, team, $0)?.count ?? 0) < 25 }!
                let member = truth.pages[UUID(uuidString: manifest.dataSource(named: PresetNames.members)!.id)!]!.last!
                try await engine.addRelationTarget(page: page, property: team, target: member)
                await engine.resetJournal()
                let fourth = try await scenario.reconcile(config)
                journal = await engine.journal()
                #expect(fourth.status == 0)
                #expect(journal.requests(.updatePage) == 1)
                #expect(journal.requests(.queryDataSource) == Self.queryPages(fourth))
                print("figures: unchanged run \(journal.totalRequests) requests; one-page change: queries \(journal.requests(.queryDataSource)), PATCH \(journal.requests(.updatePage)), total \(journal.totalRequests)")
            }
        }
    }
}
