public import Foundation
public import Logging
import PostgresStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `relsync export` writes.
public struct ExportOptions: Sendable {
    /// The file format.
    public enum Format: String, Sendable, CaseIterable {
        case csv, jsonl
    }

    /// The kinds of file an export can write.
    public enum Part: String, Sendable, CaseIterable {
        /// One file per relation's join view: `views/<join view>.<ext>`.
        case views
        /// `pages.<ext>`: every page read, with its title.
        case pages
        /// `edge_history.<ext>`: every edge added or removed (only the chosen relations' with `relations`).
        case history
        /// `relation_catalog.<ext>`: every relation with its Notion names and join view.
        case catalog
    }

    /// Where the files go.
    public enum Destination: Sendable, Equatable {
        /// A folder (created if missing) holding the files and `manifest.json`.
        case directory(String)
        /// Standard output: exactly one dataset, no manifest.
        case standardOutput
    }

    public var format: Format
    /// Relations to export, by join view name or Notion property name; empty: all of them.
    public var relations: [String]
    public var parts: Set<Part>
    public var destination: Destination

    public init(format: Format, relations: [String] = [], parts: Set<Part> = Set(Part.allCases), destination: Destination) {
        self.format = format
        self.relations = relations
        self.parts = parts
        self.destination = destination
    }
}

/// The `manifest.json` written beside an export's files.
public struct ExportManifest: Sendable, Codable {
    public struct DataSource: Sendable, Codable {
        public var id: String
        public var name: String
        public var configured: Bool
    }

    public struct Relation: Sendable, Codable {
        public var sourceDataSourceID: String
        public var sourceDataSourceName: String
        public var propertyID: String
        public var propertyName: String
        public var targetDataSourceID: String?
        public var targetDataSourceName: String?
        public var kind: String
        public var joinView: String

        enum CodingKeys: String, CodingKey {
            case sourceDataSourceID = "source_data_source_id"
            case sourceDataSourceName = "source_data_source_name"
            case propertyID = "property_id"
            case propertyName = "property_name"
            case targetDataSourceID = "target_data_source_id"
            case targetDataSourceName = "target_data_source_name"
            case kind
            case joinView = "join_view"
        }
    }

    public struct File: Sendable, Codable {
        /// Relative to the export folder.
        public var path: String
        /// join_view, pages, edge_history or relation_catalog.
        public var dataset: String
        /// Data rows (the CSV header line not counted).
        public var rows: Int
        public var bytes: Int
        /// For a join view: its relation.
        public var relation: Relation?
    }

    public struct LastRun: Sendable, Codable {
        public var runID: Int64
        public var outcome: String
        public var finishedAt: Date?

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case outcome
            case finishedAt = "finished_at"
        }
    }

    /// The manifest's own format version.
    public var version = 1
    public var format: String
    /// The instant the data is from: the start of the export's read-only snapshot (server clock).
    public var exportedAt: Date
    /// When the last file was complete (this machine's clock).
    public var finishedAt: Date
    public var seconds: Double
    public var schema: String
    public var viewsSchema: String
    /// Every data source in the export's snapshot (the Notion ids the data comes from).
    public var dataSources: [DataSource]
    public var lastRun: LastRun?
    public var files: [File]

    enum CodingKeys: String, CodingKey {
        case version, format
        case exportedAt = "exported_at"
        case finishedAt = "finished_at"
        case seconds, schema
        case viewsSchema = "views_schema"
        case dataSources = "data_sources"
        case lastRun = "last_run"
        case files
    }

    public var totalRows: Int { files.reduce(0) { $0 + $1.rows } }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// One line per file, for the terminal.
    public var text: String {
        var lines = files.map { "\($0.path)  \($0.rows) rows, \($0.bytes) bytes" }
        lines.append("\(files.count) files, \(totalRows) rows in \(String(format: "%.2f", seconds)) s")
        return lines.joined(separator: "\n")
    }
}

/// A command-line choice `relsync export` cannot honour (exit 64).
public enum ExportError: Error, Sendable, CustomStringConvertible {
    case unknownRelation(String, available: [String])
    case ambiguousRelation(String, matches: [String])
    case standardOutputNeedsOneDataset(count: Int)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownRelation(let name, let available):
            let list = available.isEmpty ? "none (run relsync reconcile first)" : available.joined(separator: ", ")
            return "no relation named \"\(name)\" (give a join view name or a Notion property name; the join views are: \(list))"
        case .ambiguousRelation(let name, let matches):
            return "\"\(name)\" names relations in several data sources; give one of their join views: \(matches.joined(separator: ", "))"
        case .standardOutputNeedsOneDataset(let count):
            return "--out - writes one dataset to standard output, and this selection has \(count); choose it with --only (pages, history or catalog), or --only views with one --relation"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }

    /// Whether the command line was at fault (exit 64) rather than the file system.
    public var isUsage: Bool {
        if case .cannotWrite = self { return false }
        return true
    }
}

/// `relsync export`: streams join views, pages, the edge history and the relations catalog out
/// of PostgreSQL with COPY … TO STDOUT, chunk by chunk into files (or standard output), from
/// one consistent read-only snapshot, and writes a manifest.
public struct Exporter: Sendable {
    let configuration: RelsyncConfiguration
    let logger: Logger

    public init(configuration: RelsyncConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run(_ options: ExportOptions) async throws -> ExportManifest {
        let started = Date()
        let store = try await configuration.openStoreWithoutMigrating(logger: logger)
        defer { store.close() }
        let lastRun = try await store.runs(limit: 1).first
        let format: ExportFormat = options.format == .csv ? .csv : .jsonl
        let logger = self.logger
        let destination = options.destination

        let (snapshotTime, dataSources, files) = try await store.withExportSnapshot { session in
            let catalog = try await session.relationCatalog()
            let chosen = try Self.choose(options.relations, from: catalog)
            var datasets: [(ExportDataset, RelationCatalogEntry?)] = []
            if options.parts.contains(.views) { datasets += chosen.map { (.joinView($0), $0) } }
            if options.parts.contains(.pages) { datasets.append((.pages, nil)) }
            if options.parts.contains(.history) {
                datasets.append((.edgeHistory(relations: options.relations.isEmpty ? nil : chosen.map(\.key)), nil))
            }
            if options.parts.contains(.catalog) { datasets.append((.relationCatalog, nil)) }

            var files: [ExportManifest.File] = []
            switch destination {
            case .standardOutput:
                guard datasets.count == 1, let (dataset, _) = datasets.first else {
                    throw ExportError.standardOutputNeedsOneDataset(count: datasets.count)
                }
                let output = FileOutput(descriptor: STDOUT_FILENO, path: "standard output")
                let result = try await session.copy(dataset, format: format) { try output.writeAll($0) }
                files.append(.init(path: "-", dataset: dataset.kind.rawValue, rows: result.rows, bytes: result.bytes, relation: nil))
            case .directory(let folder):
                for (dataset, relation) in datasets {
                    let path = dataset.path + "." + format.fileExtension
                    let output = try FileOutput.create(folder: folder, path: path)
                    do {
                        let result = try await session.copy(dataset, format: format) { try output.writeAll($0) }
                        try output.commit()
                        files.append(.init(
                            path: path, dataset: dataset.kind.rawValue, rows: result.rows, bytes: result.bytes,
                            relation: relation.map(Self.manifestRelation)))
                        logger.info("Exported", metadata: ["export.file": "\(path)", "export.rows": "\(result.rows)"])
                    } catch {
                        output.discard()
                        throw error
                    }
                }
            }
            let sources = try await session.dataSources().map {
                ExportManifest.DataSource(id: $0.id.uuidString.lowercased(), name: $0.name, configured: $0.configured)
            }
            return (session.snapshotTime, sources, files)
        }

        let finished = Date()
        let manifest = ExportManifest(
            format: options.format.rawValue, exportedAt: snapshotTime, finishedAt: finished,
            seconds: finished.timeIntervalSince(started), schema: configuration.postgres.schema,
            viewsSchema: configuration.postgres.viewsSchema, dataSources: dataSources,
            lastRun: lastRun.map { .init(runID: $0.runID, outcome: $0.outcome, finishedAt: $0.finishedAt) }, files: files)
        if case .directory(let folder) = destination {
            let output = try FileOutput.create(folder: folder, path: "manifest.json")
            do {
                try Data((manifest.json() + "\n").utf8).withUnsafeBytes { try output.writeAll($0) }
                try output.commit()
            } catch {
                output.discard()
                throw error
            }
        }
        logger.info("Export finished", metadata: [
            "export.files": "\(files.count)", "export.rows": "\(manifest.totalRows)",
            "export.seconds": "\(String(format: "%.3f", manifest.seconds))",
        ])
        return manifest
    }

    /// The relations `names` pick (every one when empty), each name a join view or a property name.
    static func choose(_ names: [String], from catalog: [RelationCatalogEntry]) throws -> [RelationCatalogEntry] {
        guard !names.isEmpty else { return catalog }
        var chosen: [RelationCatalogEntry] = []
        for name in names {
            var matches = catalog.filter { $0.joinView == name }
            if matches.isEmpty { matches = catalog.filter { $0.propertyName == name } }
            if matches.isEmpty { matches = catalog.filter { $0.propertyName.lowercased() == name.lowercased() } }
            guard !matches.isEmpty else { throw ExportError.unknownRelation(name, available: catalog.map(\.joinView)) }
            guard matches.count == 1 else { throw ExportError.ambiguousRelation(name, matches: matches.map(\.joinView)) }
            if !chosen.contains(where: { $0.key == matches[0].key }) { chosen.append(matches[0]) }
        }
        return chosen
    }

    static func manifestRelation(_ entry: RelationCatalogEntry) -> ExportManifest.Relation {
        ExportManifest.Relation(
            sourceDataSourceID: entry.sourceDataSourceID.uuidString.lowercased(), sourceDataSourceName: entry.sourceName,
            propertyID: entry.propertyID, propertyName: entry.propertyName,
            targetDataSourceID: entry.targetDataSourceID?.uuidString.lowercased(), targetDataSourceName: entry.targetName,
            kind: entry.kind.rawValue, joinView: entry.joinView)
    }
}

/// A file being written with plain `write(2)` calls: as `<path>.partial` until `commit()`
/// renames it into place, so a failed export never leaves a file that looks complete.
final class FileOutput: Sendable {
    let descriptor: Int32
    let path: String
    let partialPath: String?

    init(descriptor: Int32, path: String, partialPath: String? = nil) {
        self.descriptor = descriptor
        self.path = path
        self.partialPath = partialPath
    }

    /// Creates `<folder>/<path>.partial` (and the folders on the way).
    static func create(folder: String, path: String) throws -> FileOutput {
        let target = URL(fileURLWithPath: folder).appendingPathComponent(path)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw ExportError.cannotWrite(path: target.deletingLastPathComponent().path, reason: "the folder cannot be created")
        }
        let partial = target.path + ".partial"
        let descriptor = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ExportError.cannotWrite(path: partial, reason: String(cString: strerror(errno)))
        }
        return FileOutput(descriptor: descriptor, path: target.path, partialPath: partial)
    }

    /// Writes all of `bytes`, retrying short writes and interrupted calls.
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(descriptor, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw ExportError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            remaining -= written
            base += written
        }
    }

    /// Flushes, closes and renames the file into place.
    func commit() throws {
        guard let partialPath else { return }
        if fsync(descriptor) != 0 || close(descriptor) != 0 {
            throw ExportError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        if rename(partialPath, path) != 0 {
            throw ExportError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Closes and removes the partial file.
    func discard() {
        guard let partialPath else { return }
        close(descriptor)
        unlink(partialPath)
    }
}
