import ReconcilerCore
import Testing

// MARK: - helpers

private func pageID(_ i: Int) -> String {
    let digits = String(i)
    return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits
}

private func title(_ i: Int) -> String {
    let digits = String(i)
    return "Title " + String(repeating: "0", count: 4 - digits.count) + digits  // 10 units
}

private func targets(_ n: Int, title makeTitle: (Int) -> String = title) -> [SummaryTarget] {
    (0..<n).map { SummaryTarget(pageID: pageID($0), title: makeTitle($0), position: $0) }
}

private func units(_ s: String) -> Int { s.utf16.count }

private func texts(_ r: RenderedSummary) -> [String] {
    r.elements.compactMap { if case .text(let t) = $0 { t } else { nil } }
}

private func joinedText(_ r: RenderedSummary) -> String { texts(r).joined() }

/// Notion's write limits, and no grapheme cluster split between elements.
private func expectWithinLimits(_ r: RenderedSummary, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.elements.count <= 100, "\(r.elements.count) elements", sourceLocation: sourceLocation)
    for t in texts(r) {
        #expect(units(t) <= 2_000, "element of \(units(t)) UTF-16 units", sourceLocation: sourceLocation)
        #expect(!t.isEmpty, "empty text element", sourceLocation: sourceLocation)
    }
    let parts = texts(r)
    let separately = parts.reduce(0) { $0 + $1.count }
    #expect(parts.joined().count == separately, "a grapheme cluster straddles two elements", sourceLocation: sourceLocation)
}

/// An independent greedy splitter: elements of at most 2,000 UTF-16 units, whole clusters.
private func referenceElementCount(_ text: String) -> Int {
    var count = 0
    var used = 0
    for c in text {
        let w = c.utf16.count
        if used + w > 2_000 || count == 0 {
            count += 1
            used = 0
        }
        used += w
    }
    return count
}

/// The longest prefix of whole names that fits, the slow way.
private func referenceNames(_ names: [String]) -> (shown: Int, text: String) {
    let shownNames = names.map { $0.isEmpty ? "Untitled" : $0 }
    // Start from the longest prefix whose text alone is not over 200,000 units.
    var k = 0
    var length = 0
    while k < names.count {
        length += units(shownNames[k]) + (k == 0 ? 0 : 2)
        if length > 200_000 { break }
        k += 1
    }
    while k >= 0 {
        var text = shownNames[..<k].joined(separator: ", ")
        if k < names.count { text += (k == 0 ? "" : " ") + "\u{2026} (+\(names.count - k) more)" }
        if units(text) <= 200_000 && referenceElementCount(text) <= 100 { return (k, text) }
        k -= 1
    }
    fatalError("unreachable")
}

/// A seeded generator (SplitMix64) so randomized tests repeat.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - a tiny JSON parser, to check that the json format parses back

private indirect enum JSON: Equatable {
    case array([JSON])
    case object([(String, JSON)])
    case string(String)
    case other

    static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.string(x), .string(y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.other, .other): return true
        default: return false
        }
    }
}

private struct JSONParser {
    let scalars: [Unicode.Scalar]
    var i = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    static func parse(_ text: String) -> JSON? {
        var p = JSONParser(text)
        guard let v = p.value() else { return nil }
        p.skipSpace()
        return p.i == p.scalars.count ? v : nil
    }

    mutating func skipSpace() {
        while i < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[i]) { i += 1 }
    }

    mutating func value() -> JSON? {
        skipSpace()
        guard i < scalars.count else { return nil }
        switch scalars[i] {
        case "[":
            i += 1
            var items: [JSON] = []
            skipSpace()
            if i < scalars.count, scalars[i] == "]" { i += 1; return .array(items) }
            while true {
                guard let v = value() else { return nil }
                items.append(v)
                skipSpace()
                guard i < scalars.count else { return nil }
                if scalars[i] == "," { i += 1; continue }
                if scalars[i] == "]" { i += 1; return .array(items) }
                return nil
            }
        case "{":
            i += 1
            var members: [(String, JSON)] = []
            skipSpace()
            if i < scalars.count, scalars[i] == "}" { i += 1; return .object(members) }
            while true {
                skipSpace()
                guard case .string(let key)? = string() else { return nil }
                skipSpace()
                guard i < scalars.count, scalars[i] == ":" else { return nil }
                i += 1
                guard let v = value() else { return nil }
                members.append((key, v))
                skipSpace()
                guard i < scalars.count else { return nil }
                if scalars[i] == "," { i += 1; continue }
                if scalars[i] == "}" { i += 1; return .object(members) }
                return nil
            }
        case "\"":
            return string()
        default:
            return nil  // the renderer writes only arrays, objects and strings
        }
    }

    mutating func hex4() -> UInt32? {
        guard i + 4 <= scalars.count else { return nil }
        guard let v = UInt32(String(String.UnicodeScalarView(scalars[i..<i + 4])), radix: 16) else { return nil }
        i += 4
        return v
    }

    mutating func string() -> JSON? {
        guard i < scalars.count, scalars[i] == "\"" else { return nil }
        i += 1
        var out = String.UnicodeScalarView()
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            switch c {
            case "\"": return .string(String(out))
            case "\\":
                guard i < scalars.count else { return nil }
                let e = scalars[i]
                i += 1
                switch e {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "/": out.append("/")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "u":
                    guard let v = hex4(), let s = Unicode.Scalar(v) else { return nil }  // no surrogates needed
                    out.append(s)
                default: return nil
                }
            default:
                if c.value < 0x20 { return nil }  // RFC 8259: control characters must be escaped
                out.append(c)
            }
        }
        return nil
    }
}

private func parsedItems(_ text: String) -> [(id: String, title: String)]? {
    guard case .array(let items)? = JSONParser.parse(text) else { return nil }
    var out: [(String, String)] = []
    for item in items {
        guard case .object(let members) = item, members.count == 2,
              members[0].0 == "id", case .string(let id) = members[0].1,
              members[1].0 == "title", case .string(let t) = members[1].1
        else { return nil }
        out.append((id, t))
    }
    return out
}

// MARK: - tests

@Suite struct SummaryRendererTests {
    // Sizes 0, 1, 25, 26, 1,003 with ten-unit titles "Title 0000".
    @Test(arguments: [
        (0, 0, 1, 0),
        (1, 1, 1, 1),
        (25, 1, 1, 49),
        (26, 1, 1, 51),
        (1_003, 7, 34, 100),
    ])
    func sizes(n: Int, namesElements: Int, jsonElements: Int, mentionElements: Int) {
        let input = targets(n)
        let allTitles = (0..<n).map(title)

        let names = SummaryRenderer.render(input, format: .names)
        #expect(names.elements.count == namesElements)
        #expect(names.plainText == allTitles.joined(separator: ", "))
        #expect(joinedText(names) == names.plainText)
        #expect(names.shown == n && names.omitted == 0)
        // Merged into as few elements as possible: all but the last are full.
        for t in texts(names).dropLast() { #expect(units(t) == 2_000) }
        expectWithinLimits(names)

        let json = SummaryRenderer.render(input, format: .json)
        let items = (0..<n).map { "{\"id\":\"\(pageID($0))\",\"title\":\"\(title($0))\"}" }
        #expect(json.plainText == "[" + items.joined(separator: ",") + "]")
        #expect(joinedText(json) == json.plainText)
        #expect(json.elements.count == jsonElements)
        #expect(json.shown == n && json.omitted == 0)
        expectWithinLimits(json)

        let mentions = SummaryRenderer.render(input, format: .mentions)
        #expect(mentions.elements.count == mentionElements)
        let shown = min(n, 50)
        #expect(mentions.shown == shown && mentions.omitted == n - shown)
        var expectedElements: [SummaryElement] = []
        for i in 0..<shown {
            if i > 0 { expectedElements.append(.text(", ")) }
            expectedElements.append(.mention(pageID: pageID(i)))
        }
        var expectedPlain = allTitles.prefix(shown).joined(separator: ", ")
        if n > shown {
            expectedElements.append(.text(" \u{2026} (+\(n - shown) more)"))
            expectedPlain += " \u{2026} (+\(n - shown) more)"
        }
        #expect(mentions.elements == expectedElements)
        #expect(mentions.plainText == expectedPlain)
        expectWithinLimits(mentions)
    }

    @Test func emptyRelation() {
        let names = SummaryRenderer.render([], format: .names)
        #expect(names.elements.isEmpty && names.plainText == "" && names.shown == 0 && names.omitted == 0)
        #expect(names.canonical == "")
        let json = SummaryRenderer.render([], format: .json)
        #expect(json.elements == [.text("[]")] && json.plainText == "[]")
        let mentions = SummaryRenderer.render([], format: .mentions)
        #expect(mentions.elements.isEmpty && mentions.plainText == "")
    }

    // 999 names of 198 units and one of 188, then one more: exactly 200,000 units with the suffix.
    @Test func namesCutAtTheExactBoundary() {
        func make(firstLength: Int) -> [SummaryTarget] {
            targets(1_001) { i in
                switch i {
                case 0: String(repeating: "a", count: firstLength)
                case 1_000: String(repeating: "z", count: 11)
                default: String(repeating: "b", count: i == 999 ? 188 : 198)
                }
            }
        }
        let fits = SummaryRenderer.render(make(firstLength: 198), format: .names)
        #expect(fits.shown == 1_000 && fits.omitted == 1)
        #expect(units(fits.plainText) == 200_000)
        #expect(fits.plainText.hasSuffix("b, " + String(repeating: "b", count: 188) + " \u{2026} (+1 more)"))
        #expect(fits.elements.count == 100)
        #expect(texts(fits).allSatisfy { units($0) == 2_000 })
        expectWithinLimits(fits)

        let over = SummaryRenderer.render(make(firstLength: 199), format: .names)
        #expect(over.shown == 999 && over.omitted == 2)
        #expect(over.plainText.hasSuffix(String(repeating: "b", count: 198) + " \u{2026} (+2 more)"))
        #expect(units(over.plainText) == 200_001 - 188 - 2)
        expectWithinLimits(over)
    }

    // Without a suffix: exactly 200,000 units of names fit whole; one more unit cuts one name.
    @Test func namesWholeListAtTheExactBoundary() {
        // 1,000 names: 998 of 198, two of 199 -> 198*998 + 398 + 2*999 = 200,000.
        func make(extra: Int) -> [SummaryTarget] {
            targets(1_000) { i in String(repeating: "n", count: i >= 998 ? 199 + (i == 999 ? extra : 0) : 198) }
        }
        let exact = SummaryRenderer.render(make(extra: 0), format: .names)
        #expect(exact.shown == 1_000 && exact.omitted == 0)
        #expect(units(exact.plainText) == 200_000 && exact.elements.count == 100)
        #expect(!exact.plainText.contains("\u{2026}"))

        let over = SummaryRenderer.render(make(extra: 1), format: .names)
        #expect(over.shown == 999 && over.omitted == 1)
        #expect(over.plainText.hasSuffix(" \u{2026} (+1 more)"))
        expectWithinLimits(over)
    }

    // Items of 200 units: "[" + 1,000 items + 999 commas + "]" = 200,001 with 143-unit titles.
    @Test func jsonCutAtTheExactBoundary() {
        func make(lastTitle: Int) -> [SummaryTarget] {
            targets(1_000) { i in String(repeating: "j", count: i == 999 ? lastTitle : 143) }
        }
        let exact = SummaryRenderer.render(make(lastTitle: 142), format: .json)
        #expect(exact.shown == 1_000 && exact.omitted == 0)
        #expect(units(exact.plainText) == 200_000 && exact.elements.count == 100)
        #expect(parsedItems(exact.plainText)?.count == 1_000)

        let over = SummaryRenderer.render(make(lastTitle: 143), format: .json)
        #expect(over.shown == 999 && over.omitted == 1)
        #expect(units(over.plainText) == 1 + 999 * 200)
        #expect(over.plainText.hasSuffix("}]"))
        #expect(parsedItems(over.plainText)?.map(\.id) == (0..<999).map(pageID))
        expectWithinLimits(over)
    }

    @Test func anOversizedFirstNameLeavesOnlyTheCount() {
        let r = SummaryRenderer.render(targets(3) { _ in String(repeating: "x", count: 200_001) }, format: .names)
        #expect(r.plainText == "\u{2026} (+3 more)" && r.shown == 0 && r.omitted == 3)
        let j = SummaryRenderer.render(targets(3) { _ in String(repeating: "x", count: 200_001) }, format: .json)
        #expect(j.plainText == "[]" && j.shown == 0 && j.omitted == 3)
    }

    @Test func textSplitsOnlyBetweenGraphemeClusters() {
        // A surrogate pair would straddle unit 2,000: the first element stops at 1,999.
        let emoji = SummaryRenderer.render(targets(1) { _ in "a" + String(repeating: "😀", count: 1_000) }, format: .names)
        #expect(texts(emoji).map(units) == [1_999, 2])
        // A combining sequence stays whole.
        let accent = SummaryRenderer.render(targets(1) { _ in String(repeating: "x", count: 1_999) + "e\u{301}" }, format: .names)
        #expect(texts(accent) == [String(repeating: "x", count: 1_999), "e\u{301}"])
        // A ZWJ family (11 units) stays whole.
        let family = "👨‍👩‍👧‍👦"
        let zwj = SummaryRenderer.render(targets(1) { _ in String(repeating: "y", count: 1_995) + family }, format: .names)
        #expect(texts(zwj) == [String(repeating: "y", count: 1_995), family])
        // A title that starts with a combining mark joins the separator's space; the cut keeps them together.
        let joinSpace = SummaryRenderer.render(
            targets(2) { i in i == 0 ? String(repeating: "p", count: 1_998) : "\u{301}q" }, format: .names)
        #expect(texts(joinSpace) == [String(repeating: "p", count: 1_998) + ",", " \u{301}q"])
        expectWithinLimits(joinSpace)
        // A Prepend character (U+0600) joins the "," after it, and the suffix's space when cut.
        let prepend = targets(101) { _ in String(repeating: "a", count: 1_997) + "\u{600}" }
        let prepended = SummaryRenderer.render(prepend, format: .names)
        #expect(prepended.shown == 99 && prepended.omitted == 2)
        #expect(prepended.elements.count == 100)
        #expect(prepended.plainText == referenceNames(prepend.map(\.title)).text)
        #expect(texts(prepended).dropLast(2).allSatisfy { $0.hasSuffix("\u{600}, ") && units($0) == 2_000 })
        expectWithinLimits(prepended)
        // A cluster longer than an element cannot stay whole: split between scalars, within limits.
        let zalgo = SummaryRenderer.render(targets(1) { _ in "a" + String(repeating: "\u{301}", count: 2_500) }, format: .names)
        #expect(texts(zalgo).map(units) == [2_000, 501])
        #expect(joinedText(zalgo) == "a" + String(repeating: "\u{301}", count: 2_500))
    }

    @Test func randomizedInputsStayWithinLimitsAndCutExactly() {
        var rng = SplitMix64(state: 0x5EED_1234)
        let alphabet: [String] = [
            "a", "b", "Z", " ", "é", "e\u{301}", "\u{301}", "\u{308}", "😀", "👨‍👩‍👧‍👦", "🇫🇷", "🇺🇸", "日", "\"", "\\",
            "\n", "\t", "\r\n", "\u{1}", "\u{1F}", "\u{7F}", "\u{600}", "한", "\u{1100}\u{1161}", ",", "…", "/",
        ]
        var namesCut = 0, jsonCut = 0, unknownOrder = 0
        for round in 0..<40 {
            let n = Int.random(in: 0...1_600, using: &rng)
            let maxLength = [3, 40, 300, 900][round % 4]
            var input: [SummaryTarget] = []
            for i in 0..<n {
                let length = Int.random(in: 0...maxLength, using: &rng)
                var t = ""
                for _ in 0..<length { t += alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
                let position: Int? = i < 25 || Bool.random(using: &rng) ? i : nil
                input.append(SummaryTarget(pageID: pageID(i), title: t, position: position))
            }
            let ordered = SummaryRenderer.order(input)
            if input.contains(where: { $0.position == nil }) { unknownOrder += 1 }

            let names = SummaryRenderer.render(input, format: .names)
            expectWithinLimits(names)
            #expect(joinedText(names) == names.plainText)
            let reference = referenceNames(ordered.map(\.title))
            #expect(names.shown == reference.shown, "round \(round)")
            #expect(names.plainText.unicodeScalars.elementsEqual(reference.text.unicodeScalars), "round \(round)")
            #expect(names.shown + names.omitted == n)
            if names.omitted > 0 { namesCut += 1 }

            let json = SummaryRenderer.render(input, format: .json)
            expectWithinLimits(json)
            let items = parsedItems(joinedText(json))
            #expect(items != nil, "round \(round): invalid JSON")
            if let items {
                #expect(items.count == json.shown && json.shown + json.omitted == n)
                #expect(items.map(\.id) == ordered.prefix(items.count).map(\.pageID))
                #expect(zip(items, ordered).allSatisfy { $0.title.unicodeScalars.elementsEqual($1.title.unicodeScalars) })
                // The longest prefix: one more whole item would not have fit.
                if json.omitted > 0 {
                    var more = joinedText(json)
                    more.removeLast()
                    let next = SummaryRenderer.render([ordered[json.shown]], format: .json).plainText
                    more += (json.shown == 0 ? "" : ",") + next.dropFirst()
                    #expect(referenceElementCount(more) > 100 || units(more) > 200_000, "round \(round)")
                }
            }

            if json.omitted > 0 { jsonCut += 1 }

            let mentions = SummaryRenderer.render(input, format: .mentions)
            expectWithinLimits(mentions)
            #expect(mentions.shown == min(n, 50))
        }
        // The seed exercises both sides of the cut-off.
        #expect(namesCut >= 10 && namesCut <= 30, "names cut in \(namesCut) of 40 rounds")
        #expect(jsonCut >= 10 && jsonCut <= 30, "json cut in \(jsonCut) of 40 rounds")
        #expect(unknownOrder >= 10)
    }

    @Test func escapesJSONStrings() {
        let input = [SummaryTarget(pageID: pageID(7), title: "He said \"hi\" \\ \n\t\u{1}\u{1F}\u{7F} é😀/", position: 0)]
        let r = SummaryRenderer.render(input, format: .json)
        #expect(r.plainText == #"[{"id":"00000000-0000-4000-8000-000000000007","title":"He said \"hi\" \\ \n\t\u0001\u001f"# + "\u{7F} é😀/\"}]")
        #expect(parsedItems(r.plainText)?.first?.title == input[0].title)
    }

    @Test func mentionsAreCutAtFifty() {
        let fifty = SummaryRenderer.render(targets(50), format: .mentions)
        #expect(fifty.elements.count == 99 && fifty.omitted == 0)
        #expect(fifty.elements.last == .mention(pageID: pageID(49)))

        let fiftyOne = SummaryRenderer.render(targets(51), format: .mentions)
        #expect(fiftyOne.elements.count == 100 && fiftyOne.shown == 50 && fiftyOne.omitted == 1)
        #expect(fiftyOne.elements[98] == .mention(pageID: pageID(49)))
        #expect(fiftyOne.elements.last == .text(" \u{2026} (+1 more)"))
        #expect(fiftyOne.plainText.hasSuffix("Title 0049 \u{2026} (+1 more)"))
    }

    @Test func emptyTitlesShowAsUntitled() {
        let input = [
            SummaryTarget(pageID: pageID(0), title: "", position: 0),
            SummaryTarget(pageID: pageID(1), title: "B", position: 1),
        ]
        #expect(SummaryRenderer.render(input, format: .names).plainText == "Untitled, B")
        #expect(SummaryRenderer.render(input, format: .mentions).plainText == "Untitled, B")
        // JSON carries the data: the title is the empty string.
        #expect(SummaryRenderer.render(input, format: .json).plainText.contains(#""title":""}"#))
        #expect(SummaryRenderer.render(targets(1) { _ in " " }, format: .names).plainText == " ")
    }

    @Test func unknownPositionsFollowByTitleThenID() {
        let input = [
            SummaryTarget(pageID: pageID(1), title: "zeta", position: nil),
            SummaryTarget(pageID: pageID(2), title: "Second", position: 1),
            SummaryTarget(pageID: pageID(9), title: "alpha", position: nil),
            SummaryTarget(pageID: pageID(3), title: "alpha", position: nil),
            SummaryTarget(pageID: pageID(4), title: "First", position: 0),
            SummaryTarget(pageID: pageID(5), title: "Émile", position: nil),
            SummaryTarget(pageID: pageID(6), title: "", position: nil),
            SummaryTarget(pageID: pageID(7), title: "Third", position: 2),
        ]
        let names = SummaryRenderer.render(input, format: .names)
        #expect(names.plainText == "First, Second, Third, Untitled, alpha, alpha, zeta, Émile")
        let mentions = SummaryRenderer.render(input, format: .mentions)
        let ids = mentions.elements.compactMap { if case .mention(let id) = $0 { id } else { nil } }
        #expect(ids == [4, 2, 7, 6, 3, 9, 1, 5].map(pageID))
        // Titles compare by code point (UTF-8 bytes), not by canonical equivalence: a decomposed
        // "é" sorts with "e", a precomposed one after "z".
        let decomposed = SummaryRenderer.order([
            SummaryTarget(pageID: pageID(12), title: "\u{E9}", position: nil),
            SummaryTarget(pageID: pageID(10), title: "f", position: nil),
            SummaryTarget(pageID: pageID(11), title: "e\u{301}", position: nil),
        ])
        #expect(decomposed.map(\.pageID) == [11, 10, 12].map(pageID))
        // Input order does not matter.
        #expect(SummaryRenderer.render(input.reversed(), format: .json) == SummaryRenderer.render(input, format: .json))
    }

    @Test func canonicalDistinguishesElementLists() {
        let lists: [[SummaryElement]] = [
            [],
            [.text("")],
            [.text(""), .text("")],
            [.text("a")],
            [.text("ab")],
            [.text("a"), .text("b")],
            [.text("a\nt:b")],
            [.text("a\\nt:b")],
            [.text("a\n"), .text("b")],
            [.text("m:x")],
            [.mention(pageID: "x")],
            [.text("x\nm:y")],
            [.text("x"), .mention(pageID: "y")],
            [.mention(pageID: "y"), .text("x")],
        ]
        let canonicals = lists.map(SummaryRenderer.canonical)
        #expect(Set(canonicals).count == lists.count)
        #expect(SummaryRenderer.canonical([.text("a\\b\nc"), .mention(pageID: "p")]) == "t:a\\\\b\\nc\nm:p")
        let r = SummaryRenderer.render(targets(3), format: .mentions)
        #expect(r.canonical == SummaryRenderer.canonical(r.elements))
        #expect(r.canonical == SummaryRenderer.render(targets(3), format: .mentions).canonical)
    }

    @Test func matchesNormalizesTextRuns() {
        let names = SummaryRenderer.render(targets(3), format: .names)
        #expect(names.matches(current: [.text("Title 0000, Title 0001, Title 0002")]))
        #expect(names.matches(current: [.text("Title 0000, Ti"), .text(""), .text("tle 0001, Title 0002")]))
        #expect(!names.matches(current: [.text("Title 0000, Title 0001")]))
        #expect(!names.matches(current: [.text("Title 0000, Title 0001, Title 0002 (edited)")]))
        #expect(!names.matches(current: []))
        #expect(!names.matches(current: [
            .text("Title 0000, "), CurrentRichText(kind: .other, plainText: "Title 0001"), .text(", Title 0002"),
        ]))

        // A long value written as several elements, read back as one run.
        let long = SummaryRenderer.render(targets(1_003), format: .names)
        #expect(long.elements.count == 7)
        #expect(long.matches(current: [.text(long.plainText)]))

        let empty = SummaryRenderer.render([], format: .names)
        #expect(empty.matches(current: []))
        #expect(empty.matches(current: [.text("")]))
        #expect(!empty.matches(current: [.text("x")]))
    }

    @Test func matchesComparesMentionsByID() {
        let r = SummaryRenderer.render(targets(3), format: .mentions)
        let current: [CurrentRichText] = [
            .mention(pageID: pageID(0), plainText: "Renamed"), .text(", "),
            .mention(pageID: pageID(1).uppercased()), .text(","), .text(" "),
            .mention(pageID: String(pageID(2).filter { $0 != "-" })),
        ]
        #expect(r.matches(current: current))
        var wrong = current
        wrong[5] = .mention(pageID: pageID(9))
        #expect(!r.matches(current: wrong))
        #expect(!r.matches(current: [.text("Title 0000, Title 0001, Title 0002")]))
        #expect(!r.matches(current: [CurrentRichText(kind: .mention, plainText: "Title 0000", mentionPageID: nil)]))
    }

    @Test func matchesTheTwentyFiveMentionPrefix() {
        let r = SummaryRenderer.render(targets(40), format: .mentions)
        // What a page object shows: cut just before the 26th mention.
        var visible: [CurrentRichText] = []
        for i in 0..<25 {
            if i > 0 { visible.append(.text(", ")) }
            visible.append(.mention(pageID: pageID(i)))
        }
        visible.append(.text(", "))
        #expect(r.matches(current: visible))
        // Without the trailing separator, or with the 25th mention changed: hand-edited.
        #expect(!r.matches(current: Array(visible.dropLast())))
        var edited = visible
        edited[48] = .mention(pageID: pageID(30))
        #expect(!r.matches(current: edited))
        // Fewer than 25 mentions shown is not a truncation.
        #expect(!r.matches(current: Array(visible.prefix(47))))
        // A value of exactly 25 mentions must match whole.
        let exactly = SummaryRenderer.render(targets(25), format: .mentions)
        #expect(exactly.matches(current: Array(visible.dropLast())))
        #expect(!exactly.matches(current: visible))
        // The cut summary (50 shown + suffix) is also judged by its visible prefix.
        let cut = SummaryRenderer.render(targets(60), format: .mentions)
        #expect(cut.matches(current: visible))
    }

    @Test func handEditedValuesDoNotMatch() {
        let r = SummaryRenderer.render(targets(5), format: .json)
        #expect(r.matches(current: [.text(r.plainText)]))
        #expect(!r.matches(current: [.text(r.plainText + " ")]))
        #expect(!r.matches(current: [.text(r.plainText), .mention(pageID: pageID(0))]))
        let m = SummaryRenderer.render(targets(2), format: .mentions)
        #expect(!m.matches(current: [.mention(pageID: pageID(0)), .text(" and "), .mention(pageID: pageID(1))]))
        #expect(!m.matches(current: [.mention(pageID: pageID(1)), .text(", "), .mention(pageID: pageID(0))]))
    }

    @Test func tenThousandTargetsRenderInLinearTime() {
        // 10,000 titles of 200 units: 2 million units of names, far past the limit.
        let input = targets(10_000) { i in String(repeating: "w", count: 196) + title(i).suffix(4) }
        let clock = ContinuousClock()
        var results: [RenderedSummary] = []
        let elapsed = clock.measure {
            for format in SummaryFormat.allCases { results.append(SummaryRenderer.render(input, format: format)) }
        }
        #expect(elapsed < .seconds(5), "rendering took \(elapsed)")
        let names = results[0]
        // 990 names of 200 + 989 separators + " … (+9010 more)" = 199,993 units; 991 would not fit.
        #expect(names.shown == 990 && names.omitted == 9_010)
        #expect(names.plainText.hasSuffix(" \u{2026} (+9010 more)"))
        for r in results { expectWithinLimits(r) }
        // Items of 256 units: "[" + 778 items + 777 commas + "]" = 199,947; 779 would be 200,204.
        #expect(results[1].shown == 778 && results[1].omitted == 9_222)
        #expect(parsedItems(results[1].plainText)?.count == 778)
        #expect(results[2].shown == 50 && results[2].omitted == 9_950)
    }
}
