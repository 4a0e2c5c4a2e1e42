/// One element of a `title` or `rich_text` value, reduced to what relsync reads.
public struct RichTextItem: Sendable, Equatable, Decodable {
    /// `text`, `mention`, `equation`, or a type this client does not know.
    public var type: String
    /// The text a reader sees (`plain_text`; for request-shaped items, `text.content`).
    public var plainText: String
    /// The page id (lowercase dashed) when this is a page mention.
    public var mentionPageID: String?
    public var href: String?

    public init(type: String, plainText: String, mentionPageID: String? = nil, href: String? = nil) {
        self.type = type
        self.plainText = plainText
        self.mentionPageID = mentionPageID
        self.href = href
    }

    private enum CodingKeys: String, CodingKey {
        case type, text, mention, href
        case plainText = "plain_text"
    }
    private struct Text: Decodable { var content: String? }
    private struct Mention: Decodable {
        var type: String?
        var page: IDReference?
        private enum CodingKeys: String, CodingKey { case type, page }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = c.lenient(String.self, .type)
            page = c.lenient(IDReference.self, .page)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let mention = c.lenient(Mention.self, .mention)
        type = c.lenient(String.self, .type) ?? (mention != nil ? "mention" : "text")
        plainText = c.lenient(String.self, .plainText) ?? c.lenient(Text.self, .text)?.content ?? ""
        if let mention, mention.type == nil || mention.type == "page" {
            mentionPageID = mention.page?.id.flatMap(NotionID.normalize)
        } else {
            mentionPageID = nil
        }
        href = c.lenient(String.self, .href)
    }
}

extension Array where Element == RichTextItem {
    /// The concatenated plain text, as a reader sees it.
    var plainText: String { map(\.plainText).joined() }
}
