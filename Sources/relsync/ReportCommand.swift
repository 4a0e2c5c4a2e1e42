import ArgumentParser
import SyncKit

extension RelSync {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a one-file HTML report with charts: relation sizes, degree distributions, edges over time, run history.",
            discussion: """
                One self-contained HTML file (inline CSS and SVG charts; no script, font, image or \
                stylesheet is loaded from anywhere), to open in a browser, mail, or publish as a \
                static page. It shows the headline numbers, the largest relations, the degree \
                distribution of each relation (pages past 25 links in orange), edges added and \
                removed per day, API calls, 429s and duration per run, and the relations catalog. \
                Reads PostgreSQL only.

                Example:
                  relsync report --config relsync.yaml --out /var/www/relsync/index.html
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("The HTML file to write (replaced whole when complete).", valueName: "file"))
        var out: String = "relsync-report.html"

        @Option(help: ArgumentHelp("Days of edge history to chart, today included.", valueName: "n"))
        var days: Int = 30

        @Option(help: ArgumentHelp("Most recent runs to chart.", valueName: "n"))
        var runs: Int = 40

        func validate() throws {
            guard (1...3_660).contains(days) else { throw ValidationError("--days must be from 1 to 3660.") }
            guard (1...1_000).contains(runs) else { throw ValidationError("--runs must be from 1 to 1000.") }
            guard !out.isEmpty, out != "-" else { throw ValidationError("--out needs a file name, such as report.html.") }
        }

        func run() async throws {
            let context = try CommandContext(options, needsNotion: false)
            let bytes = try await context.perform {
                try await ReportBuilder(configuration: context.configuration, logger: context.logger)
                    .write(to: out, ReportBuilder.Options(days: days, runs: runs))
            }
            print("wrote \(out) (\(bytes) bytes)")
        }
    }
}
