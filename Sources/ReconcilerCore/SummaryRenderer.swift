/// Denormalized rich-text summaries of one relation of one page, as written back to Notion.
///
/// The contract (PRODUCT.md, "Summary formats written back"):
/// - `names`: titles in relation order joined by ", " ("Untitled" for an empty title); when the
///   text does not fit, the longest prefix of whole names followed by " … (+N more)".
/// - `json`: a compact JSON array of `{"id":"…","title":"…"}`; when it does not fit, the longest
///   prefix of whole items that is still a valid array.
/// - `mentions`: page mentions separated by ", ", ending in " … (+N more)" when cut.
///
/// Every rendered value is already within Notion's write limits for one rich_text value: at most
/// 100 elements, each text element at most 2,000 UTF-16 code units (JavaScript's `.length`).
/// Text is split only between grapheme clusters (so never inside a surrogate pair); a single
/// cluster longer than 2,000 units (which cannot be kept whole) is split between scalars.

/// How a relation is summarized.
public enum SummaryFormat: String, Sendable, Hashable, CaseIterable {
    case names, json, mentions
}

/// One related page to summarize.
public struct SummaryTarget: Sendable, Hashable {
    /// Lowercase dashed UUID.
    public var pageID: String
    /// The page's plain-text title; may be empty.
    public var title: String
    /// 0-based index in Notion's relation order; nil where the order is unknown.
    public var position: Int?

    public init(pageID: String, title: String, position: Int?) {
        self.pageID = pageID
        self.title = title
        self.position = position
    }
}

/// One rich-text element to send: `{"type":"text","text":{"content":…}}` or a page mention.
public enum SummaryElement: Sendable, Hashable {
    case text(String)
    case mention(pageID: String)
}

/// One rich-text element as read back from a page object.
public struct CurrentRichText: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case text
        /// A page mention (other mention kinds are `.other`).
        case mention
        /// Anything else: equations, user/date/database mentions, …
        case other
    }

    public var kind: Kind
    public var plainText: String
    /// The mentioned page's id, for `.mention`.
    public var mentionPageID: String?

    public init(kind: Kind, plainText: String, mentionPageID: String? = nil) {
        self.kind = kind
        self.plainText = plainText
        self.mentionPageID = mentionPageID
    }

    public static func text(_ content: String) -> CurrentRichText {
        CurrentRichText(kind: .text, plainText: content)
    }

    public static func mention(pageID: String, plainText: String = "") -> CurrentRichText {
        CurrentRichText(kind: .mention, plainText: plainText, mentionPageID: pageID)
    }
}

/// A summary ready to send as one rich_text property value.
public struct RenderedSummary: Sendable, Hashable {
    /// Exactly the rich_text array to send (empty clears the property).
    public let elements: [SummaryElement]
    /// What a reader sees: the elements' text, mentions shown as the target's title.
    public let plainText: String
    /// Targets shown in the value.
    public let shown: Int
    /// Targets cut for lack of room.
    public let omitted: Int
    /// A stable, injective serialization of `elements`, for hashing and equality.
    public let canonical: String

    public init(elements: [SummaryElement], plainText: String, shown: Int, omitted: Int) {
        self.elements = elements
        self.plainText = plainText
        self.shown = shown
        self.omitted = omitted
        self.canonical = SummaryRenderer.canonical(elements)
    }

    /// Whether the value read back from Notion already shows this summary.
    ///
    /// Both sides are normalized: adjacent text runs are merged and empty ones dropped (Notion may
    /// split or merge runs), texts compare by canonical equivalence (Swift `==`), page mentions
    /// compare by page id (case and dashes ignored) and never by their shown title. Any other
    /// element kind never matches. Notion's page objects show at most 25 page mentions, cutting
    /// the array just before the 26th; so when `current` holds exactly 25 mentions and this
    /// summary holds more, `current` matches when it equals this summary's normalized elements
    /// up to (not including) the 26th mention. The rest cannot be seen: the caller relies on
    /// its stored hash of `canonical`.
    public func matches(current: [CurrentRichText]) -> Bool {
        var seen: [NormalizedRun] = []
        var pendingText: String? = nil
        for item in current {
            switch item.kind {
            case .text:
                pendingText = (pendingText ?? "") + item.plainText
            case .mention:
                guard let id = item.mentionPageID else { return false }
                NormalizedRun.flush(&pendingText, into: &seen)
                seen.append(.mention(NormalizedRun.normalizeID(id)))
            case .other:
                return false
            }
        }
        NormalizedRun.flush(&pendingText, into: &seen)

        let expected = NormalizedRun.normalize(elements)
        if seen == expected { return true }

        let visible = SummaryRenderer.visibleMentionLimit
        let seenMentions = seen.reduce(0) { $0 + ($1.isMention ? 1 : 0) }
        guard seenMentions == visible else { return false }
        var mentions = 0
        for (index, run) in expected.enumerated() where run.isMention {
            mentions += 1
            if mentions == visible + 1 {
                return seen == Array(expected[..<index])
            }
        }
        return false
    }
}

/// A normalized rich-text run, for `matches`.
private enum NormalizedRun: Equatable {
    case text(String)
    case mention(String)

    var isMention: Bool {
        if case .mention = self { return true }
        return false
    }

    static func flush(_ pending: inout String?, into runs: inout [NormalizedRun]) {
        if let text = pending, !text.isEmpty { runs.append(.text(text)) }
        pending = nil
    }

    static func normalize(_ elements: [SummaryElement]) -> [NormalizedRun] {
        var runs: [NormalizedRun] = []
        var pending: String? = nil
        for element in elements {
            switch element {
            case .text(let text):
                pending = (pending ?? "") + text
            case .mention(let id):
                flush(&pending, into: &runs)
                runs.append(.mention(normalizeID(id)))
            }
        }
        flush(&pending, into: &runs)
        return runs
    }

    /// Page ids compare without dashes, ASCII-lowercased.
    static func normalizeID(_ id: String) -> String {
        var out = ""
        out.reserveCapacity(32)
        for scalar in id.unicodeScalars where scalar != "-" {
            if scalar.value >= 0x41 && scalar.value <= 0x5A {
                out.unicodeScalars.append(Unicode.Scalar(scalar.value + 0x20)!)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Renders relation summaries within Notion's rich-text write limits.
public enum SummaryRenderer {
    /// Elements in one rich_text value of a write.
    public static let maximumElements = 100
    /// UTF-16 code units in one text element's content.
    public static let maximumTextUnits = 2_000
    /// Page mentions a page object shows of one rich_text value.
    public static let visibleMentionLimit = 25
    /// Shown for a page whose title is empty.
    public static let untitled = "Untitled"

    /// Renders the summary of one relation of one page.
    public static func render(_ targets: [SummaryTarget], format: SummaryFormat) -> RenderedSummary {
        let ordered = order(targets)
        switch format {
        case .names: return renderNames(ordered)
        case .json: return renderJSON(ordered)
        case .mentions: return renderMentions(ordered)
        }
    }

    /// Relation order: targets with a position by position ascending, then those without one;
    /// ties (and the unpositioned) by title, then page id, both compared by UTF-8 bytes
    /// (Unicode code-point order, the order of PostgreSQL's `COLLATE "C"`). The raw title is
    /// compared, so an empty title sorts first.
    public static func order(_ targets: [SummaryTarget]) -> [SummaryTarget] {
        targets.sorted { a, b in
            switch (a.position, b.position) {
            case let (x?, y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default:
                if !a.title.utf8.elementsEqual(b.title.utf8) {
                    return a.title.utf8.lexicographicallyPrecedes(b.title.utf8)
                }
                return a.pageID.utf8.lexicographicallyPrecedes(b.pageID.utf8)
            }
        }
    }

    /// The title a reader sees: "Untitled" for an empty title, the title otherwise.
    public static func displayTitle(_ title: String) -> String {
        title.isEmpty ? untitled : title
    }

    /// The text that ends a cut `names` or `mentions` value: " … (+N more)".
    public static func omissionSuffix(_ omitted: Int) -> String {
        " \u{2026} (+\(omitted) more)"
    }

    /// One line per element, `t:<text>` or `m:<page id>`, joined by "\n"; within a line `\` is
    /// written `\\`, a line feed `\n` and a carriage return `\r`, so no line holds a raw line
    /// feed and distinct element lists never serialize alike. No elements serialize as "".
    public static func canonical(_ elements: [SummaryElement]) -> String {
        var out = ""
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append("\n") }
            switch element {
            case .text(let text):
                out.append("t:")
                appendCanonicalEscaped(text, to: &out)
            case .mention(let id):
                out.append("m:")
                appendCanonicalEscaped(id, to: &out)
            }
        }
        return out
    }

    private static func appendCanonicalEscaped(_ text: String, to out: inout String) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    // MARK: - names

    private static func renderNames(_ targets: [SummaryTarget]) -> RenderedSummary {
        guard !targets.isEmpty else {
            return RenderedSummary(elements: [], plainText: "", shown: 0, omitted: 0)
        }
        let n = targets.count
        let fit = fitLongestPrefix(
            count: n,
            head: "",
            piece: { i in
                let name = displayTitle(targets[i].title)
                return i == 0 ? name : ", " + name
            },
            tail: { k in
                if k == n { return "" }
                // Nothing precedes the suffix when not even the first name fits.
                return k == 0 ? "\u{2026} (+\(n) more)" : omissionSuffix(n - k)
            }
        )
        return RenderedSummary(
            elements: fit.chunks.map { .text($0) }, plainText: fit.text, shown: fit.shown, omitted: n - fit.shown)
    }

    // MARK: - json

    private static func renderJSON(_ targets: [SummaryTarget]) -> RenderedSummary {
        let n = targets.count
        let fit = fitLongestPrefix(
            count: n,
            head: "[",
            piece: { i in
                var item = i == 0 ? "{\"id\":" : ",{\"id\":"
                appendJSONString(targets[i].pageID, to: &item)
                item.append(",\"title\":")
                appendJSONString(targets[i].title, to: &item)
                item.append("}")
                return item
            },
            tail: { _ in "]" }
        )
        return RenderedSummary(
            elements: fit.chunks.map { .text($0) }, plainText: fit.text, shown: fit.shown, omitted: n - fit.shown)
    }

    /// A JSON string literal (RFC 8259): `"` and `\` escaped, control characters as the short
    /// escapes `\b \f \n \r \t` or `\u00xx` (lowercase hex, as JavaScript's JSON.stringify
    /// writes them); everything else, non-ASCII included, as is.
    static func appendJSONString(_ text: String, to out: inout String) {
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "\u{08}": out.append("\\b")
            case "\u{0C}": out.append("\\f")
            default:
                if scalar.value < 0x20 {
                    let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
                    out.append("\\u00")
                    out.append(hex[Int(scalar.value >> 4)])
                    out.append(hex[Int(scalar.value & 0xF)])
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }

    // MARK: - mentions

    private static func renderMentions(_ targets: [SummaryTarget]) -> RenderedSummary {
        let n = targets.count
        guard n > 0 else {
            return RenderedSummary(elements: [], plainText: "", shown: 0, omitted: 0)
        }
        // k mentions take 2k - 1 elements, plus one for the suffix when cut.
        let shown = 2 * n - 1 <= maximumElements ? n : maximumElements / 2
        var elements: [SummaryElement] = []
        elements.reserveCapacity(maximumElements)
        var plain = ""
        for i in 0..<shown {
            if i > 0 {
                elements.append(.text(", "))
                plain.append(", ")
            }
            elements.append(.mention(pageID: targets[i].pageID))
            plain.append(displayTitle(targets[i].title))
        }
        if shown < n {
            let suffix = omissionSuffix(n - shown)
            elements.append(.text(suffix))
            plain.append(suffix)
        }
        return RenderedSummary(elements: elements, plainText: plain, shown: shown, omitted: n - shown)
    }

    // MARK: - fitting text into elements

    /// Total UTF-16 units one rich_text value can hold in text elements.
    static var capacity: Int { maximumElements * maximumTextUnits }

    /// The longest k such that `head + piece(0) + … + piece(k-1) + tail(k)` splits into at most
    /// `maximumElements` text elements, and that split.
    ///
    /// Linear: the joined pieces are walked once (only as far as could possibly fit), recording
    /// the greedy splitter's state at every piece boundary; each candidate k then only replays
    /// its (short) tail on that state. `tail(k)` must be made of characters that never join a
    /// grapheme cluster with what follows them or, apart from after a Prepend character, with
    /// what precedes them (ASCII punctuation, spaces, digits, letters, "…"); every piece after
    /// the first must start with such a character.
    private static func fitLongestPrefix(
        count n: Int,
        head: String,
        piece: (Int) -> String,
        tail: (Int) -> String
    ) -> (text: String, chunks: [String], shown: Int) {
        // The joined text, as far as a prefix could fit, plus one piece more so the last
        // boundary has its right-hand context.
        var pieces: [String] = []
        var joined = head
        var ends = [head.utf16.count]  // ends[k]: UTF-16 length of head + the first k pieces
        var length = ends[0]
        for i in 0..<n {
            let p = piece(i)
            joined.append(p)
            length += p.utf16.count
            if length > capacity { break }
            pieces.append(p)
            ends.append(length)
        }
        let m = pieces.count

        // The greedy splitter's state at each boundary ends[k]; `pending` is the UTF-16 length of
        // a grapheme cluster that the boundary cuts (only after a Prepend character).
        var states: [(counter: ChunkCounter, pending: Int)] = []
        states.reserveCapacity(m + 1)
        var counter = ChunkCounter()
        var offset = 0
        for character in joined {
            if states.count > m { break }
            let width = character.utf16.count
            while states.count <= m && ends[states.count] == offset {
                states.append((counter, 0))
            }
            while states.count <= m && ends[states.count] < offset + width {
                states.append((counter, ends[states.count] - offset))
            }
            counter.add(character)
            offset += width
        }
        while states.count <= m {
            states.append((counter, 0))
        }

        var k = m
        while k >= 0 {
            let end = tail(k)
            if predictedCount(from: states[k], appending: end) <= maximumElements {
                var text = head
                text.reserveCapacity(ends[k] + end.utf16.count)
                for p in pieces[..<k] { text.append(p) }
                text.append(end)
                let chunks = split(text)
                // The prediction is exact except for pathological clusters (a Prepend character
                // before a cut, a cluster longer than an element); the check keeps the limit.
                if chunks.count <= maximumElements {
                    return (text, chunks, k)
                }
            }
            k -= 1
        }
        // Unreachable: k == 0 is a few characters long. Kept total for safety.
        return ("", [], 0)
    }

    private static func predictedCount(from state: (counter: ChunkCounter, pending: Int), appending tail: String) -> Int {
        var counter = state.counter
        var pending = state.pending
        for character in tail {
            if pending > 0 {
                counter.add(units: pending + character.utf16.count)
                pending = 0
            } else {
                counter.add(character)
            }
        }
        if pending > 0 { counter.add(units: pending) }
        return counter.count
    }

    /// Splits text greedily into elements of at most `maximumTextUnits` UTF-16 units, between
    /// grapheme clusters; a cluster longer than an element is split between scalars.
    static func split(_ text: String) -> [String] {
        var chunks: [String] = []
        var current = ""
        var units = 0
        for character in text {
            let width = character.utf16.count
            if width <= maximumTextUnits {
                if units + width > maximumTextUnits {
                    chunks.append(current)
                    current = ""
                    units = 0
                }
                current.append(character)
                units += width
            } else {
                for scalar in character.unicodeScalars {
                    let w = UTF16.width(scalar)
                    if units + w > maximumTextUnits {
                        chunks.append(current)
                        current = ""
                        units = 0
                    }
                    current.unicodeScalars.append(scalar)
                    units += w
                }
            }
        }
        if units > 0 { chunks.append(current) }
        return chunks
    }
}

/// Counts the elements `SummaryRenderer.split` makes, without building them.
private struct ChunkCounter {
    var closed = 0
    var units = 0

    var count: Int { closed + (units > 0 ? 1 : 0) }

    mutating func add(_ character: Character) {
        let width = character.utf16.count
        if width <= SummaryRenderer.maximumTextUnits {
            add(units: width)
        } else {
            for scalar in character.unicodeScalars {
                add(units: UTF16.width(scalar))
            }
        }
    }

    /// Adds one unsplittable cluster (approximated as split by units when it is too long).
    mutating func add(units width: Int) {
        let limit = SummaryRenderer.maximumTextUnits
        if units + width > limit {
            if units > 0 { closed += 1 }
            units = width
            while units > limit {
                closed += 1
                units -= limit
            }
        } else {
            units += width
        }
    }
}
