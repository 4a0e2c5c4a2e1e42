import ArgumentParser
import SyncKit

extension RelSync {
    struct PruneHistory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune-history",
            abstract: "Delete edge history older than a given age.",
            discussion: """
                relsync.edge_history gets one row per edge added or removed, and nothing deletes \
                them by itself. This deletes the rows whose changed_at is older than --older-than, \
                in one transaction; edges, pages and runs are not touched. The same in SQL:
                  DELETE FROM relsync.edge_history
                  WHERE changed_at < now() - interval '90 days';

                Durations: a whole number and a unit: s, m, h, d or w (90d, 12w, 36h).

                Example (weekly, from cron; keeps 90 days):
                  0 4 * * 0  relsync prune-history -c /etc/relsync/relsync.yaml --older-than 90d
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("Delete history older than this, e.g. 90d, 12w, 36h.", valueName: "age"))
        var olderThan: String

        @Flag(help: "Count the rows that would be deleted, and delete nothing.")
        var dryRun = false

        func validate() throws {
            guard HistoryRetention.parseDuration(olderThan) != nil else {
                throw ValidationError("--older-than \"\(olderThan)\" is not a duration; write a whole number and a unit (s, m, h, d, w), such as 90d.")
            }
        }

        func run() async throws {
            let context = try CommandContext(options, needsNotion: false)
            let age = HistoryRetention.parseDuration(olderThan) ?? 0
            let rows = try await context.perform {
                try await HistoryRetention.prune(configuration: context.configuration, olderThan: age, dryRun: dryRun, logger: context.logger)
            }
            print(dryRun ? "would delete \(rows) edge history rows older than \(olderThan)" : "deleted \(rows) edge history rows older than \(olderThan)")
        }
    }
}
