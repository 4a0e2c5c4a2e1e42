public import Foundation

/// SplitMix64: a small, fast, seedable generator. Everything random in the simulator draws from
/// one of these, so a seed reproduces a workspace and a run exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    /// An independent stream for one purpose (ids, faults, cursors…), derived from a seed and a label.
    public init(seed: UInt64, stream: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        self.state = seed ^ hash
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state = state &+ 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A random version-4 UUID.
    public mutating func uuid() -> UUID {
        let a = next()
        let b = next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * i))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * i))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        return Double.random(in: 0..<1, using: &self) < p
    }
}

enum IDFormat {
    /// Lower-case dashed form, as Notion returns ids.
    static func dashed(_ id: UUID) -> String { id.uuidString.lowercased() }

    /// The 32-hex form used in Notion URLs.
    static func compact(_ id: UUID) -> String { id.uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

    /// Parses a dashed or 32-hex UUID, as Notion accepts both in paths and bodies.
    static func parseUUID(_ text: String) -> UUID? {
        if text.count == 36 { return UUID(uuidString: text) }
        guard text.count == 32, text.allSatisfy(\.isHexDigit) else { return nil }
        var dashed = text
        for offset in [8, 13, 18, 23] {
            dashed.insert("-", at: dashed.index(dashed.startIndex, offsetBy: offset))
        }
        return UUID(uuidString: dashed)
    }
}

enum PercentEncoding {
    /// The characters `encodeURIComponent` leaves alone; Notion's property ids use this encoding.
    private static let unreserved: Set<UInt8> = {
        var set = Set<UInt8>()
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { set.insert(c) }
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { set.insert(c) }
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { set.insert(c) }
        for c in "-_.!~*'()".utf8 { set.insert(c) }
        return set
    }()

    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Decodes `%XX` sequences once. A `%` that does not start a valid escape is kept as is.
    static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
               let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Milliseconds since the Unix epoch, UTC. All simulator times are kept in this form.
typealias Millis = Int64

enum Timestamp {
    static let minute: Millis = 60_000
    static let day: Millis = 86_400_000

    static func millis(_ date: Date) -> Millis { Millis((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    static func date(_ millis: Millis) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    static func floorToMinute(_ millis: Millis) -> Millis {
        millis - ((millis % minute) + minute) % minute
    }

    static func floorToDay(_ millis: Millis) -> Millis {
        millis - ((millis % day) + day) % day
    }

    /// `2026-09-04T14:30:00.000Z`, rounded down to the minute as Notion returns page timestamps.
    static func notionMinute(_ millis: Millis) -> String { iso(floorToMinute(millis)) }

    /// ISO-8601 UTC with milliseconds.
    static func iso(_ millis: Millis) -> String {
        let days = Int64((Double(millis) / Double(day)).rounded(.down))
        let msOfDay = millis - days * day
        let (y, m, d) = civil(fromDays: days)
        let hour = msOfDay / 3_600_000
        let minute = (msOfDay / 60_000) % 60
        let second = (msOfDay / 1000) % 60
        let ms = msOfDay % 1000
        return String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", y, m, d, hour, minute, second, ms)
    }

    /// `2026-09-04`
    static func isoDate(_ millis: Millis) -> String {
        let days = Int64((Double(millis) / Double(day)).rounded(.down))
        let (y, m, d) = civil(fromDays: days)
        return String(format: "%04lld-%02lld-%02lld", y, m, d)
    }

    /// A parsed ISO-8601 value: an instant, or a whole day when no time was given.
    enum Parsed: Equatable {
        case instant(Millis)
        case day(start: Millis)
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]`. A value without a zone is UTC.
    static func parse(_ text: String) -> Parsed? {
        let chars = Array(text.utf8)
        var i = 0
        func number(_ digits: Int) -> Int64? {
            guard i + digits <= chars.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<digits {
                let c = chars[i]
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(c - UInt8(ascii: "0"))
                i += 1
            }
            return value
        }
        func expect(_ c: Character) -> Bool {
            guard i < chars.count, chars[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let dayOfMonth = number(2),
              (1...12).contains(month), (1...31).contains(dayOfMonth)
        else { return nil }
        let dayStart = days(fromCivil: year, month, dayOfMonth) * day
        if i == chars.count { return .day(start: dayStart) }
        guard expect("T") || expect(" "), let hour = number(2), expect(":"), let minute = number(2),
              hour < 24, minute < 60
        else { return nil }
        var second: Int64 = 0
        var ms: Int64 = 0
        if expect(":") {
            guard let s = number(2), s < 61 else { return nil }
            second = s
            if expect(".") {
                var digits = 0
                var fraction: Int64 = 0
                while i < chars.count, chars[i] >= UInt8(ascii: "0"), chars[i] <= UInt8(ascii: "9") {
                    if digits < 3 { fraction = fraction * 10 + Int64(chars[i] - UInt8(ascii: "0")) }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return nil }
                while digits < 3 { fraction *= 10; digits += 1 }
                ms = fraction
            }
        }
        var offset: Int64 = 0
        if expect("Z") || expect("z") {
            offset = 0
        } else if i < chars.count, chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-") {
            let sign: Int64 = chars[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = number(2) else { return nil }
            _ = expect(":")
            guard let om = number(2) else { return nil }
            offset = sign * (oh * 3_600_000 + om * 60_000)
        }
        guard i == chars.count else { return nil }
        return .instant(dayStart + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms - offset)
    }

    // Howard Hinnant's civil-date algorithms.
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
