/// Notion object ids (pages, databases, data sources, users).
public enum NotionID {
    /// Returns the id in Notion's canonical form, lowercase with dashes
    /// (`60bdc8bd-3880-44b8-a9cd-8a145b3ffbd7`), or nil when `string` is neither 32 hex digits
    /// nor a dashed UUID. Surrounding whitespace is ignored; any letter case is accepted.
    public static func normalize(_ string: String) -> String? {
        let trimmed = string.utf8.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        var bytes = Array(trimmed)
        while let last = bytes.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D {
            bytes.removeLast()
        }
        var hex: [UInt8] = []
        hex.reserveCapacity(32)
        switch bytes.count {
        case 32:
            hex = bytes
        case 36:
            for (index, byte) in bytes.enumerated() {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard byte == UInt8(ascii: "-") else { return nil }
                } else {
                    hex.append(byte)
                }
            }
        default:
            return nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, byte) in hex.enumerated() {
            let lower: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): lower = byte
            case UInt8(ascii: "A")...UInt8(ascii: "F"): lower = byte + 32
            default: return nil
            }
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            out.append(lower)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
