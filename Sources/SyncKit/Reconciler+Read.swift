import Foundation
import Logging
import NotionClient
import PostgresStore
import ReconcilerCore

/// Reading Notion: configured data sources, relation targets, and edits that reached a relation
/// only through the back side of a dual relation.
extension Reconciler {
    struct Read {
        var snapshot: DataSourceSnapshot
        /// nil for a fix-up that adds to a data source already summarized.
        var summary: RunSummary.DataSource?
    }

    enum ReadMode: Equatable {
        case full
        /// Pages edited on or after this time.
        case incremental(since: Date)

        var name: String { self == .full ? "full" : "incremental" }
    }

    /// Full when asked, on the first read, and when the sweep is due; otherwise incremental from
    /// the watermark's minute minus the overlap.
    func readMode(_ dataSourceID: UUID, _ context: RunContext) async throws -> (ReadMode, previousWatermark: Date?) {
        let state = try await context.store.syncState(dataSourceID: dataSourceID)
        if context.options.full { return (.full, state.watermark) }
        guard let watermark = state.watermark, let lastFull = state.lastFullSyncAt else { return (.full, state.watermark) }
        if let every = configuration.fullSweepEvery,
            context.started.timeIntervalSince(lastFull) >= Double(every.components.seconds)
        {
            return (.full, watermark)
        }
        return (.incremental(since: Self.floorToMinute(watermark).addingTimeInterval(-Self.overlap)), watermark)
    }

    static func floorToMinute(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60)
    }

    static func filter(for mode: ReadMode) -> JSONValue? {
        guard case .incremental(let since) = mode else { return nil }
        return [
            "timestamp": "last_edited_time",
            "last_edited_time": ["on_or_after": .string(Self.iso8601(since))],
        ]
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A relation as a page object shows it: at most 25 references, and whether there are more.
    struct InlineList {
        var ids: [UUID]
        var hasMore: Bool

        init(ids: [UUID], hasMore: Bool) {
            self.ids = ids
            self.hasMore = hasMore
        }

        init(_ value: PropertyValue?) {
            ids = (value?.relationIDs ?? []).compactMap(UUID.init(uuidString:))
            hasMore = value?.hasMore ?? false
        }
    }

    /// One page as read, before relation completion.
    struct PageRead {
        var row: PageRow
        /// The page's relations, in the order of `Plan.relations`.
        var relations: [InlineList]
    }

    /// A configured data source's query walk: its pages with their inline relation lists, not
    /// yet completed, and what the run learns from them.
    struct Walk: Sendable {
        var plan: Plan
        var dataSourceID: UUID
        var mode: ReadMode
        var previousWatermark: Date?
        var pages: [PageRead]
        /// When the walk began: the data source's next watermark.
        var readStart: Date
        /// The back sides of dual relations this data source holds.
        var backLists: [BackKey: BackList] = [:]
        /// Current values of the summary properties, by page and property id.
        var currentSummaries: [UUID: [String: [RichTextItem]]] = [:]
    }

    /// The query walk of a configured data source: title, relation, summary and back-relation
    /// properties only. It touches nothing but Notion and its own result, so walks run
    /// concurrently; `absorb` hands the result to the run.
    func walk(_ plan: Plan, backProperties: [String], _ context: RunContext) async throws -> Walk {
        let schema = plan.schema
        guard let dataSourceID = UUID(uuidString: schema.id) else { throw NotionError(.invalidID(schema.id)) }
        let (mode, previousWatermark) = try await readMode(dataSourceID, context)
        var walk = Walk(
            plan: plan, dataSourceID: dataSourceID, mode: mode, previousWatermark: previousWatermark, pages: [],
            readStart: Date())
        var propertyIDs = [schema.titlePropertyID] + plan.relations.map(\.id)
        for id in plan.writeBacks.map(\.property.id) + backProperties where !propertyIDs.contains(id) {
            propertyIDs.append(id)
        }
        for back in backProperties {
            walk.backLists[BackKey(targetDataSourceID: schema.id, propertyID: back)] = BackList(complete: mode == .full)
        }

        for try await page in context.client.queryDataSource(schema.id, filter: Self.filter(for: mode), filterProperties: propertyIDs) {
            guard let row = pageRow(page, dataSourceID: dataSourceID) else { continue }
            let relations = plan.relations.map { InlineList(page.property(id: $0.id)) }
            for writeBack in plan.writeBacks {
                walk.currentSummaries[row.pageID, default: [:]][writeBack.property.id] =
                    page.property(id: writeBack.property.id)?.richText ?? []
            }
            for back in backProperties {
                walk.backLists[BackKey(targetDataSourceID: schema.id, propertyID: back)]?.pages[row.pageID] =
                    InlineList(page.property(id: back))
            }
            walk.pages.append(PageRead(row: row, relations: relations))
            if walk.pages.count % 100 == 0 { progress?(.pagesRead(name: schema.title, pages: walk.pages.count)) }
        }
        progress?(.pagesRead(name: schema.title, pages: walk.pages.count))
        return walk
    }

    /// The query walks of `plans`, all at once: the client's pacer keeps the requests in flight
    /// within `max_concurrent_requests` and the rate budget. Results keep the order of `plans`.
    func walkAll(_ plans: [Plan], backProperties: [[String]], _ context: RunContext) async throws -> [Walk] {
        try await Self.concurrently(Array(zip(plans, backProperties))) { plan, back in
            try await walk(plan, backProperties: back, context)
        }
    }

    /// `transform` of every item, all started at once; the results in the order of `items`.
    static func concurrently<Item: Sendable, Result: Sendable>(
        _ items: [Item], _ transform: @escaping @Sendable (Item) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            for (index, item) in items.enumerated() {
                group.addTask { (index, try await transform(item)) }
            }
            var results = [Result?](repeating: nil, count: items.count)
            for try await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
    }

    /// Records what a walk saw in the run: pages read, the next watermark, back lists and the
    /// current summaries.
    func absorb(_ walk: inout Walk, _ run: inout RunState) {
        run.pagesRead += walk.pages.count
        run.pagesPerDataSource.append(walk.pages.count)
        run.watermarks[walk.dataSourceID] = walk.readStart
        run.backLists.merge(walk.backLists) { _, new in new }
        run.currentSummaries.merge(walk.currentSummaries) { old, new in old.merging(new) { _, n in n } }
        walk.backLists = [:]
        walk.currentSummaries = [:]
    }

    /// Completes every relation of a walk Notion cut at 25 and assembles the snapshot to apply:
    /// stored lists are kept where provably unchanged (incremental reads only), lists are
    /// inferred from the other side of a dual relation where that is provably complete
    /// (`--relations-strategy auto`), and the rest are read through the property-item
    /// endpoint, a few in flight.
    func finish(_ walk: Walk, names: [String: String], _ context: RunContext, _ run: inout RunState) async throws -> Read {
        let plan = walk.plan
        let schema = plan.schema
        let pages = walk.pages
        var work: [(page: Int, propertyID: String)] = []
        var reused: [WorkKey: [EdgeRow]] = [:]
        var inferred = Set<WorkKey>()
        var inferredCount: [String: Int] = [:]
        var completed: [WorkKey: [UUID]?] = [:]
        for (r, property) in plan.relations.enumerated() {
            var truncated = pages.indices.filter { pages[$0].relations[r].hasMore }
            guard !truncated.isEmpty else { continue }
            // Lists another data source's inference already read this run, in full and in order.
            truncated = truncated.filter { index in
                guard let list = run.completedLists.removeValue(
                    forKey: PageRelation(pageID: pages[index].row.pageID, propertyID: property.id))
                else { return true }
                completed[WorkKey(page: index, propertyID: property.id)] = .some(list)
                run.truncatedRelationSizes.append(list.count)
                return false
            }
            if context.options.relationsStrategy == .auto, !truncated.isEmpty,
                let inverse = try await provableInverse(property, truncatedPages: truncated.count, title: schema.title, context, &run)
            {
                // Completed from the other side of the dual relation, at no call: the first 25 keep
                // Notion's order, the rest have no known position.
                truncated = truncated.filter { index in
                    guard let list = inferredList(pages[index], relation: r, inverse: inverse) else { return true }
                    let key = WorkKey(page: index, propertyID: property.id)
                    reused[key] = list
                    inferred.insert(key)
                    run.truncatedRelationSizes.append(list.count)
                    inferredCount[property.id, default: 0] += 1
                    return false
                }
            }
            if case .incremental = walk.mode, !truncated.isEmpty {
                let stored = try await context.store.edges(
                    sourceDataSourceID: walk.dataSourceID, propertyID: property.id, from: truncated.map { pages[$0].row.pageID })
                for index in truncated {
                    let page = pages[index]
                    if let list = stored[page.row.pageID],
                        canReuse(page, relation: r, storedList: list, previousWatermark: walk.previousWatermark, context)
                    {
                        reused[WorkKey(page: index, propertyID: property.id)] = list
                        run.truncatedRelationSizes.append(list.count)
                    } else {
                        work.append((index, property.id))
                    }
                }
            } else {
                work += truncated.map { ($0, property.id) }
            }
        }
        let lists = try await relationLists(work.map { (pages[$0.page].row.pageID, $0.propertyID) }, title: schema.title, context)
        var vanished = Set<Int>()
        for (item, list) in zip(work, lists) {
            completed[WorkKey(page: item.page, propertyID: item.propertyID)] = .some(list)
            if let list { run.truncatedRelationSizes.append(list.count) } else { vanished.insert(item.page) }
        }

        var edges: [String: [EdgeRow]] = [:]
        var summaries: [RunSummary.Relation] = []
        for (r, property) in plan.relations.enumerated() {
            var rows: [EdgeRow] = []
            var truncatedPages = 0
            let reusedCount = reused.keys.filter { $0.propertyID == property.id }.count
            // The complete lists past 25 of a dual relation are kept for the other side: its
            // inference and its dual-edit check need no call for them.
            let keepAssembled = property.relation?.kind.isDual == true
            for (index, page) in pages.enumerated() where !vanished.contains(index) {
                let key = WorkKey(page: index, propertyID: property.id)
                let inline = page.relations[r]
                if inline.hasMore { truncatedPages += 1 }
                let first = rows.count
                if let list = reused.removeValue(forKey: key) {
                    rows += list
                    // Inferred lists are complete, and fresh for this run's purposes.
                    if inferred.contains(key) {
                        run.freshLists.insert(PageRelation(pageID: page.row.pageID, propertyID: property.id))
                    }
                } else {
                    run.freshLists.insert(PageRelation(pageID: page.row.pageID, propertyID: property.id))
                    let pageID = page.row.pageID
                    try RelationAssembly.forEachTarget(
                        pageID: pageID.uuidString, propertyID: property.id, inline: inline.ids, hasMore: inline.hasMore,
                        completed: completed.removeValue(forKey: key) ?? nil
                    ) { target, position in
                        rows.append(EdgeRow(fromPageID: pageID, toPageID: target, position: position))
                    }
                }
                if keepAssembled, rows.count - first > 25 {
                    run.assembledLists[PageRelation(pageID: page.row.pageID, propertyID: property.id)] = rows[first...].map(\.toPageID)
                }
            }
            summaries.append(.init(
                propertyID: property.id, name: property.name, joinView: names[schema.id + "\u{0}" + property.id] ?? "",
                edges: rows.count, truncatedPages: truncatedPages,
                reusedPages: reusedCount - inferredCount[property.id, default: 0],
                inferredPages: inferredCount[property.id, default: 0]))
            edges[property.id] = rows
        }

        // A page deleted (or trashed) between the query and its property-item calls is stored
        // as trashed, with no edges: its stored edges are removed, even on an incremental read.
        let pageRows = pages.enumerated().map { index, page in
            var row = page.row
            if vanished.contains(index) { row.inTrash = true }
            return row
        }
        let snapshot = DataSourceSnapshot(
            dataSource: DataSourceRow(
                id: walk.dataSourceID, databaseID: schema.databaseID.flatMap(UUID.init(uuidString:)), name: schema.title,
                configured: true),
            pages: pageRows, relations: relationRows(plan, names: names, run), edges: edges, complete: walk.mode == .full)
        let summary = RunSummary.DataSource(
            id: schema.id, name: schema.title, configured: true, mode: walk.mode.name, pagesRead: pages.count,
            relations: summaries, pagesTrashed: 0)
        return Read(snapshot: snapshot, summary: summary)
    }

    /// Whether a truncated relation read again can keep its stored list without the
    /// property-item walk: the first 25 references are unchanged, and the page was either last
    /// edited by relsync itself (its summary write) or last edited before the previous read began
    /// (an overlap re-read). Full sweeps never reuse: they are the safety net.
    func canReuse(
        _ page: PageRead, relation: Int, storedList: [EdgeRow], previousWatermark: Date?, _ context: RunContext
    ) -> Bool {
        let inline = page.relations[relation]
        guard storedList.count > inline.ids.count,
            storedList.prefix(inline.ids.count).enumerated().allSatisfy({ $0.element.position == $0.offset }),
            storedList.prefix(inline.ids.count).map(\.toPageID) == inline.ids
        else { return false }
        if page.row.lastEditedBy?.uuidString.lowercased() == context.botUserID { return true }
        if let edited = page.row.lastEditedTime, let previousWatermark {
            return edited < Self.floorToMinute(previousWatermark)
        }
        return false
    }

    /// For a dual relation whose target data source was read in full this run, the inverse of
    /// its back lists: source page → targets. Back lists Notion cut at 25 are taken from the
    /// complete lists this run already assembled (the back relation is configured too), or else
    /// completed first when that costs fewer calls than paginating the source side (one per
    /// truncated page at least); with every back list complete, the inverse is provably the
    /// whole relation. nil when not provable, or not worth it.
    func provableInverse(
        _ property: PropertySchema, truncatedPages: Int, title: String, _ context: RunContext, _ run: inout RunState
    ) async throws -> [UUID: [UUID]]? {
        guard let synced = property.relation?.kind.synced, let target = property.relation?.dataSourceID else { return nil }
        let key = BackKey(targetDataSourceID: target, propertyID: synced.id)
        guard var back = run.backLists[key], back.complete else { return nil }
        var open: [UUID] = []
        for (page, list) in back.pages where list.hasMore {
            if let known = run.assembledLists[PageRelation(pageID: page, propertyID: synced.id)] {
                back.pages[page] = InlineList(ids: known, hasMore: false)
            } else {
                open.append(page)
            }
        }
        if !open.isEmpty {
            guard open.count < truncatedPages else { return nil }
            let lists = try await relationLists(open.map { ($0, synced.id) }, title: title, context)
            for (page, list) in zip(open, lists) {
                // A target page that vanished meanwhile: its links are gone either way.
                back.pages[page] = InlineList(ids: list ?? [], hasMore: false)
                // Kept, in Notion's order, for the back relation's own read when it is configured.
                if let list { run.completedLists[PageRelation(pageID: page, propertyID: synced.id)] = list }
            }
        }
        run.backLists[key] = back
        var inverse: [UUID: [UUID]] = [:]
        for (targetPage, list) in back.pages {
            for source in list.ids { inverse[source, default: []].append(targetPage) }
        }
        return inverse
    }

    /// One page's relation completed from the inverse: nil unless every reference the page
    /// object shows is among the inferred ones and there are more than it shows.
    func inferredList(_ page: PageRead, relation: Int, inverse: [UUID: [UUID]]) -> [EdgeRow]? {
        let inline = page.relations[relation]
        guard let all = inverse[page.row.pageID], all.count > inline.ids.count else { return nil }
        let allSet = Set(all)
        guard inline.ids.allSatisfy(allSet.contains) else { return nil }
        var rows = inline.ids.enumerated().map { EdgeRow(fromPageID: page.row.pageID, toPageID: $0.element, position: $0.offset) }
        let shown = Set(inline.ids)
        rows += all.filter { !shown.contains($0) }.sorted { $0.uuidString < $1.uuidString }
            .map { EdgeRow(fromPageID: page.row.pageID, toPageID: $0, position: nil) }
        return rows
    }

    func relationRows(_ plan: Plan, names: [String: String], _ run: RunState) -> [RelationRow] {
        let dataSourceID = UUID(uuidString: plan.schema.id)!
        return plan.relations.map { property in
            let columns = JoinViewNaming.columns(
                sourceDataSourceName: plan.schema.title,
                targetDataSourceName: property.relation?.dataSourceID.flatMap { run.dataSourceTitles[$0] })
            return RelationRow(
                sourceDataSourceID: dataSourceID, propertyID: property.id, propertyName: property.name,
                targetDataSourceID: property.relation?.dataSourceID.flatMap(UUID.init(uuidString:)),
                targetDatabaseID: property.relation?.databaseID.flatMap(UUID.init(uuidString:)),
                kind: property.relation?.kind.isDual == true ? .dual : .single,
                syncedPropertyID: property.relation?.kind.synced?.id,
                syncedPropertyName: property.relation?.kind.synced?.name,
                joinView: names[plan.schema.id + "\u{0}" + property.id] ?? JoinViewNaming.slug(property.name),
                fromColumn: columns.from, toColumn: columns.to)
        }
    }

    struct WorkKey: Hashable {
        var page: Int
        var propertyID: String
    }

    /// The complete relation list of each (page, property), a few in flight, in input order;
    /// nil where the page vanished: the property-item call said 404 and reading the page
    /// confirmed it is gone or in the trash. A 404 for a page that is still there (its property
    /// was deleted meanwhile) ends the run: its relation cannot be read.
    func relationLists(_ work: [(pageID: UUID, propertyID: String)], title: String, _ context: RunContext) async throws -> [[UUID]?] {
        guard !work.isEmpty else { return [] }
        var results = [[UUID]?](repeating: nil, count: work.count)
        let width = max(1, configuration.notion.maxConcurrentRequests)
        let client = context.client
        let logger = context.logger
        try await withThrowingTaskGroup(of: (Int, [UUID]?).self) { group in
            var next = 0
            func addNext() {
                guard next < work.count else { return }
                let index = next
                let pageID = work[index].pageID.uuidString.lowercased()
                let propertyID = work[index].propertyID
                next += 1
                group.addTask {
                    do {
                        // Parsed as they arrive: 16 bytes a reference, not a 36-character string.
                        var ids: [UUID] = []
                        for try await id in client.relationTargets(pageID: pageID, propertyID: propertyID) {
                            if let uuid = UUID(uuidString: id) { ids.append(uuid) }
                        }
                        return (index, ids)
                    } catch let error as NotionError where error.status == 404 {
                        let stillThere: Bool
                        do {
                            stillThere = try await !client.retrievePage(pageID, filterProperties: ["title"]).inTrash
                        } catch let confirmation as NotionError where confirmation.status == 404 {
                            stillThere = false
                        }
                        if stillThere { throw error }
                        logger.notice("page vanished before its relation was read", metadata: ["notion.page_id": "\(pageID)"])
                        return (index, nil)
                    }
                }
            }
            for _ in 0..<min(width, work.count) { addNext() }
            var done = 0
            while let (index, ids) = try await group.next() {
                results[index] = ids
                done += 1
                if done % 10 == 0 || done == work.count {
                    progress?(.completingRelations(name: title, done: done, total: work.count))
                }
                addNext()
            }
        }
        return results
    }

    /// What reading one relation target found.
    struct TargetRead: Sendable {
        /// nil when Notion does not share the data source with the integration.
        var walk: Walk?
        var warning: String?
    }

    /// Reads a data source that relations point into, for its page titles and the back side of
    /// dual relations: the walk of a data source with no relation of its own to materialize. A
    /// data source Notion does not share with the integration is a partial result, reported,
    /// not fatal. Touches only Notion, so target reads run concurrently with the walks of
    /// configured data sources.
    func readTarget(_ target: TargetPlan, _ context: RunContext) async throws -> TargetRead {
        let schema: NotionDataSource
        do {
            schema = try await context.client.retrieveDataSource(target.id)
        } catch let error as NotionError where error.status == 404 || error.status == 403 {
            context.logger.warning("relation target not shared", metadata: ["notion.data_source_id": "\(target.id)"])
            return TargetRead(
                warning: "relation target data source \(target.id) is not shared with the integration; its pages have no titles in PostgreSQL")
        }
        let plan = Plan(schema: schema, relations: [], writeBacks: [])
        return TargetRead(walk: try await walk(plan, backProperties: target.backProperties, context))
    }

    /// Every relation target at once (the client's pacer bounds the requests in flight).
    func readTargets(_ targets: [TargetPlan], _ context: RunContext) async throws -> [TargetRead] {
        try await Self.concurrently(targets) { try await readTarget($0, context) }
    }

    /// Records a target read in the run and applies its pages.
    func absorb(_ target: TargetRead, _ context: RunContext, _ run: inout RunState) async throws {
        if let warning = target.warning { run.warnings.append(warning) }
        guard var walk = target.walk else { return }
        let schema = walk.plan.schema
        run.dataSourceTitles[schema.id] = schema.title
        absorb(&walk, &run)
        let snapshot = DataSourceSnapshot(
            dataSource: DataSourceRow(
                id: walk.dataSourceID, databaseID: schema.databaseID.flatMap(UUID.init(uuidString:)), name: schema.title,
                configured: false),
            pages: walk.pages.map(\.row), relations: [], edges: [:], complete: walk.mode == .full)
        let summary = RunSummary.DataSource(
            id: schema.id, name: schema.title, configured: false, mode: walk.mode.name, pagesRead: walk.pages.count,
            relations: [], pagesTrashed: 0)
        try await apply(Read(snapshot: snapshot, summary: summary), context, &run)
    }

    /// Edits made on the back side of a dual relation (a member added to a project from the
    /// member's page) may leave the source page's `last_edited_time` alone, so an incremental
    /// read of the source misses them. The target pages read this run show their back lists;
    /// wherever one disagrees with the stored edges, the source pages involved are read again.
    func propagateDualEdits(_ plans: [Plan], names: [String: String], _ context: RunContext, _ run: inout RunState) async throws {
        for plan in plans {
            guard let dataSourceID = UUID(uuidString: plan.schema.id),
                run.dataSources.first(where: { $0.id == plan.schema.id })?.mode != "full"
            else { continue }
            for relation in plan.relations {
                guard let synced = relation.relation?.kind.synced, let target = relation.relation?.dataSourceID,
                    let back = run.backLists[BackKey(targetDataSourceID: target, propertyID: synced.id)], !back.pages.isEmpty
                else { continue }
                let targetPages = Array(back.pages.keys)
                let stored = try await context.store.sources(
                    sourceDataSourceID: dataSourceID, propertyID: relation.id, pointingTo: targetPages)
                // Complete the back lists Notion truncated.
                var backSets: [UUID: Set<UUID>] = [:]
                for page in targetPages {
                    backSets[page] = Set(back.pages[page]?.ids ?? [])
                }
                // Complete the back lists Notion truncated: from the lists this run already holds
                // (the back relation is itself configured), else by the property-item walk.
                var truncated: [UUID] = []
                for page in targetPages where back.pages[page]?.hasMore == true {
                    if let known = run.assembledLists[PageRelation(pageID: page, propertyID: synced.id)] {
                        backSets[page] = Set(known)
                    } else {
                        truncated.append(page)
                    }
                }
                let full = try await relationLists(truncated.map { ($0, synced.id) }, title: plan.schema.title, context)
                for (page, list) in zip(truncated, full) {
                    backSets[page] = list.map(Set.init)
                }
                var affected = Set<UUID>()
                for page in targetPages {
                    guard let now = backSets[page] else { continue }
                    affected.formUnion(now.symmetricDifference(stored[page] ?? []))
                }
                affected = affected.filter { !run.freshLists.contains(PageRelation(pageID: $0, propertyID: relation.id)) }
                guard !affected.isEmpty else { continue }
                let rows = try await context.store.pages(Array(affected)).filter { $0.dataSourceID == dataSourceID && !$0.inTrash }
                guard !rows.isEmpty else { continue }
                context.logger.info(
                    "re-reading pages changed from the other side of a dual relation",
                    metadata: ["notion.data_source_id": "\(plan.schema.id)", "pages.count": "\(rows.count)"])
                let lists = try await relationLists(rows.map { ($0.pageID, relation.id) }, title: plan.schema.title, context)
                var edges: [EdgeRow] = []
                var pages: [PageRow] = []
                for (row, list) in zip(rows, lists) {
                    guard let list else { continue }
                    run.truncatedRelationSizes.append(list.count)
                    pages.append(row)
                    try RelationAssembly.forEachTarget(
                        pageID: row.pageID.uuidString, propertyID: relation.id, inline: list, hasMore: false, completed: nil
                    ) { target, position in
                        edges.append(EdgeRow(fromPageID: row.pageID, toPageID: target, position: position))
                    }
                }
                var fixPlan = plan
                fixPlan.relations = [relation]
                let snapshot = DataSourceSnapshot(
                    dataSource: DataSourceRow(
                        id: dataSourceID, databaseID: plan.schema.databaseID.flatMap(UUID.init(uuidString:)),
                        name: plan.schema.title, configured: true),
                    pages: pages, relations: relationRows(fixPlan, names: names, run), edges: [relation.id: edges], complete: false)
                try await apply(Read(snapshot: snapshot, summary: nil), context, &run)
                run.freshLists.formUnion(pages.map { PageRelation(pageID: $0.pageID, propertyID: relation.id) })
            }
        }
    }

    func pageRow(_ page: NotionPage, dataSourceID: UUID) -> PageRow? {
        guard let id = UUID(uuidString: page.id) else { return nil }
        return PageRow(
            pageID: id, dataSourceID: dataSourceID, title: page.title, url: page.url,
            createdTime: page.createdTime, lastEditedTime: page.lastEditedTime,
            lastEditedBy: page.lastEditedByID.flatMap(UUID.init(uuidString:)), inTrash: page.inTrash)
    }
}
