/// Builds URL path segments and query values by hand, so that ids Notion returns already
/// percent-encoded (`%3AxYz`) are sent exactly as returned and never encoded twice.
enum PathEncoding {
    /// Keeps every byte allowed in a path segment and every existing `%XX` escape as they are,
    /// and percent-encodes only the remaining bytes (a lone `%`, `/`, `?`, `#`, spaces, non-ASCII).
    static func pathSegment(_ value: String) -> String {
        encode(value, allowed: isPathSegmentByte)
    }

    /// Like `pathSegment`, but also encodes the bytes that delimit query items (`&`, `=`, `+`).
    static func queryValue(_ value: String) -> String {
        encode(value) { byte in
            isPathSegmentByte(byte) && byte != UInt8(ascii: "&") && byte != UInt8(ascii: "=")
                && byte != UInt8(ascii: "+") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?")
        }
    }

    private static func encode(_ value: String, allowed: (UInt8) -> Bool) -> String {
        let bytes = Array(value.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2])
            {
                out.append(contentsOf: bytes[index...index + 2])
                index += 3
                continue
            }
            if allowed(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0x0F))
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 `pchar` minus `%`: unreserved, sub-delims, `:` and `@`.
    private static func isPathSegmentByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            return true
        default:
            return false
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
