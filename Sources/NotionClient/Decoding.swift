import Foundation

/// A coding key for objects keyed by arbitrary strings (Notion's `properties`).
struct AnyKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer {
    /// The value when present and of the expected type; nil when absent, null or of another type.
    /// Used for every field the client can do without, so new or odd shapes never fail a page.
    func lenient<T: Decodable>(_ type: T.Type, _ key: Key) -> T? {
        (try? decodeIfPresent(type, forKey: key)) ?? nil
    }

    /// A required id, normalized to lowercase dashed form.
    func notionID(_ key: Key) throws -> String {
        let raw = try decode(String.self, forKey: key)
        guard let id = NotionID.normalize(raw) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "Not a Notion id: \(raw)")
        }
        return id
    }

    /// An optional id, normalized; nil when absent or not an id.
    func optionalNotionID(_ key: Key) -> String? {
        lenient(String.self, key).flatMap(NotionID.normalize)
    }

    /// An ISO-8601 timestamp, with or without fractional seconds.
    func timestamp(_ key: Key) throws -> Date {
        let raw = try decode(String.self, forKey: key)
        guard let date = Timestamp.parse(raw) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "Not a timestamp: \(raw)")
        }
        return date
    }
}

/// `{"id": "…"}` and similar references.
struct IDReference: Decodable {
    var id: String?
    private enum CodingKeys: String, CodingKey { case id }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = c.lenient(String.self, .id)
    }
}

/// `parent` of pages, databases and data sources; every variant reduced to the two ids relsync uses.
struct ParentReference: Decodable {
    var type: String?
    var dataSourceID: String?
    var databaseID: String?
    private enum CodingKeys: String, CodingKey {
        case type
        case dataSourceID = "data_source_id"
        case databaseID = "database_id"
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = c.lenient(String.self, .type)
        dataSourceID = c.optionalNotionID(.dataSourceID)
        databaseID = c.optionalNotionID(.databaseID)
    }
}

enum JSONDecoding {
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, endpoint: String) throws(NotionError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw NotionError(.decoding(endpoint: endpoint, detail: describe(error)))
        } catch {
            throw NotionError(.decoding(endpoint: endpoint, detail: "\(error)"))
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the top level" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \"\(key.stringValue)\" at \(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected value at \(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return "invalid data at \(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
