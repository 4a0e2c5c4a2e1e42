import Foundation
import NotionSimulator
import Testing

@Suite("Workspaces, presets, journal and determinism")
struct WorkspaceTests {
    @Test("the same seed builds the same workspace and serves the same bytes; another seed does not")
    func determinism() async throws {
        let small = DemoParameters(projects: 20, members: 60, tasks: 10, tags: 5, everyoneSize: 40, exactSizes: [25, 26])
        func snapshot(_ seed: UInt64) async throws -> [Data] {
            let spec = WorkspaceSpec.demo(seed: seed, small)
            let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
            let projects = try #require(spec.dataSource(named: PresetNames.projects))
            var bodies: [Data] = []
            bodies.append(await call(engine, "GET", "/v1/users/me").body)
            bodies.append(await call(engine, "GET", "/v1/data_sources/\(dashed(projects.id))").body)
            bodies.append(await call(engine, "POST", "/v1/data_sources/\(dashed(projects.id))/query", body: ["page_size": 5]).body)
            return bodies
        }
        let first = try await snapshot(42)
        #expect(try await snapshot(42) == first)
        #expect(try await snapshot(43) != first)
    }

    @Test("demo preset: shapes, exact sizes, Everyone, consistent dual sides")
    func demoPreset() async throws {
        let spec = WorkspaceSpec.demo(seed: 1, DemoParameters(projects: 40, members: 120, tasks: 30, tags: 6, everyoneSize: 103))
        let projects = try #require(spec.dataSource(named: "Projects"))
        let members = try #require(spec.dataSource(named: "Members"))
        let tasks = try #require(spec.dataSource(named: "Tasks"))
        let tags = try #require(spec.dataSource(named: "Tags"))
        #expect(spec.pages(in: projects).count == 40)
        #expect(spec.pages(in: members).count == 120)
        #expect(Set(spec.databases.map(\.id)).count == 4, "Tags lives in its own database")
        #expect(spec.property("Team Members (all)", in: projects)?.type == .richText)
        let team = try #require(spec.property("Team Members", in: projects))
        let back = try #require(spec.property("Projects", in: members))
        let sizes = spec.pages(in: projects).map { spec.relation(team, of: $0).count }
        #expect(spec.title(of: spec.pages(in: projects)[0]) == "Everyone")
        #expect(Array(sizes.prefix(5)) == [103, 25, 26, 100, 101])
        #expect(Double(sizes.filter { $0 <= 10 }.count) >= Double(sizes.count) * 0.4)
        #expect(spec.property("Project", in: tasks)?.type == .relation)
        #expect(spec.pages(in: tags).count == 6)
        // Both sides agree.
        for project in spec.pages(in: projects) {
            for member in spec.relation(team, of: project) {
                #expect(spec.relation(back, of: member).contains(project))
            }
        }
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        let truth = await engine.groundTruth()
        #expect(truth.edgeCount == 2 * sizes.reduce(0, +) + spec.pages(in: tasks).reduce(0) { total, task in
            total + spec.properties(of: tasks).filter { $0.type == .relation }.reduce(0) { $0 + spec.relation($1, of: task).count }
        })
        #expect(await engine.manifest().workspace == "demo")
    }

    @Test("created times are deterministic and never crowd a minute")
    func createdTimes() {
        var spec = WorkspaceSpec(seed: 9)
        let rows = spec.addDataSource("Rows")
        let ids = spec.addPages(2_000, to: rows) { "\($0)" }
        var perMinute: [Int: Int] = [:]
        for id in ids {
            perMinute[Int(spec.createdTime(of: id)!.timeIntervalSince1970 / 60), default: 0] += 1
        }
        #expect(perMinute.values.max()! <= 5)
        #expect(perMinute.count > 300)
    }

    @Test("edge-cases preset: every boundary size on dual and single relations, hostile names")
    func edgeCasesPreset() async throws {
        let spec = WorkspaceSpec.edgeCases(seed: 1, EdgeCaseParameters(sizes: [0, 1, 25, 26, 100, 101, 140]))
        let sources = try #require(spec.dataSource(named: PresetNames.edgeSources))
        let members = try #require(spec.dataSource(named: PresetNames.edgeMembers))
        #expect(spec.dataSource(named: PresetNames.edgeUnconfigured) != nil)
        let dual = try #require(spec.property(PresetNames.edgeDual, in: sources))
        let long = try #require(spec.property(PresetNames.edgeLongSingle, in: sources))
        let order = try #require(spec.property(PresetNames.edgeOrder, in: sources))
        #expect(dual.id == "%3AxYz")
        #expect(long.id == "f%5C%5C%3Ap")
        #expect(PresetNames.edgeLongSingle.utf8.count > 70)
        #expect(spec.titleProperty(of: sources).name == "select")
        #expect(spec.titleProperty(of: members).name == "Order")
        let engine = SimulatorEngine(workspace: spec, clock: ManualClock(testNow))
        let truth = await engine.groundTruth()
        for (index, size) in [0, 1, 25, 26, 100, 101, 140].enumerated() {
            let page = spec.pages(in: sources)[index]
            #expect(spec.title(of: page) == "size \(size)")
            for property in [dual, long, order] {
                #expect(truth.relation(sources.id, property.id, page)?.count == size, "\(property.name) size \(size)")
            }
            let (ids, _) = try await readAllPropertyItems(engine, page: page, propertyID: dual.id)
            #expect(ids == truth.relation(sources.id, dual.id, page))
        }
        // The page whose list holds a trashed member shows two of three.
        let withTrashed = try #require(spec.pages(in: sources).first { spec.title(of: $0) == "with a trashed target" })
        #expect(spec.relation(dual, of: withTrashed).count == 3)
        #expect(truth.relation(sources.id, dual.id, withTrashed)?.count == 2)
        let shown = try await ok(engine, "GET", "/v1/pages/\(dashed(withTrashed))")
        #expect(shown["properties"]?[PresetNames.edgeDual]?["relation"]?.arrayValue?.count == 2)
        #expect(truth.titles.values.contains(""))
    }

    @Test("bench preset builds at full size")
    func benchPreset() async {
        let spec = WorkspaceSpec.bench(seed: 1)
        let projects = spec.dataSource(named: "Projects")!
        #expect(spec.pages(in: projects).count == 2_000)
        #expect(spec.pages(in: spec.dataSource(named: "Members")!).count == 5_000)
        let team = spec.property("Team Members", in: projects)!
        let sizes = spec.pages(in: projects).map { spec.relation(team, of: $0).count }
        #expect(sizes.max()! > 400)
        #expect(sizes.filter { $0 > 25 }.count > 100)
    }

    @Test("the journal counts endpoints, statuses and faults; reset clears it")
    func journal() async throws {
        let world = SizedWorkspace(sizes: [2])
        let engine = world.engine()
        let page = dashed(world.pages[2]!)
        _ = try await ok(engine, "GET", "/v1/users/me")
        _ = try await ok(engine, "GET", "/v1/databases/\(dashed(world.sources.databaseID))")
        _ = try await ok(engine, "GET", "/v1/data_sources/\(dashed(world.sources.id))")
        _ = try await ok(engine, "POST", "/v1/data_sources/\(dashed(world.sources.id))/query", body: [:])
        _ = try await ok(engine, "GET", "/v1/pages/\(page)/properties/%3AxYz")
        _ = try await ok(engine, "GET", "/v1/pages/\(page)/properties/%3AxYz")
        _ = try await ok(engine, "PATCH", "/v1/pages/\(page)", body: [:])
        _ = await call(engine, "GET", "/v1/users/me", auth: nil)
        await engine.injectFault(.serverError(503))
        _ = await call(engine, "GET", "/v1/users/me")
        let journal = await engine.journal()
        #expect(journal.totalRequests == 9)
        #expect(journal.requests(.usersMe) == 3)
        #expect(journal.requests(.retrieveDatabase) == 1)
        #expect(journal.requests(.retrieveDataSource) == 1)
        #expect(journal.requests(.queryDataSource) == 1)
        #expect(journal.requests(.retrievePageProperty) == 2)
        #expect(journal.requests(.updatePage) == 1)
        #expect(journal.responses(status: 200) == 7)
        #expect(journal.responses(status: 401) == 1)
        #expect(journal.responses(status: 503) == 1)
        #expect(journal.faults(.http503) == 1)
        await engine.resetJournal()
        #expect(await engine.journal().totalRequests == 0)
    }
}
