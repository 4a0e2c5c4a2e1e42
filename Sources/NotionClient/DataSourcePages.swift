import Foundation
import Logging

/// Every page of a data source, as a lazy `AsyncSequence`: each `next()` that empties the buffer
/// fetches the next 100 rows, so memory stays at one page of results.
///
/// Rows come sorted by `created_time` ascending. The walk is complete past Notion's 10,000-row
/// cap of a single query: when a query reports `request_status.type == "incomplete"`, the walk
/// continues with a new query limited to `created_time on_or_after` the last row's
/// `created_time`, and skips rows it already yielded. If that makes no progress (one
/// `created_time` minute holds more rows than the cap) it throws `queryCapExceeded`. When a
/// cursor expires mid-walk, the current window restarts from its beginning, again skipping the
/// rows already yielded.
public struct DataSourcePages: AsyncSequence, Sendable {
    public typealias Element = NotionPage

    let client: NotionClient
    let dataSourceID: String
    let filter: JSONValue?
    let filterProperties: [String]?

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(sequence: self)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private let client: NotionClient
        private let rawID: String
        private let filter: JSONValue?
        private let filterProperties: [String]?

        private var dataSourceID: String?
        private var buffer: [NotionPage] = []
        private var bufferIndex = 0
        private var finished = false

        /// The lower `created_time` bound of the current query; nil for the first, unbounded one.
        private var windowStart: Date?
        private var cursor: String?
        /// Whether any page of the current query reported the result cap.
        private var windowCapped = false
        /// The earliest and latest `created_time` seen in the current query.
        private var windowFirst: Date?
        private var windowLast: Date?
        /// Ids already yielded that a later window or a restart could return again (pruned to the
        /// rows at or after the current window's start).
        private var seen: [String: Date] = [:]
        private var restartedWithoutProgress = false

        init(sequence: DataSourcePages) {
            client = sequence.client
            rawID = sequence.dataSourceID
            filter = sequence.filter
            filterProperties = sequence.filterProperties
        }

        public mutating func next() async throws -> NotionPage? {
            while true {
                if bufferIndex < buffer.count {
                    defer { bufferIndex += 1 }
                    return buffer[bufferIndex]
                }
                if finished { return nil }
                buffer.removeAll(keepingCapacity: true)
                bufferIndex = 0
                try await fetch()
            }
        }

        private func requestBody() -> JSONValue {
            var body: [String: JSONValue] = [
                "sorts": [["timestamp": "created_time", "direction": "ascending"]],
                "page_size": 100,
            ]
            let window: JSONValue? = windowStart.map {
                ["timestamp": "created_time", "created_time": ["on_or_after": .string(Timestamp.format($0))]]
            }
            switch (filter, window) {
            case (let filter?, let window?): body["filter"] = ["and": [filter, window]]
            case (let filter?, nil): body["filter"] = filter
            case (nil, let window?): body["filter"] = window
            case (nil, nil): break
            }
            if let cursor { body["start_cursor"] = .string(cursor) }
            return .object(body)
        }

        private mutating func fetch() async throws {
            if dataSourceID == nil {
                dataSourceID = try NotionClient.requireID(rawID)
            }
            let id = dataSourceID!
            let page: QueryPage
            do {
                page = try await client.fetchQueryPage(dataSourceID: id, body: requestBody(), filterProperties: filterProperties)
            } catch let error as NotionError where error.isInvalidCursor && cursor != nil {
                // Twice in a row without a new row: restarting cannot finish the walk.
                guard !restartedWithoutProgress else { throw error }
                restartedWithoutProgress = true
                client.logger.notice(
                    "Notion query cursor expired; restarting the window",
                    metadata: [
                        "notion.data_source_id": "\(id)",
                        "notion.window_start": "\(windowStart.map(Timestamp.format) ?? "none")",
                    ])
                cursor = nil
                windowCapped = false
                windowFirst = nil
                windowLast = nil
                return
            }

            for row in page.pages {
                if windowFirst.map({ row.createdTime < $0 }) ?? true { windowFirst = row.createdTime }
                if windowLast.map({ row.createdTime > $0 }) ?? true { windowLast = row.createdTime }
                if seen[row.id] == nil {
                    seen[row.id] = row.createdTime
                    buffer.append(row)
                }
            }
            if !buffer.isEmpty { restartedWithoutProgress = false }
            if page.isIncomplete { windowCapped = true }

            if page.hasMore, let next = page.nextCursor {
                cursor = next
                return
            }
            guard windowCapped else {
                finished = true
                return
            }
            // The query hit the cap: continue with a created_time window from the last row.
            guard let last = windowLast, let first = windowStart ?? windowFirst, last > first else {
                throw NotionError(
                    .queryCapExceeded(dataSourceID: id, createdTime: windowLast ?? windowStart ?? Date(timeIntervalSince1970: 0)),
                    endpoint: Endpoint.queryDataSource.rawValue)
            }
            client.logger.info(
                "Notion query reached the result cap; continuing with a created_time window",
                metadata: [
                    "notion.data_source_id": "\(id)", "notion.window_start": "\(Timestamp.format(last))",
                    "notion.incomplete_reason": "\(page.incompleteReason ?? "")",
                ])
            windowStart = last
            cursor = nil
            windowCapped = false
            windowFirst = nil
            windowLast = nil
            seen = seen.filter { $0.value >= last }
        }
    }
}
