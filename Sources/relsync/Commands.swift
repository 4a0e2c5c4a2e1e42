import ArgumentParser
import CurlTransport
import Foundation
import Logging
import SyncKit

extension RelSync {
    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the configured relations completely and apply them to PostgreSQL.",
            discussion: """
                Reads every page of each configured data source (title and relation properties \
                only), completes each relation Notion cut at 25 references through the \
                property-item endpoint, reads the titles of relation targets, and applies the \
                result as a diff: one transaction per data source, new edges inserted, vanished \
                edges removed, positions kept, pages upserted. Pending migrations are applied \
                first. Running it twice changes nothing the second time.

                Example:
                  NOTION_TOKEN=ntn_… DATABASE_URL=postgresql://relsync@db/analytics \\
                    relsync reconcile --config relsync.yaml --json
                """)

        @OptionGroup var options: GlobalOptions

        @Flag(help: "Read every page of every configured data source (the only mode this build has; accepted for cron lines that pass it).")
        var full = false

        @Flag(help: "Read Notion and plan the PostgreSQL changes, then roll them back: nothing is written anywhere.")
        var dryRun = false

        @Flag(help: "Skip writing summaries back to Notion.")
        var noWriteBack = false

        @Flag(help: "Print the run summary as JSON on stdout.")
        var json = false

        func run() async throws {
            let context = try CommandContext(options)
            let summary = try await context.perform {
                try await context.reconciler(progress: !json).run(
                    ReconcileOptions(full: true, dryRun: dryRun, writeBack: !noWriteBack))
            }
            print(json ? summary.json() : summary.text)
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending PostgreSQL migrations (reconcile also does this first).",
            discussion: "The migrations are the files in sql/migrations, embedded in the binary; each is applied once, in its own transaction, and recorded in <schema>.schema_migrations.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let context = try CommandContext(options)
            let applied = try await context.perform { try await context.reconciler(progress: false).migrate() }
            print(applied.isEmpty ? "schema is up to date" : "applied: \(applied.joined(separator: ", "))")
        }
    }
}

/// Builds logging, config and transport for a command, and maps failures to exit codes.
struct CommandContext {
    let configuration: RelsyncConfiguration
    let logger: Logger
    let redactor: Redactor

    init(_ options: GlobalOptions) throws {
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
            configuration = try RelsyncConfiguration.load(path: options.config)
        } catch {
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

    static func fail(_ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("relsync: \(message)\n".utf8))
        exit(code)
    }
}
