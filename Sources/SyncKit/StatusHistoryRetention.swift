public import Foundation
public import Logging
import PostgresStore

/// Retention of `edge_history`: `relsync prune-history --older-than 90d` deletes the rows
/// older than that (by `changed_at`). Nothing prunes automatically; the history grows by one
/// row per edge added or removed.
public enum HistoryRetention {
    /// Parses a duration such as `90d`, `12h`, `30m`, `2w` or `3600s` (a whole number and one
    /// unit: s, m, h, d, w). Returns seconds, or nil when the text is not such a duration.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = trimmed.last, let number = Int(trimmed.dropLast()), number >= 0 else { return nil }
        let seconds: Int
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3_600
        case "d": seconds = 86_400
        case "w": seconds = 604_800
        default: return nil
        }
        let (total, overflow) = number.multipliedReportingOverflow(by: seconds)
        return overflow ? nil : TimeInterval(total)
    }

    /// Deletes (or, with `dryRun`, counts) the history rows older than `age` seconds.
    public static func prune(
        configuration: RelsyncConfiguration, olderThan age: TimeInterval, dryRun: Bool, logger: Logger
    ) async throws -> Int {
        let store = try await configuration.openStoreWithoutMigrating(logger: logger)
        defer { store.close() }
        return try await store.pruneHistory(olderThan: age, dryRun: dryRun)
    }
}
