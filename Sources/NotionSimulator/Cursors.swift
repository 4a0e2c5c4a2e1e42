import Foundation

/// What an opaque cursor stands for.
enum CursorState {
    /// The next row of a query walk, by its sort key (keyset pagination: rows edited or removed
    /// behind the cursor do not shift the walk), and how many rows the walk has yielded.
    case query(dataSourceID: UUID, fingerprint: String, next: RowKey, yielded: Int)
    /// An offset into a page property's list.
    case propertyItems(pageID: UUID, propertyID: String, offset: Int)
}

/// Opaque cursors: random-looking tokens mapped to server-side state, each valid for a TTL.
struct CursorStore {
    private struct Entry {
        var state: CursorState
        var issued: Millis
    }

    private var entries: [String: Entry] = [:]
    private var rng: SeededGenerator
    private var issuedSinceSweep = 0

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed, stream: "cursors")
    }

    mutating func issue(_ state: CursorState, now: Millis, ttl: Millis) -> String {
        issuedSinceSweep += 1
        if issuedSinceSweep >= 1_000 {
            issuedSinceSweep = 0
            entries = entries.filter { now - $0.value.issued < ttl }
        }
        let token = IDFormat.dashed(rng.uuid())
        entries[token] = Entry(state: state, issued: now)
        return token
    }

    enum Lookup {
        case found(CursorState)
        case unknown
        case expired
    }

    func lookup(_ token: String, now: Millis, ttl: Millis) -> Lookup {
        guard let entry = entries[token] else { return .unknown }
        return now - entry.issued < ttl ? .found(entry.state) : .expired
    }

    mutating func removeAll() {
        entries.removeAll()
    }
}
