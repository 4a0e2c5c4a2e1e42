/// A database: since API version 2025-09-03 only a container of data sources (no schema).
public struct NotionDatabase: Sendable, Equatable, Decodable {
    public struct DataSourceReference: Sendable, Equatable, Decodable {
        public var id: String
        public var name: String

        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }

        private enum CodingKeys: String, CodingKey { case id, name }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.notionID(.id)
            name = c.lenient(String.self, .name) ?? ""
        }
    }

    public var id: String
    /// Plain text of the title ("" when absent).
    public var title: String
    public var dataSources: [DataSourceReference]
    /// `in_trash` or the deprecated `archived`.
    public var inTrash: Bool

    public init(id: String, title: String, dataSources: [DataSourceReference], inTrash: Bool = false) {
        self.id = id
        self.title = title
        self.dataSources = dataSources
        self.inTrash = inTrash
    }

    private enum CodingKeys: String, CodingKey {
        case id, title, archived
        case dataSources = "data_sources"
        case inTrash = "in_trash"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.notionID(.id)
        title = (c.lenient([RichTextItem].self, .title) ?? []).plainText
        dataSources = try c.decodeIfPresent([DataSourceReference].self, forKey: .dataSources) ?? []
        inTrash = (c.lenient(Bool.self, .inTrash) ?? false) || (c.lenient(Bool.self, .archived) ?? false)
    }
}
