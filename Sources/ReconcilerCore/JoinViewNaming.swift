/// Names for the per-relation join views: deterministic, safe and readable.
///
/// A view is named `<data source>__<property>` with each part slugged: lowercased, accents
/// folded, every run of characters outside `[a-z0-9]` turned into one `_`, trimmed. PostgreSQL
/// truncates identifiers at 63 bytes, so a name that would be longer is cut and suffixed with
/// `_` and 8 hex digits of a stable hash of the relation's ids; the same suffix settles
/// collisions (two relations whose names slug alike): the relation that sorts first by
/// (data source id, property id) keeps the plain name. Names are always quoted in SQL as
/// well: slugging is for readability, quoting is for safety.
public enum JoinViewNaming {
    /// PostgreSQL's identifier limit (NAMEDATALEN - 1).
    public static let maximumLength = 63

    /// The slug of one name: `[a-z0-9_]`, never empty, never starting with a digit.
    public static func slug(_ name: String) -> String {
        var out = ""
        var pendingUnderscore = false
        for scalar in fold(name).unicodeScalars {
            let v = scalar.value
            let isAlnum = (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39)
            if isAlnum {
                if pendingUnderscore && !out.isEmpty { out.append("_") }
                pendingUnderscore = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingUnderscore = true
            }
        }
        if out.isEmpty { out = "unnamed" }
        if let first = out.unicodeScalars.first, first.value >= 0x30 && first.value <= 0x39 {
            out = "n" + out
        }
        return out
    }

    /// One relation to name.
    public struct Relation: Sendable, Hashable {
        public var dataSourceID: String
        public var dataSourceName: String
        public var propertyID: String
        public var propertyName: String

        public init(dataSourceID: String, dataSourceName: String, propertyID: String, propertyName: String) {
            self.dataSourceID = dataSourceID
            self.dataSourceName = dataSourceName
            self.propertyID = propertyID
            self.propertyName = propertyName
        }
    }

    /// Names every relation of a set, collision-free. The result maps each relation to its view name.
    public static func names(for relations: [Relation]) -> [Relation: String] {
        let ordered = relations.sorted {
            ($0.dataSourceID, $0.propertyID) < ($1.dataSourceID, $1.propertyID)
        }
        var taken = Set<String>()
        var result: [Relation: String] = [:]
        for relation in ordered {
            var name = baseName(relation)
            if taken.contains(name) {
                name = suffixed(name, hash: stableHash(relation.dataSourceID + "\u{0}" + relation.propertyID))
            }
            // A second collision (two relations with identical ids cannot exist) would need a
            // hash collision of 32 bits within one workspace; settle it by counting.
            var counter = 2
            let candidate = name
            while taken.contains(name) {
                name = suffixed(candidate, hash: String(counter))
                counter += 1
            }
            taken.insert(name)
            result[relation] = name
        }
        return result
    }

    /// The name a relation gets when nothing collides with it.
    public static func baseName(_ relation: Relation) -> String {
        let plain = slug(relation.dataSourceName) + "__" + slug(relation.propertyName)
        if plain.utf8.count <= maximumLength { return plain }
        return suffixed(plain, hash: stableHash(relation.dataSourceID + "\u{0}" + relation.propertyID))
    }

    private static func suffixed(_ name: String, hash: String) -> String {
        let suffix = "_" + hash
        let room = maximumLength - suffix.utf8.count
        var cut = String(name.prefix(room))  // slugs are ASCII: characters are bytes
        while cut.hasSuffix("_") { cut.removeLast() }
        return cut + suffix
    }

    /// FNV-1a, 32 bits, as 8 lowercase hex digits: stable across runs and platforms
    /// (unlike `Hasher`, which is seeded per process).
    static func stableHash(_ text: String) -> String {
        var hash: UInt32 = 0x811C_9DC5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Lowercases and folds common Latin accents and ligatures to ASCII, without Foundation.
    private static func fold(_ name: String) -> String {
        var out = ""
        for character in name.lowercased() {
            if let mapped = foldTable[character] {
                out += mapped
            } else {
                // Already-decomposed input: keep the base letter, drop combining marks.
                for scalar in character.unicodeScalars where !(0x300...0x36F).contains(scalar.value) {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private static let foldTable: [Character: String] = [
        "à": "a", "á": "a", "â": "a", "ã": "a", "ä": "a", "å": "a", "æ": "ae", "ç": "c",
        "è": "e", "é": "e", "ê": "e", "ë": "e", "ì": "i", "í": "i", "î": "i", "ï": "i",
        "ð": "d", "ñ": "n", "ò": "o", "ó": "o", "ô": "o", "õ": "o", "ö": "o", "ø": "o",
        "ù": "u", "ú": "u", "û": "u", "ü": "u", "ý": "y", "ÿ": "y", "ß": "ss", "þ": "th",
        "œ": "oe", "ł": "l", "đ": "d", "ı": "i",
    ]
}
