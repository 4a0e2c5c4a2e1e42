import ArgumentParser
import Foundation
import SyncKit

extension RelSync {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export join views, pages, the edge history and the relations catalog as CSV or JSON Lines.",
            discussion: """
                Streams straight out of PostgreSQL (COPY … TO STDOUT, written chunk by chunk as \
                it arrives, so memory stays flat whatever the size), from one read-only snapshot: \
                every file shows the data as of the same instant, even while a reconcile runs.

                Into a folder (--out DIR, the default "relsync-export"):
                  views/<join view>.csv   one per relation: its two page columns, position
                  pages.csv               every page read, with its title
                  edge_history.csv        every edge added or removed, with run and time
                  relation_catalog.csv    every relation: Notion names, ids, target, view
                  manifest.json           row counts, sizes, export time, data source ids
                Each file is written as <name>.partial and renamed when complete.

                CSV is RFC 4180 (a header line; fields with a comma, quote or line break quoted; \
                quotes doubled; LF line ends; UTF-8). NULL is an empty field, an empty string is "". \
                JSON Lines has one object per row, keys in column order. Timestamps are UTC, ISO 8601.

                With --out - one dataset goes to standard output and no manifest is written: pick \
                it with --only (and one --relation for a join view).

                Examples:
                  relsync export --config relsync.yaml --format csv --out /srv/exports/notion
                  relsync export --config relsync.yaml --format jsonl \\
                    --only views --relation "Team Members" --out - | jq .
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("The file format: csv or jsonl.", valueName: "format"))
        var format: ExportFormatArgument

        @Option(
            name: .customLong("relation"),
            help: ArgumentHelp(
                "A relation to export, by join view name (projects__team_members) or Notion property name (\"Team Members\"); repeat for more. Default: every relation. Also limits the edge history to these relations.",
                valueName: "name"))
        var relations: [String] = []

        @Option(
            name: .customLong("only"),
            help: ArgumentHelp("Export only this kind of file: views, pages, history or catalog; repeat for more. Default: all four.", valueName: "kind"))
        var only: [ExportPartArgument] = []

        @Option(help: ArgumentHelp("The folder to write into (created if missing), or - for standard output.", valueName: "dir|-"))
        var out: String = "relsync-export"

        @Flag(help: "Print the manifest as JSON on stdout (instead of one line per file).")
        var json = false

        func validate() throws {
            if out.isEmpty { throw ValidationError("--out needs a folder, or - for standard output.") }
            if out == "-" && json {
                throw ValidationError("--json prints the manifest on stdout, which --out - uses for the data; drop one of them.")
            }
        }

        func run() async throws {
            let context = try CommandContext(options, needsNotion: false)
            let parts = only.isEmpty ? Set(ExportOptions.Part.allCases) : Set(only.map(\.part))
            let exportOptions = ExportOptions(
                format: format.format, relations: relations, parts: parts,
                destination: out == "-" ? .standardOutput : .directory(out))
            let manifest = try await context.perform {
                do {
                    return try await Exporter(configuration: context.configuration, logger: context.logger).run(exportOptions)
                } catch let error as ExportError where error.isUsage {
                    CommandContext.fail(Failure.usage, error.description)
                }
            }
            if out == "-" { return }
            print(json ? manifest.json() : manifest.text)
        }
    }
}

enum ExportFormatArgument: String, ExpressibleByArgument, CaseIterable {
    case csv, jsonl

    var format: ExportOptions.Format { self == .csv ? .csv : .jsonl }
}

enum ExportPartArgument: String, ExpressibleByArgument, CaseIterable {
    case views, pages, history, catalog

    var part: ExportOptions.Part {
        switch self {
        case .views: return .views
        case .pages: return .pages
        case .history: return .history
        case .catalog: return .catalog
        }
    }
}
