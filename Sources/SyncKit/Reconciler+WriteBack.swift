import Foundation
import Logging
import NotionClient
import PostgresStore
import ReconcilerCore

/// Writing the denormalized summaries back to Notion: only pages whose rendered summary differs
/// from what the page holds (when this run read it) or from what relsync last wrote (when not).
extension Reconciler {
    /// One summary to write.
    struct SummaryWrite: Sendable {
        var pageID: UUID
        var plan: WriteBackPlanValues
        var rendered: RenderedSummary
        var hash: String
    }

    /// The Sendable parts of a write-back plan.
    struct WriteBackPlanValues: Sendable {
        var dataSourceID: UUID
        var relationID: String
        var propertyID: String
        var propertyName: String
        var format: String
    }

    func writeBack(_ plans: [Plan], _ context: RunContext, _ run: inout RunState) async throws {
        var writes: [SummaryWrite] = []
        for plan in plans {
            guard let dataSourceID = UUID(uuidString: plan.schema.id) else { continue }
            for writeBack in plan.writeBacks {
                let values = WriteBackPlanValues(
                    dataSourceID: dataSourceID, relationID: writeBack.relation.id, propertyID: writeBack.property.id,
                    propertyName: writeBack.property.name, format: writeBack.format.rawValue)
                writes += try await plannedWrites(values, context, &run)
            }
        }
        if context.options.dryRun {
            run.plannedWrites = writes.map {
                RunSummary.PlannedWrite(
                    pageID: $0.pageID.uuidString.lowercased(), property: $0.plan.propertyName,
                    preview: String($0.rendered.plainText.prefix(120)))
            }
            return
        }
        try await perform(writes, context, &run)
    }

    /// Renders every page's summary from PostgreSQL and keeps those that need writing.
    func plannedWrites(_ plan: WriteBackPlanValues, _ context: RunContext, _ run: inout RunState) async throws -> [SummaryWrite] {
        guard let format = SummaryFormat(rawValue: plan.format) else { return [] }
        let sources = try await context.store.summarySources(sourceDataSourceID: plan.dataSourceID, propertyID: plan.relationID)
        let hashes = try await context.store.summaryHashes(sourceDataSourceID: plan.dataSourceID, propertyID: plan.propertyID)
        var writes: [SummaryWrite] = []
        for source in sources {
            let targets = source.targets.map {
                SummaryTarget(pageID: $0.pageID.uuidString.lowercased(), title: $0.title ?? "", position: $0.position)
            }
            let rendered = SummaryRenderer.render(targets, format: format)
            let hash = SHA256.hex(rendered.canonical)
            let unchanged: Bool
            if let current = run.currentSummaries[source.pageID]?[plan.propertyID] {
                // Read this run: compare with what the page holds, so a hand edit is restored.
                unchanged = rendered.matches(current: current.map(Self.currentRichText))
                if unchanged && hashes[source.pageID] != hash && !context.options.dryRun {
                    try await context.store.recordSummary(
                        pageID: source.pageID, propertyID: plan.propertyID, sourceDataSourceID: plan.dataSourceID,
                        relationPropertyID: plan.relationID, format: plan.format, hash: hash,
                        plainText: rendered.plainText, runID: context.runID)
                }
            } else {
                // Not read this run: the page holds what relsync last wrote.
                unchanged = hashes[source.pageID] == hash
            }
            if unchanged {
                run.summariesUnchanged += 1
            } else {
                writes.append(SummaryWrite(pageID: source.pageID, plan: plan, rendered: rendered, hash: hash))
            }
        }
        return writes
    }

    static func currentRichText(_ item: RichTextItem) -> CurrentRichText {
        switch item.type {
        case "text": return .text(item.plainText)
        case "mention" where item.mentionPageID != nil:
            return .mention(pageID: item.mentionPageID!.lowercased(), plainText: item.plainText)
        default: return CurrentRichText(kind: .other, plainText: item.plainText)
        }
    }

    static func richTextJSON(_ elements: [SummaryElement]) -> JSONValue {
        .array(elements.map { element in
            switch element {
            case .text(let content):
                return ["type": "text", "text": ["content": .string(content)]]
            case .mention(let pageID):
                return ["type": "mention", "mention": ["type": "page", "page": ["id": .string(pageID)]]]
            }
        })
    }

    /// PATCHes the summaries, a few in flight, recording each one as it lands: a run killed
    /// half-way leaves the rest for the next run, and nothing written twice.
    func perform(_ writes: [SummaryWrite], _ context: RunContext, _ run: inout RunState) async throws {
        guard !writes.isEmpty else { return }
        let width = max(1, configuration.notion.maxConcurrentRequests)
        let client = context.client
        let logger = context.logger
        try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            var next = 0
            func addNext() {
                guard next < writes.count else { return }
                let index = next
                let write = writes[index]
                next += 1
                group.addTask {
                    let body: JSONValue = [.init(stringLiteral: write.plan.propertyID): ["rich_text": Self.richTextJSON(write.rendered.elements)]]
                    return (index, try await Self.patch(write, body: body, client: client, logger: logger))
                }
            }
            for _ in 0..<min(width, writes.count) { addNext() }
            var done = 0
            while let (index, written) = try await group.next() {
                let write = writes[index]
                if written {
                    try await context.store.recordSummary(
                        pageID: write.pageID, propertyID: write.plan.propertyID, sourceDataSourceID: write.plan.dataSourceID,
                        relationPropertyID: write.plan.relationID, format: write.plan.format, hash: write.hash,
                        plainText: write.rendered.plainText, runID: context.runID)
                    run.summariesWritten += 1
                } else {
                    run.writeFailures += 1
                }
                done += 1
                progress?(.writingSummaries(done: done, total: writes.count))
                addNext()
            }
        }
        if run.writeFailures > 0 {
            run.warnings.append("\(run.writeFailures) summaries could not be written; the next run tries them again")
        }
    }

    /// One PATCH. Returns false (logged) for a failure that concerns only this page; throws
    /// when Notion itself is unavailable, which ends the run.
    ///
    /// Three answers leave open whether the write landed, and each is followed by reading the
    /// page back rather than by repeating the write blindly: 409 `conflict_error` (a concurrent
    /// edit won: "make sure the parameters are up to date and try again"), 503 with
    /// `retry_guidance` ("The change was saved … Read the object again instead of repeating the
    /// write"), and a 200 whose body cannot be read (cut short on the way). When the page
    /// already holds the summary the write is done; otherwise it was not saved, and sending it
    /// again is safe.
    static func patch(_ write: SummaryWrite, body: JSONValue, client: NotionClient, logger: Logger) async throws -> Bool {
        let pageID = write.pageID.uuidString.lowercased()
        let attempts = 3
        for attempt in 1...attempts {
            do {
                _ = try await client.updatePage(pageID, properties: body)
                return true
            } catch let error as NotionError where error.status == 409 || isSavedButUnanswered(error) || isUnreadableAnswer(error) {
                logger.notice(
                    error.status == 409
                        ? "summary write conflicted; reading the page back"
                        : "summary write may have been saved; reading the page back",
                    metadata: ["notion.page_id": "\(pageID)", "retry.attempt": "\(attempt)"])
                switch try await readBack(write, client: client, logger: logger) {
                case .saved:
                    return true
                case .gone:
                    return false
                case .notSaved where attempt < attempts:
                    if error.status == 409 { try await Task.sleep(for: .milliseconds(200 * attempt)) }
                case .notSaved:
                    logger.warning("summary write did not land; the next run tries again", metadata: ["notion.page_id": "\(pageID)"])
                    return false
                }
            } catch let error as NotionError where error.status == 404 || error.status == 400 {
                logger.warning(
                    "summary write refused", metadata: ["notion.page_id": "\(pageID)", "notion.error": "\(error)"])
                return false
            }
        }
        return false
    }

    /// 503 whose body carries `retry_guidance`: Notion may have saved the write.
    static func isSavedButUnanswered(_ error: NotionError) -> Bool {
        guard case .api(503, _, _, _, let data) = error.kind else { return false }
        return data["retry_guidance"] != nil
    }

    /// A 2xx answer to the write whose body could not be read: the write may have landed.
    static func isUnreadableAnswer(_ error: NotionError) -> Bool {
        if case .decoding = error.kind { return true }
        return false
    }

    enum ReadBack { case saved, notSaved, gone }

    /// Reads the summary property of the page and compares it with what was sent.
    static func readBack(_ write: SummaryWrite, client: NotionClient, logger: Logger) async throws -> ReadBack {
        let pageID = write.pageID.uuidString.lowercased()
        let page: NotionPage
        do {
            page = try await client.retrievePage(pageID, filterProperties: [write.plan.propertyID])
        } catch let error as NotionError where error.status == 404 {
            logger.warning("page vanished before its summary was confirmed", metadata: ["notion.page_id": "\(pageID)"])
            return .gone
        }
        let current = page.property(id: write.plan.propertyID)?.richText ?? []
        return write.rendered.matches(current: current.map(Self.currentRichText)) ? .saved : .notSaved
    }
}
