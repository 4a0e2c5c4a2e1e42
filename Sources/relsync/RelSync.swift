import ArgumentParser

@main
struct RelSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relsync",
        abstract: "Keep Notion relation properties complete and queryable in PostgreSQL.",
        discussion: """
            relsync reads every relation of the configured Notion data sources completely \
            (past the 25 references Notion shows in a page), and materializes the edges as \
            PostgreSQL tables and views: relsync.pages, relsync.relation_edges, and one join \
            view per relation in the views schema (default "notion").

            Start with a config file (see README, "Configuration"), then:
              relsync reconcile --config relsync.yaml

            For analysts, reading PostgreSQL only: relsync status shows what is synced, \
            relsync export writes CSV / JSON Lines, relsync report writes an HTML report with \
            charts. relsync prune-history trims the edge history (README, "Analytics").

            Exit codes: 0 done; 64 bad command line; 78 bad config; 77 Notion refused the \
            token or lacks access; 69 Notion or PostgreSQL unavailable after retries; 75 \
            another run holds the lock; 1 anything else.
            """,
        version: "0.1.0",
        subcommands: [Reconcile.self, Migrate.self, Status.self, Export.self, Report.self, PruneHistory.self]
    )
}

/// Flags every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("The YAML config file.", valueName: "file"))
    var config: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How much to log on stderr: \(LogLevel.allCases.map(\.rawValue).joined(separator: ", ")). Default: notice, or $LOG_LEVEL.",
            valueName: "level"))
    var logLevel: LogLevel?

    @Flag(name: .shortAndLong, help: "Log more (same as --log-level info; twice for debug).")
    var verbose: Int
}
