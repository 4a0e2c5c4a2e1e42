import Logging

/// The complete target list of one relation property of one page, as a lazy `AsyncSequence` of
/// page ids (lowercase dashed) in Notion's order, read 100 per request from
/// `GET /v1/pages/{id}/properties/{property_id}` until `has_more` is false.
///
/// When a cursor expires mid-walk, the walk restarts from the first page and skips as many
/// targets as it already yielded (by position). A page or property that is missing or not
/// shared throws a `NotionError` with status 404.
public struct RelationTargets: AsyncSequence, Sendable {
    public typealias Element = String

    let client: NotionClient
    let pageID: String
    let propertyID: String

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(sequence: self)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private let client: NotionClient
        private let rawPageID: String
        private let propertyID: String

        private var pageID: String?
        private var buffer: [String] = []
        private var bufferIndex = 0
        private var cursor: String?
        private var finished = false
        /// Targets yielded so far; after a restart, that many are skipped.
        private var yielded = 0
        /// Targets of the restarted walk still to skip.
        private var toSkip = 0
        private var restartedWithoutProgress = false

        init(sequence: RelationTargets) {
            client = sequence.client
            rawPageID = sequence.pageID
            propertyID = sequence.propertyID
        }

        public mutating func next() async throws -> String? {
            while true {
                if bufferIndex < buffer.count {
                    defer {
                        bufferIndex += 1
                        yielded += 1
                    }
                    return buffer[bufferIndex]
                }
                if finished { return nil }
                buffer.removeAll(keepingCapacity: true)
                bufferIndex = 0
                try await fetch()
            }
        }

        private mutating func fetch() async throws {
            if pageID == nil {
                pageID = try NotionClient.requireID(rawPageID)
            }
            let page: RelationItemPage
            do {
                page = try await client.fetchRelationPage(pageID: pageID!, propertyID: propertyID, cursor: cursor)
            } catch let error as NotionError where error.isInvalidCursor && cursor != nil {
                guard !restartedWithoutProgress else { throw error }
                restartedWithoutProgress = true
                client.logger.notice(
                    "Notion relation cursor expired; restarting the walk",
                    metadata: [
                        "notion.page_id": "\(pageID!)", "notion.property_id": "\(propertyID)",
                        "relation.yielded": "\(yielded)",
                    ])
                cursor = nil
                toSkip = yielded
                return
            }
            var targets = page.targetIDs
            if toSkip > 0 {
                let dropped = Swift.min(toSkip, targets.count)
                targets.removeFirst(dropped)
                toSkip -= dropped
            }
            if !targets.isEmpty { restartedWithoutProgress = false }
            buffer = targets
            if page.hasMore, let next = page.nextCursor {
                cursor = next
            } else {
                finished = true
            }
        }
    }
}
