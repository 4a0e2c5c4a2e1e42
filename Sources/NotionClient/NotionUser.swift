/// A user or bot (`GET /v1/users/me` answers with the integration's bot user).
public struct NotionUser: Sendable, Equatable, Decodable {
    /// Lowercase dashed when it is a UUID (it always is in practice).
    public var id: String
    public var name: String?
    /// `person` or `bot`.
    public var type: String?

    public init(id: String, name: String? = nil, type: String? = nil) {
        self.id = id
        self.name = name
        self.type = type
    }

    private enum CodingKeys: String, CodingKey { case id, name, type }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try c.decode(String.self, forKey: .id)
        id = NotionID.normalize(raw) ?? raw
        name = c.lenient(String.self, .name)
        type = c.lenient(String.self, .type)
    }
}
