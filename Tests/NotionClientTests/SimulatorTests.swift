import Foundation
import Logging
import NotionClient
import NotionSimulator
import Testing
import TransportKit

/// The client against the in-process Notion simulator: real shapes, hostile property ids, the
/// query cap, and injected faults, checked against the simulator's ground truth.
@Suite("Against the simulator")
struct SimulatorTests {
    private func client(_ engine: SimulatorEngine, clock: VirtualClock = VirtualClock()) -> NotionClient {
        makeClient(transport: SimulatorTransport(engine: engine), clock: clock)
    }

    /// Reads every relation of every page of `source` completely: page values when they are not
    /// truncated, the property-item walk when they are.
    private func readRelations(
        _ client: NotionClient, _ source: DataSourceHandle
    ) async throws -> (schema: NotionDataSource, relations: [TruthKey: [UUID]], pages: [UUID]) {
        let schema = try await client.retrieveDataSource(source.id.uuidString)
        var relations: [TruthKey: [UUID]] = [:]
        var pages: [UUID] = []
        for try await page in client.queryDataSource(source.id.uuidString) {
            let pageUUID = try #require(UUID(uuidString: page.id))
            pages.append(pageUUID)
            for property in schema.relationProperties {
                let value = try #require(page.property(id: property.id), "page \(page.id) lacks \(property.name)")
                var ids = try #require(value.relationIDs)
                if value.hasMore {
                    ids = try await client.relationTargets(pageID: page.id, propertyID: property.id).collect()
                }
                relations[TruthKey(dataSourceID: source.id, propertyID: property.id, pageID: pageUUID)] =
                    ids.compactMap(UUID.init(uuidString:))
            }
        }
        return (schema, relations, pages)
    }

    @Test func readsEveryRelationOfTheEdgeCaseWorkspaceCompletely() async throws {
        let spec = WorkspaceSpec.edgeCases()
        let engine = SimulatorEngine(workspace: spec, configuration: SimulatorConfiguration(token: testToken))
        let client = client(engine)
        let truth = await engine.groundTruth()
        let source = try #require(spec.dataSource(named: PresetNames.edgeSources))

        let (schema, relations, pages) = try await readRelations(client, source)
        #expect(schema.relationProperties.count == 6)  // five relations plus the synced "Children" of the self-relation
        #expect(pages == truth.pages[source.id])
        #expect(!relations.isEmpty)
        for (key, ids) in relations {
            #expect(ids == truth.relations[key], "\(key)")
        }
        #expect(relations.count == truth.relations.keys.filter { $0.dataSourceID == source.id }.count)
        let walks = client.statistics().requestsByEndpoint["GET /v1/pages/{id}/properties/{property_id}"] ?? 0
        #expect(walks > 0)
    }

    @Test func survivesInjectedFaultsAndTheQueryCap() async throws {
        let spec = WorkspaceSpec.edgeCases()
        var configuration = SimulatorConfiguration(token: testToken)
        configuration.queryResultCap = 7
        let engine = SimulatorEngine(workspace: spec, configuration: configuration)
        await engine.injectFault(.serverError(503), on: .queryDataSource)
        await engine.injectFault(.rateLimited(retryAfter: 3), on: .retrievePageProperty)
        await engine.injectFault(.dropConnection, on: .retrievePageProperty)
        await engine.injectFault(.truncateBody, on: .retrievePageProperty)
        await engine.injectFault(.htmlBadGateway, on: .retrieveDataSource)
        let clock = VirtualClock()
        let client = client(engine, clock: clock)
        let truth = await engine.groundTruth()
        let source = try #require(spec.dataSource(named: PresetNames.edgeSources))

        let (_, relations, pages) = try await readRelations(client, source)
        #expect(pages.sorted { $0.uuidString < $1.uuidString } == truth.pages[source.id]?.sorted { $0.uuidString < $1.uuidString })
        for (key, ids) in relations {
            #expect(ids == truth.relations[key], "\(key)")
        }
        let stats = client.statistics()
        #expect(stats.retries >= 5)
        #expect(stats.rateLimited == 1)
        #expect(stats.transportErrors == 1)
        #expect(clock.sleeps.contains(.seconds(3)))
    }
}
