public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of one run as a Prometheus textfile, for node_exporter's textfile collector
/// (`--collector.textfile.directory`): `relsync reconcile --metrics-file PATH`.
///
/// The file is replaced atomically (a temporary file in the same directory, then `rename`), so
/// the collector reads the previous run's file or this one's, never half of one. Series carry
/// fixed, low-cardinality labels only (endpoint templates, data-source ids and names); error
/// text never reaches the file, so neither can a secret inside it.
///
/// Metrics (all gauges, one run's values; a failed run writes only the first five):
/// - `relsync_last_run_timestamp_seconds`, `relsync_last_run_success` (0/1),
///   `relsync_last_run_exit_code`, `relsync_last_run_info{outcome,mode}`,
///   `relsync_last_success_timestamp_seconds` (kept from the previous file by a failed run)
/// - `relsync_last_run_id`, `relsync_last_run_dry_run`, `relsync_run_duration_seconds`
/// - `relsync_api_requests{endpoint}`, `relsync_api_data_calls`, `relsync_api_forward_optimum`,
///   `relsync_api_retries`, `relsync_api_rate_limited`
/// - `relsync_pages_read`, `relsync_edges`, `relsync_edges_added`, `relsync_edges_removed`,
///   `relsync_edges_repositioned`, `relsync_write_back_written`, `relsync_write_back_unchanged`,
///   `relsync_write_back_failures`, `relsync_warnings`
/// - `relsync_data_source_pages{data_source_id,name,configured}`
public enum MetricsFile {
    /// Why the metrics file could not be written: the path, the step, the system's reason.
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var step: String
        public var errno: Int32

        public var description: String {
            "cannot write the metrics file \(path): \(step): \(String(cString: strerror(errno)))"
        }
    }

    /// The text of the metrics file for one run.
    ///
    /// - Parameters:
    ///   - summary: the run's summary; nil when the run failed before it had one.
    ///   - outcome: a short constant such as `succeeded` or `failed`, shown as a label (reduced to
    ///     `[a-z0-9_]`, at most 32 characters).
    ///   - exitCode: the process's exit code; the run succeeded when it is 0 and `error` is nil.
    ///   - finishedAt: when the run ended.
    ///   - error: the failure, if any. Only its presence counts: its text is never written.
    ///   - lastSuccessAt: when the last successful run ended, carried over by a failed run.
    public static func render(
        _ summary: RunSummary?, outcome: String, exitCode: Int32, finishedAt: Date, error: String?,
        lastSuccessAt: Date? = nil
    ) -> String {
        let succeeded = exitCode == 0 && error == nil
        var out = Exposition()
        out.gauge("relsync_last_run_timestamp_seconds", "When the last relsync run ended, in seconds since the epoch.",
                  seconds(finishedAt))
        out.gauge("relsync_last_run_success", "1 if the last relsync run succeeded, 0 if it failed.", succeeded ? "1" : "0")
        out.gauge("relsync_last_run_exit_code", "The exit code of the last relsync run (sysexits; 0 done).", "\(exitCode)")
        out.gauge("relsync_last_run_info", "Always 1; the labels describe the last relsync run.",
                  [([("outcome", token(outcome)), ("mode", token(summary?.mode ?? "unknown"))], "1")])
        if let last = succeeded ? finishedAt : lastSuccessAt {
            out.gauge("relsync_last_success_timestamp_seconds",
                      "When the last successful relsync run ended, in seconds since the epoch.", seconds(last))
        }
        guard let summary else { return out.text }

        if let runID = summary.runID {
            out.gauge("relsync_last_run_id", "The run_id of the last relsync run in the runs table.", "\(runID)")
        }
        out.gauge("relsync_last_run_dry_run", "1 if the last relsync run was a dry run (nothing written).",
                  summary.dryRun ? "1" : "0")
        out.gauge("relsync_run_duration_seconds", "How long the last relsync run took.",
                  String(format: "%.3f", summary.durationSeconds))
        out.gauge("relsync_api_requests", "HTTP requests the last run sent to Notion, by endpoint, retries included.",
                  summary.apiCalls.sorted { $0.key < $1.key }.map { ([("endpoint", $0.key)], "\($0.value)") })
        out.gauge("relsync_api_data_calls", "Query and property-item requests of the last run.", "\(summary.dataCalls)")
        out.gauge("relsync_api_forward_optimum",
                  "The forward-pagination optimum of data calls for the last run's workspace.", "\(summary.forwardOptimum)")
        out.gauge("relsync_api_retries", "Requests of the last run that repeated a failed attempt.", "\(summary.retries)")
        out.gauge("relsync_api_rate_limited", "429 answers the last run received from Notion.", "\(summary.rateLimited)")
        out.gauge("relsync_pages_read", "Pages the last run read from Notion.", "\(summary.pagesRead)")
        out.gauge("relsync_edges", "Relation edges stored after the last run.", "\(summary.edgesTotal)")
        out.gauge("relsync_edges_added", "Edges the last run added.", "\(summary.edgesAdded)")
        out.gauge("relsync_edges_removed", "Edges the last run removed.", "\(summary.edgesRemoved)")
        out.gauge("relsync_edges_repositioned", "Edges whose position the last run changed.", "\(summary.edgesRepositioned)")
        out.gauge("relsync_write_back_written", "Summaries the last run wrote back to Notion.", "\(summary.summariesWritten)")
        out.gauge("relsync_write_back_unchanged", "Summaries the last run found already right in Notion.",
                  "\(summary.summariesUnchanged)")
        out.gauge("relsync_write_back_failures", "Summaries Notion refused in the last run (retried next run).",
                  "\(summary.writeFailures)")
        out.gauge("relsync_warnings", "Warnings the last run reported.", "\(summary.warnings.count)")
        out.gauge("relsync_data_source_pages", "Pages the last run read per data source (configured, or read for relation targets' titles).",
                  summary.dataSources.map {
                      ([("data_source_id", $0.id), ("name", $0.name), ("configured", $0.configured ? "true" : "false")],
                       "\($0.pagesRead)")
                  })
        return out.text
    }

    /// Renders the run and replaces the file at `path` atomically (mode 0644, whatever the umask,
    /// so node_exporter can read it). The directory must exist and be writable.
    ///
    /// An overlapping run (exit 75, another run holds the lock) leaves the file as it is: the run
    /// holding the lock writes it when it ends, and alerts on `relsync_last_run_success` do not
    /// flap. A failed run keeps `relsync_last_success_timestamp_seconds` from the previous file.
    public static func write(
        _ summary: RunSummary?, outcome: String, exitCode: Int32, finishedAt: Date, error: String?, to path: String
    ) throws {
        if exitCode == Failure.tempFail { return }
        let succeeded = exitCode == 0 && error == nil
        let text = render(summary, outcome: outcome, exitCode: exitCode, finishedAt: finishedAt, error: error,
                          lastSuccessAt: succeeded ? nil : previousSuccess(at: path))
        try replace(path, with: Array(text.utf8))
    }

    // MARK: - Writing

    static let lastSuccessName = "relsync_last_success_timestamp_seconds"

    /// `relsync_last_success_timestamp_seconds` from the file a previous run wrote, if any.
    static func previousSuccess(at path: String) -> Date? {
        guard let data = FileManager.default.contents(atPath: path), data.count < 1 << 20 else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == lastSuccessName, let value = Double(fields[1]), value.isFinite {
                return Date(timeIntervalSince1970: value)
            }
        }
        return nil
    }

    /// Writes `bytes` to a new temporary file beside `path` (a dot file not ending in `.prom`, so
    /// the collector ignores it), flushes it, and renames it over `path`.
    static func replace(_ path: String, with bytes: [UInt8]) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty, name != ".", name != ".." else {
            throw WriteError(path: path, step: "not a file name", errno: EISDIR)
        }
        let temporary = directory + "." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, step: "create \(temporary)", errno: errno) }
        var failure: WriteError?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = WriteError(path: path, step: "write \(temporary)", errno: errno)
                    return
                }
                offset += written
            }
        }
        if failure == nil, fchmod(fd, 0o644) != 0 { failure = WriteError(path: path, step: "chmod \(temporary)", errno: errno) }
        if failure == nil, fsync(fd) != 0 { failure = WriteError(path: path, step: "fsync \(temporary)", errno: errno) }
        if close(fd) != 0, failure == nil { failure = WriteError(path: path, step: "close \(temporary)", errno: errno) }
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw WriteError(path: path, step: "rename \(temporary)", errno: code)
        }
        // Make the rename itself durable; the file is already complete whatever happens here.
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    // MARK: - Rendering

    static func seconds(_ date: Date) -> String {
        String(format: "%.3f", date.timeIntervalSince1970)
    }

    /// A free string reduced to a constant-like label value: `[a-z0-9_]`, at most 32 characters.
    static func token(_ text: String) -> String {
        let mapped = String(text.lowercased().unicodeScalars.prefix(32).map { scalar -> Character in
            (scalar.isASCII && (("a"..."z").contains(scalar) || ("0"..."9").contains(scalar))) ? Character(scalar) : "_"
        })
        return mapped.isEmpty ? "unknown" : mapped
    }

    /// A label value in the exposition format: backslash, double quote and line feed escaped.
    static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// HELP text in the exposition format: backslash and line feed escaped.
    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Builds the text: one `# HELP` and `# TYPE` per family, its samples right after.
    struct Exposition {
        var text = ""

        mutating func gauge(_ name: String, _ help: String, _ value: String) {
            gauge(name, help, [([], value)])
        }

        mutating func gauge(_ name: String, _ help: String, _ samples: [([(String, String)], String)]) {
            guard !samples.isEmpty else { return }
            text += "# HELP \(name) \(MetricsFile.escapeHelp(help))\n# TYPE \(name) gauge\n"
            for (labels, value) in samples {
                text += name
                if !labels.isEmpty {
                    text += "{" + labels.map { "\($0.0)=\"\(MetricsFile.escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
                }
                text += " \(value)\n"
            }
        }
    }
}

/// `write(2)`, named apart from `MetricsFile.write`.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
