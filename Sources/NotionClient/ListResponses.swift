import Foundation

/// `request_status` of a query page: `incomplete` when the 10,000-row cap was reached.
struct RequestStatus: Decodable {
    var type: String?
    var incompleteReason: String?
    private enum CodingKeys: String, CodingKey {
        case type
        case incompleteReason = "incomplete_reason"
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = c.lenient(String.self, .type)
        incompleteReason = c.lenient(String.self, .incompleteReason)
    }
}

/// One page of `POST /v1/data_sources/{id}/query`. Results that are not full page objects
/// (partial objects without `url`, data-source objects of wiki databases) are skipped.
struct QueryPage: Decodable {
    var pages: [NotionPage]
    var skipped: Int
    var nextCursor: String?
    var hasMore: Bool
    var isIncomplete: Bool
    var incompleteReason: String?

    private enum CodingKeys: String, CodingKey {
        case object, results, type
        case nextCursor = "next_cursor"
        case hasMore = "has_more"
        case requestStatus = "request_status"
    }

    private struct Result: Decodable {
        var page: NotionPage?
        private enum CodingKeys: String, CodingKey { case object, url }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let object = c.lenient(String.self, .object)
            guard object == nil || object == "page", c.contains(.url) else {
                page = nil
                return
            }
            page = try NotionPage(from: decoder)
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let object = c.lenient(String.self, .object), object != "list" {
            throw DecodingError.dataCorruptedError(forKey: .object, in: c, debugDescription: "Expected a list, got \(object)")
        }
        let results = try c.decode([Result].self, forKey: .results)
        pages = results.compactMap(\.page)
        skipped = results.count - pages.count
        nextCursor = c.lenient(String.self, .nextCursor).flatMap { $0.isEmpty ? nil : $0 }
        hasMore = c.lenient(Bool.self, .hasMore) ?? (nextCursor != nil)
        let status = c.lenient(RequestStatus.self, .requestStatus)
        isIncomplete = status?.type == "incomplete"
        incompleteReason = status?.incompleteReason
    }
}

/// One page of `GET /v1/pages/{id}/properties/{property_id}` for a relation property.
struct RelationItemPage: Decodable {
    var targetIDs: [String]
    var nextCursor: String?
    var hasMore: Bool

    private enum CodingKeys: String, CodingKey {
        case object, results
        case nextCursor = "next_cursor"
        case hasMore = "has_more"
        case propertyItem = "property_item"
    }
    private struct PropertyItem: Decodable {
        var type: String?
        private enum CodingKeys: String, CodingKey { case type }
        init(from decoder: any Decoder) throws {
            type = try decoder.container(keyedBy: CodingKeys.self).lenient(String.self, .type)
        }
    }
    private struct Item: Decodable {
        var type: String?
        var relation: IDReference?
        private enum CodingKeys: String, CodingKey { case type, relation }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = c.lenient(String.self, .type)
            relation = c.lenient(IDReference.self, .relation)
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let object = c.lenient(String.self, .object)
        guard object == nil || object == "list" else {
            throw DecodingError.dataCorruptedError(
                forKey: .object, in: c, debugDescription: "Expected a paginated list (is the property a relation?), got \(object ?? "")")
        }
        if let itemType = c.lenient(PropertyItem.self, .propertyItem)?.type, itemType != "relation" {
            throw DecodingError.dataCorruptedError(
                forKey: .propertyItem, in: c, debugDescription: "The property is a \(itemType), not a relation")
        }
        let items = try c.decode([Item].self, forKey: .results)
        targetIDs = try items.map { item in
            guard let id = item.relation?.id.flatMap(NotionID.normalize) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .results, in: c, debugDescription: "A relation item without a valid page id")
            }
            return id
        }
        nextCursor = c.lenient(String.self, .nextCursor).flatMap { $0.isEmpty ? nil : $0 }
        hasMore = c.lenient(Bool.self, .hasMore) ?? (nextCursor != nil)
    }
}

/// Notion's error body.
struct ErrorBody: Decodable {
    var status: Int?
    var code: String
    var message: String
    var requestID: String?
    var additionalData: [String: JSONValue]

    private enum CodingKeys: String, CodingKey {
        case object, status, code, message
        case requestID = "request_id"
        case additionalData = "additional_data"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.decode(String.self, forKey: .code)
        status = c.lenient(Int.self, .status)
        message = c.lenient(String.self, .message) ?? ""
        requestID = c.lenient(String.self, .requestID)
        additionalData = c.lenient([String: JSONValue].self, .additionalData) ?? [:]
    }
}
