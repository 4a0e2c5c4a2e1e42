public import ArgumentParser
import CurlTransport
import Foundation
import Logging
import SyncKit

extension RelSync {
    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring PostgreSQL and the Notion summaries up to date with Notion's relations.",
            discussion: """
                Each run is a diff. It reads the pages of each configured data source edited \
                since the last run (all of them on the first run, with --full, and when \
                reconcile.full_sweep_every has passed: a full read is what notices trashed \
                pages), completes each relation Notion cut at 25 references through the \
                property-item endpoint, reads the titles of relation targets, and applies the \
                result in one transaction per data source. Then it renders the configured \
                write_back summaries from PostgreSQL and PATCHes only the pages whose summary \
                changed. Pending migrations are applied first. A run killed anywhere leaves \
                PostgreSQL consistent and the next run finishes the work; a second run while one \
                holds the lock exits 75.

                Quiet on success when stdout is not a terminal (cron); -v or --summary prints \
                the summary, --json prints it as JSON.

                Example:
                  NOTION_TOKEN=ntn_… DATABASE_URL=postgresql://relsync@db/analytics \\
                    relsync reconcile --config relsync.yaml --json
                """)

        @OptionGroup var options: GlobalOptions

        @Flag(help: "Read every page of every configured data source (a full sweep), not only those edited since the last run.")
        var full = false

        @Flag(help: "Read Notion and plan every change, then make none: PostgreSQL is rolled back and no summary is written. Shows the planned writes.")
        var dryRun = false

        @Flag(help: "Skip writing summaries back to Notion.")
        var noWriteBack = false

        @Option(help: ArgumentHelp("Wait up to this many seconds for another run's lock instead of exiting 75.", valueName: "seconds"))
        var wait: Int?

        @Option(help: ArgumentHelp(
            "How relations Notion cut at 25 are completed: auto (from the other side of a two-way relation when that side was read in full and shows every link, at no call; the references past the first 25 then have no position) or paginate (always the property-item endpoint, every position known).",
            valueName: "strategy"))
        var relationsStrategy: RelationsStrategy = .auto

        @Flag(help: "Print the run summary as JSON on stdout.")
        var json = false

        @Flag(help: "Print the run summary even when stdout is not a terminal.")
        var summary = false

        @Option(help: ArgumentHelp("Write the run's figures to this Prometheus textfile (node_exporter's textfile collector): replaced atomically at the end of every run, failures included; left alone on exit 75.", valueName: "path"))
        var metricsFile: String?

        func validate() throws {
            if let wait, wait < 0 { throw ValidationError("--wait takes a number of seconds, 0 or more.") }
        }

        func run() async throws {
            let context = try CommandContext(options, metricsFile: metricsFile)
            let reconcileOptions = ReconcileOptions(
                full: full, dryRun: dryRun, writeBack: !noWriteBack, waitForLock: wait.map { .seconds($0) },
                relationsStrategy: relationsStrategy)
            let progress = !json
            let result = try await context.perform(metricsFile: metricsFile) {
                try await context.reconciler(progress: progress).run(reconcileOptions)
            }
            if json {
                print(result.json())
            } else if summary || options.verbose > 0 || isatty(STDOUT_FILENO) == 1 {
                print(result.text)
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending PostgreSQL migrations (reconcile also does this first).",
            discussion: "The migrations are the files in sql/migrations, embedded in the binary; each is applied once, in its own transaction, and recorded in <schema>.schema_migrations.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let context = try CommandContext(options, needsNotion: false)
            let applied = try await context.perform { try await context.reconciler(progress: false).migrate() }
            print(applied.isEmpty ? "schema is up to date" : "applied: \(applied.joined(separator: ", "))")
        }
    }
}

extension RelationsStrategy: ExpressibleByArgument {}

/// Builds logging, config and transport for a command, and maps failures to exit codes.
struct CommandContext {
    let configuration: RelsyncConfiguration
    let logger: Logger
    let redactor: Redactor

    /// - Parameter needsNotion: false for commands that only use PostgreSQL: they run without
    ///   the Notion token (`RelsyncConfiguration.load`).
    init(_ options: GlobalOptions, metricsFile: String? = nil, needsNotion: Bool = true) throws {
        let level = Self.level(options)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "relsync")
        logger.logLevel = level
        self.logger = logger
        do {
            configuration = try RelsyncConfiguration.load(path: options.config, needsNotion: needsNotion)
        } catch {
            if let metricsFile {
                try? MetricsFile.write(nil, outcome: "failed", exitCode: Failure.config, finishedAt: Date(), error: nil, to: metricsFile)
            }
            Self.fail(Failure.config, "config: \(error)")
        }
        redactor = Redactor(configuration.secrets)
    }

    static func level(_ options: GlobalOptions) -> Logger.Level {
        if let level = options.logLevel { return level.level }
        if options.verbose >= 2 { return .debug }
        if options.verbose == 1 { return .info }
        if let env = ProcessInfo.processInfo.environment["LOG_LEVEL"], let level = LogLevel(rawValue: env.lowercased()) {
            return level.level
        }
        return .notice
    }

    func reconciler(progress: Bool) -> Reconciler {
        Reconciler(
            configuration: configuration, transport: CurlTransport(), logger: logger,
            progress: progress ? TerminalProgress.reporterIfTTY() : nil)
    }

    /// Runs the work; on failure prints one line and exits with the documented code.
    func perform<T>(_ work: () async throws -> T) async throws -> T {
        do {
            let value = try await work()
            TerminalProgress.clear()
            return value
        } catch {
            TerminalProgress.clear()
            let (code, message) = Failure.classify(error, redactor: redactor)
            Self.fail(code, message)
        }
    }

    /// A reconcile: like `perform`, writes the metrics textfile on success and on failure, and
    /// stops cleanly on SIGTERM / SIGINT (see `Signals`).
    func perform(metricsFile: String?, _ work: @escaping @Sendable () async throws -> RunSummary) async throws -> RunSummary {
        do {
            let summary = try await Signals.stoppable(logger: logger, work)
            TerminalProgress.clear()
            writeMetrics(metricsFile, summary, outcome: "succeeded", exitCode: 0)
            return summary
        } catch let stopped as Signals.Stopped {
            TerminalProgress.clear()
            writeMetrics(metricsFile, nil, outcome: "failed", exitCode: stopped.exitCode)
            Self.fail(stopped.exitCode, stopped.description)
        } catch {
            TerminalProgress.clear()
            let (code, message) = Failure.classify(error, redactor: redactor)
            writeMetrics(metricsFile, nil, outcome: "failed", exitCode: code)
            Self.fail(code, message)
        }
    }

    func writeMetrics(_ path: String?, _ summary: RunSummary?, outcome: String, exitCode: Int32) {
        guard let path else { return }
        do {
            try MetricsFile.write(summary, outcome: outcome, exitCode: exitCode, finishedAt: Date(), error: nil, to: path)
        } catch {
            logger.warning("could not write the metrics file", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }

    static func fail(_ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("relsync: \(message)\n".utf8))
        exit(code)
    }
}
