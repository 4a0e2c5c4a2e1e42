import ArgumentParser
import SyncKit

extension RelSync {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what is synced: data sources, relations, edge counts, the last run, lag and the last error.",
            discussion: """
                Reads PostgreSQL only (never Notion, never writes). Lag is the time since the last \
                successful run finished: how old the data an analyst sees may be. The relations \
                table shows each join view, its edges, how many source pages have links, the \
                largest list (MAX), and how many lists are longer than the 25 a Notion page object \
                shows (>25).

                With --json the same as one JSON object (snake_case keys, ISO 8601 UTC times), for \
                monitoring: e.g. alert when lag_seconds exceeds twice the cron interval.

                Example:
                  relsync status --config relsync.yaml --json | jq '.lag_seconds, .last_error'
                """)

        @OptionGroup var options: GlobalOptions

        @Flag(help: "Print the status as JSON.")
        var json = false

        func run() async throws {
            let context = try CommandContext(options, needsNotion: false)
            let report = try await context.perform {
                try await StatusReport.load(configuration: context.configuration, logger: context.logger)
            }
            print(json ? report.json() : report.text)
        }
    }
}
