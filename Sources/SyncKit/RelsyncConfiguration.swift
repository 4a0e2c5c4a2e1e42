public import Foundation
public import NotionClient
import Yams

/// The parsed, validated contents of `relsync.yaml`. See README "Configuration".
public struct RelsyncConfiguration: Sendable {
    public struct Notion: Sendable {
        public var token: String
        public var baseURL: String
        public var version: String
        public var rateLimit: RateLimit
        public var maxConcurrentRequests: Int
        public var timeoutSeconds: Int
        public var maxAttempts: Int
    }

    public struct Postgres: Sendable {
        /// A libpq URI or key=value conninfo; nil means libpq's PG* variables and ~/.pgpass.
        public var url: String?
        public var schema: String
        public var viewsSchema: String
        /// `postgres.statement_timeout`: the longest any one statement may run or wait for a
        /// lock; nil (the default): no limit beyond the server's own.
        public var statementTimeout: Duration? = nil
    }

    public enum Source: Sendable, Hashable {
        case dataSource(String)
        case database(String)
    }

    public enum SummaryFormat: String, Sendable, CaseIterable {
        case names, json, mentions
    }

    public struct WriteBack: Sendable, Hashable {
        public var relation: String
        public var property: String
        public var format: SummaryFormat
    }

    public struct SyncEntry: Sendable {
        public var source: Source
        /// Relation property names to materialize; nil means every relation property.
        public var relations: [String]?
        public var writeBack: [WriteBack]
        /// Where the entry starts in the file, for error messages.
        public var line: Int?
    }

    public var notion: Notion
    public var postgres: Postgres
    public var sync: [SyncEntry]
    /// How often a run reads every page instead of only those edited since the watermark (a full
    /// read is what notices trashed and deleted pages). nil: only with `--full`.
    public var fullSweepEvery: Duration?
    /// The file this came from (for messages).
    public var path: String

    /// The secrets this configuration holds, so output can be scrubbed of them.
    public var secrets: [String] {
        var values = [notion.token]
        if let password = postgres.url.flatMap(Self.password(inConninfo:)) { values.append(password) }
        if let env = ProcessInfo.processInfo.environment["PGPASSWORD"] { values.append(env) }
        return values.filter { $0.count >= 4 }
    }

    /// The password in a libpq URI (`postgresql://user:pw@host/db`) or conninfo (`password=pw`).
    static func password(inConninfo conninfo: String) -> String? {
        if let range = conninfo.range(of: "://") {
            let rest = conninfo[range.upperBound...]
            guard let at = rest.firstIndex(of: "@") else { return nil }
            let userInfo = rest[..<at]
            guard let colon = userInfo.firstIndex(of: ":") else { return nil }
            let raw = String(userInfo[userInfo.index(after: colon)...])
            return raw.removingPercentEncoding ?? raw
        }
        for part in conninfo.split(separator: " ") where part.hasPrefix("password=") {
            var value = String(part.dropFirst("password=".count))
            if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }
}

extension RelsyncConfiguration {
    /// Reads and validates a config file, expanding `${VAR}` from `environment`.
    /// - Parameter needsNotion: false for commands that only read PostgreSQL (`status`, `export`,
    ///   `report`, `prune-history`, `migrate`): a BI user's machine need not hold the Notion
    ///   token, so a missing or unset `notion.token` is then left empty instead of failing.
    public static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        needsNotion: Bool = true
    ) throws(ConfigError) -> RelsyncConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            if !FileManager.default.fileExists(atPath: path) {
                throw ConfigError(file: path, "config file not found")
            }
            throw ConfigError(file: path, "config file cannot be read (check its permissions and that it is UTF-8)")
        }
        return try parse(yaml: text, path: path, environment: environment, needsNotion: needsNotion)
    }

    /// Parses config text. `path` only labels messages.
    public static func parse(
        yaml: String,
        path: String,
        environment: [String: String],
        needsNotion: Bool = true
    ) throws(ConfigError) -> RelsyncConfiguration {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigError(file: path, "config file is empty")
            }
            root = node
        } catch let error as ConfigError {
            throw error
        } catch let error as YamlError {
            throw ConfigError(file: path, line: yamlErrorLine(error), "not valid YAML: \(yamlErrorSummary(error))")
        } catch {
            throw ConfigError(file: path, "not valid YAML")
        }
        let reader = ConfigReader(path: path, environment: environment, needsNotion: needsNotion)
        return try reader.read(root)
    }

    private static func yamlErrorLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func yamlErrorSummary(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return String(describing: error).split(separator: "\n").first.map(String.init) ?? "syntax error"
        }
    }
}

/// Walks the YAML node tree with line-accurate messages.
private struct ConfigReader {
    let path: String
    let environment: [String: String]
    /// false: the command never calls Notion, so the token may be missing or unset.
    let needsNotion: Bool

    func fail(_ node: Node?, _ message: String) -> ConfigError {
        ConfigError(file: path, line: node?.mark.map { $0.line }, message)
    }

    func mapping(_ node: Node, at key: String) throws(ConfigError) -> [(key: String, keyNode: Node, value: Node)] {
        guard case .mapping(let mapping) = node else {
            throw fail(node, "\(key) must be a mapping of keys to values")
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        var seen = Set<String>()
        for (k, v) in mapping {
            guard let name = k.scalar?.string else { throw fail(k, "\(key) has a key that is not a plain string") }
            if !seen.insert(name).inserted { throw fail(k, "\(key).\(name) is given twice") }
            pairs.append((name, k, v))
        }
        return pairs
    }

    func checkKeys(_ pairs: [(key: String, keyNode: Node, value: Node)], allowed: [String], at context: String) throws(ConfigError) {
        for pair in pairs where !allowed.contains(pair.key) {
            let where_ = context.isEmpty ? pair.key : "\(context).\(pair.key)"
            if let suggestion = Suggestion.closest(to: pair.key, among: allowed) {
                throw fail(pair.keyNode, "unknown key \(where_) (did you mean \(suggestion)?)")
            }
            throw fail(pair.keyNode, "unknown key \(where_) (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }

    /// A scalar as a string, with `${VAR}` expanded.
    func string(_ node: Node, at key: String) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw fail(node, "\(key) must be a single value") }
        return try expand(scalar.string, node: node, key: key)
    }

    func expand(_ text: String, node: Node, key: String) throws(ConfigError) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw fail(node, "\(key) has an unclosed ${ (write ${NAME})")
            }
            let name = String(rest[start.upperBound..<end])
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw fail(node, "\(key) refers to ${\(name)}, which is not a valid environment variable name")
            }
            guard let value = environment[name] else {
                throw fail(node, "\(key) refers to ${\(name)}, which is not set in the environment")
            }
            out += value
            rest = rest[rest.index(after: end)...]
        }
        out += rest
        return out
    }

    func int(_ node: Node, at key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string(node, at: key)
        guard let value = Int(text), range.contains(value) else {
            throw fail(node, "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(text)\"")
        }
        return value
    }

    func double(_ node: Node, at key: String, above minimum: Double) throws(ConfigError) -> Double {
        let text = try string(node, at: key)
        guard let value = Double(text), value > minimum, value.isFinite else {
            throw fail(node, "\(key) must be a number above \(minimum), not \"\(text)\"")
        }
        return value
    }

    func bool(_ node: Node, at key: String) throws(ConfigError) -> Bool {
        switch try string(node, at: key).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let other: throw fail(node, "\(key) must be true or false, not \"\(other)\"")
        }
    }

    func stringList(_ node: Node, at key: String) throws(ConfigError) -> [String] {
        switch node {
        case .sequence(let seq):
            var out: [String] = []
            for item in seq { out.append(try string(item, at: key)) }
            return out
        case .scalar:
            return [try string(node, at: key)]
        default:
            throw fail(node, "\(key) must be a list")
        }
    }

    func notionID(_ node: Node, at key: String) throws(ConfigError) -> String {
        let raw = try string(node, at: key).trimmingCharacters(in: .whitespaces)
        guard let id = NotionID.normalize(raw) else {
            throw fail(node, "\(key) \"\(raw)\" is not a Notion id (32 hex digits, with or without dashes)")
        }
        return id
    }

    func read(_ root: Node) throws(ConfigError) -> RelsyncConfiguration {
        let top = try mapping(root, at: "the config file")
        try checkKeys(top, allowed: ["notion", "postgres", "sync", "reconcile"], at: "")
        guard let notionNode = top.first(where: { $0.key == "notion" })?.value else {
            throw fail(root, "the notion: section is missing")
        }
        guard let syncNode = top.first(where: { $0.key == "sync" })?.value else {
            throw fail(root, "the sync: section is missing (list the data sources to sync)")
        }
        let notion = try readNotion(notionNode)
        let postgres = try readPostgres(top.first(where: { $0.key == "postgres" })?.value)
        let sync = try readSync(syncNode)
        let sweep = try readReconcile(top.first(where: { $0.key == "reconcile" })?.value)
        return RelsyncConfiguration(notion: notion, postgres: postgres, sync: sync, fullSweepEvery: sweep, path: path)
    }

    /// `reconcile: {full_sweep_every: 24h}`; default 24 h, `0` or `never` for only `--full`.
    func readReconcile(_ node: Node?) throws(ConfigError) -> Duration? {
        let fallback: Duration? = .seconds(24 * 3600)
        guard let node else { return fallback }
        let pairs = try mapping(node, at: "reconcile")
        try checkKeys(pairs, allowed: ["full_sweep_every"], at: "reconcile")
        guard let value = pairs.first(where: { $0.key == "full_sweep_every" })?.value else { return fallback }
        let text = try string(value, at: "reconcile.full_sweep_every").trimmingCharacters(in: .whitespaces).lowercased()
        if text == "0" || text == "never" { return nil }
        let units: [(String, Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            if let number = Int(text.dropLast()), number > 0 { return .seconds(number * seconds) }
        }
        throw fail(value, "reconcile.full_sweep_every must be a duration such as 24h, 90m or 1d (or never), not \"\(text)\"")
    }

    func readNotion(_ node: Node) throws(ConfigError) -> RelsyncConfiguration.Notion {
        let pairs = try mapping(node, at: "notion")
        let allowed = [
            "token", "base_url", "version", "requests_per_second", "burst", "requests_per_window",
            "window_seconds", "max_concurrent_requests", "timeout_seconds", "max_attempts", "allow_insecure_http",
        ]
        try checkKeys(pairs, allowed: allowed, at: "notion")
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }

        let token: String
        if needsNotion {
            guard let tokenNode = value("token") else {
                throw fail(node, "notion.token is missing (write token: ${NOTION_TOKEN} and export the variable)")
            }
            token = try string(tokenNode, at: "notion.token").trimmingCharacters(in: .whitespacesAndNewlines)
            if token.isEmpty { throw fail(tokenNode, "notion.token is empty") }
        } else {
            // Never sent anywhere by a PostgreSQL-only command; kept when set, for the redactor.
            token = value("token").flatMap { try? string($0, at: "notion.token") }?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }

        var baseURL = "https://api.notion.com"
        if let n = value("base_url") { baseURL = try string(n, at: "notion.base_url") }
        while baseURL.hasSuffix("/") { baseURL.removeLast() }
        let allowInsecure = try value("allow_insecure_http").map { n throws(ConfigError) in try bool(n, at: "notion.allow_insecure_http") } ?? false
        try checkBaseURL(baseURL, allowInsecure: allowInsecure, node: value("base_url") ?? node)

        var version = "2025-09-03"
        if let n = value("version") {
            version = try string(n, at: "notion.version")
            let parts = version.split(separator: "-")
            guard parts.count == 3, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) else {
                throw fail(n, "notion.version must be a Notion-Version date such as \"2025-09-03\", not \"\(version)\"")
            }
        }

        let rateLimit: RateLimit
        let rps = value("requests_per_second")
        let window = value("requests_per_window")
        switch (rps, window) {
        case (_?, _?):
            throw fail(window, "give either notion.requests_per_second or notion.requests_per_window, not both")
        case (nil, let windowNode?):
            let requests = try int(windowNode, at: "notion.requests_per_window", range: 1...1_000_000)
            guard let secondsNode = value("window_seconds") else {
                throw fail(windowNode, "notion.requests_per_window needs notion.window_seconds (60 in Notion's 2026 wording)")
            }
            let seconds = try double(secondsNode, at: "notion.window_seconds", above: 0)
            if let burst = value("burst") { throw fail(burst, "notion.burst goes with requests_per_second, not with the window model") }
            rateLimit = .window(requests: requests, seconds: seconds)
        case (let rpsNode?, nil):
            let perSecond = try double(rpsNode, at: "notion.requests_per_second", above: 0)
            let burst = try value("burst").map { n throws(ConfigError) in try int(n, at: "notion.burst", range: 1...10_000) }
                ?? max(1, Int(perSecond.rounded(.up)))
            if let w = value("window_seconds") { throw fail(w, "notion.window_seconds goes with requests_per_window") }
            rateLimit = perSecond.isInfinite ? .unlimited : .average(requestsPerSecond: perSecond, burst: burst)
        case (nil, nil):
            if let w = value("window_seconds") { throw fail(w, "notion.window_seconds goes with requests_per_window") }
            let burst = try value("burst").map { n throws(ConfigError) in try int(n, at: "notion.burst", range: 1...10_000) } ?? 3
            rateLimit = .average(requestsPerSecond: 3, burst: burst)
        }

        let concurrency = try value("max_concurrent_requests").map { n throws(ConfigError) in
            try int(n, at: "notion.max_concurrent_requests", range: 1...64)
        } ?? 3
        let timeout = try value("timeout_seconds").map { n throws(ConfigError) in
            try int(n, at: "notion.timeout_seconds", range: 1...3600)
        } ?? 75
        let attempts = try value("max_attempts").map { n throws(ConfigError) in
            try int(n, at: "notion.max_attempts", range: 1...100)
        } ?? 10
        return .init(
            token: token, baseURL: baseURL, version: version, rateLimit: rateLimit,
            maxConcurrentRequests: concurrency, timeoutSeconds: timeout, maxAttempts: attempts)
    }

    /// TLS is on for Notion; plain http only to loopback (tests, the simulator) unless allowed.
    func checkBaseURL(_ url: String, allowInsecure: Bool, node: Node) throws(ConfigError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw fail(node, "notion.base_url \"\(url)\" is not a URL such as https://api.notion.com")
        }
        switch scheme {
        case "https":
            return
        case "http":
            if Self.isLoopback(host) || allowInsecure { return }
            throw fail(node, "notion.base_url uses plain http to \(host); only loopback addresses may (set notion.allow_insecure_http: true to override)")
        default:
            throw fail(node, "notion.base_url must start with https:// (not \(scheme)://)")
        }
    }

    /// `localhost`, an IPv4 literal in 127.0.0.0/8, or `::1`: never a name that merely starts
    /// with "127." (`127.0.0.1.example.com` resolves anywhere).
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in
            !octet.isEmpty && octet.count <= 3 && octet.allSatisfy(\.isASCII) && octet.allSatisfy(\.isNumber)
                && (Int(octet) ?? 256) <= 255
        }
    }

    func readPostgres(_ node: Node?) throws(ConfigError) -> RelsyncConfiguration.Postgres {
        var result = RelsyncConfiguration.Postgres(url: nil, schema: "relsync", viewsSchema: "notion")
        guard let node else { return result }
        let pairs = try mapping(node, at: "postgres")
        try checkKeys(pairs, allowed: ["url", "schema", "views_schema", "statement_timeout"], at: "postgres")
        for (key, _, value) in pairs {
            switch key {
            case "statement_timeout":
                result.statementTimeout = try statementTimeout(value)
            case "url":
                let url = try string(value, at: "postgres.url").trimmingCharacters(in: .whitespaces)
                result.url = url.isEmpty ? nil : url
            case "schema":
                result.schema = try schemaName(value, at: "postgres.schema")
            default:
                result.viewsSchema = try schemaName(value, at: "postgres.views_schema")
            }
        }
        if result.schema == result.viewsSchema {
            throw fail(node, "postgres.schema and postgres.views_schema must differ (both are \"\(result.schema)\")")
        }
        return result
    }

    /// `postgres.statement_timeout`: 1500ms, 30s, 5m, 1h, or 0 / off for no limit.
    func statementTimeout(_ node: Node) throws(ConfigError) -> Duration? {
        let key = "postgres.statement_timeout"
        let text = try string(node, at: key).trimmingCharacters(in: .whitespaces).lowercased()
        if text == "0" || text == "off" { return nil }
        let units: [(String, Int64)] = [("ms", 1), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            if let number = Int64(text.dropLast(suffix.count)), number > 0, number <= 24 * 3_600_000 / milliseconds {
                return .milliseconds(number * milliseconds)
            }
            break
        }
        throw fail(node, "\(key) must be a duration such as 30s, 1500ms or 5m (or off), not \"\(text)\"")
    }

    func schemaName(_ node: Node, at key: String) throws(ConfigError) -> String {
        let name = try string(node, at: key)
        guard !name.isEmpty, name.utf8.count <= 63, !name.contains("\u{0}") else {
            throw fail(node, "\(key) must be 1 to 63 bytes long")
        }
        if name.lowercased().hasPrefix("pg_") {
            throw fail(node, "\(key) \"\(name)\" is reserved by PostgreSQL (names starting pg_)")
        }
        return name
    }

    func readSync(_ node: Node) throws(ConfigError) -> [RelsyncConfiguration.SyncEntry] {
        guard case .sequence(let items) = node, !items.isEmpty else {
            throw fail(node, "sync must be a non-empty list of data sources (- data_source: <id>)")
        }
        var entries: [RelsyncConfiguration.SyncEntry] = []
        var seen = Set<RelsyncConfiguration.Source>()
        for (index, item) in items.enumerated() {
            let at = "sync[\(index)]"
            let pairs = try mapping(item, at: at)
            try checkKeys(pairs, allowed: ["data_source", "database", "relations", "write_back"], at: at)
            func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
            let source: RelsyncConfiguration.Source
            switch (value("data_source"), value("database")) {
            case (let ds?, nil): source = .dataSource(try notionID(ds, at: "\(at).data_source"))
            case (nil, let db?): source = .database(try notionID(db, at: "\(at).database"))
            case (_?, _?): throw fail(item, "\(at) gives both data_source and database; give one")
            case (nil, nil): throw fail(item, "\(at) needs data_source: <id> or database: <id>")
            }
            if !seen.insert(source).inserted { throw fail(item, "\(at) repeats a source listed earlier") }
            let relations = try value("relations").map { n throws(ConfigError) in try stringList(n, at: "\(at).relations") }
            if let relations, relations.isEmpty { throw fail(value("relations"), "\(at).relations is empty (omit it to sync every relation)") }
            var writeBacks: [RelsyncConfiguration.WriteBack] = []
            if let wb = value("write_back") {
                guard case .sequence(let wbItems) = wb else { throw fail(wb, "\(at).write_back must be a list") }
                for (j, wbItem) in wbItems.enumerated() {
                    let wat = "\(at).write_back[\(j)]"
                    let wpairs = try mapping(wbItem, at: wat)
                    try checkKeys(wpairs, allowed: ["relation", "property", "format"], at: wat)
                    func wvalue(_ key: String) -> Node? { wpairs.first { $0.key == key }?.value }
                    guard let rel = wvalue("relation") else { throw fail(wbItem, "\(wat).relation is missing") }
                    guard let prop = wvalue("property") else { throw fail(wbItem, "\(wat).property is missing") }
                    let relation = try string(rel, at: "\(wat).relation")
                    let property = try string(prop, at: "\(wat).property")
                    var format = RelsyncConfiguration.SummaryFormat.names
                    if let f = wvalue("format") {
                        let text = try string(f, at: "\(wat).format")
                        guard let parsed = RelsyncConfiguration.SummaryFormat(rawValue: text) else {
                            throw fail(f, "\(wat).format must be names, json or mentions, not \"\(text)\"")
                        }
                        format = parsed
                    }
                    if let relations, !relations.contains(relation) {
                        throw fail(rel, "\(wat).relation \"\(relation)\" is not in \(at).relations")
                    }
                    writeBacks.append(.init(relation: relation, property: property, format: format))
                }
            }
            entries.append(.init(source: source, relations: relations, writeBack: writeBacks, line: item.mark?.line))
        }
        return entries
    }
}

/// "Did you mean" for unknown keys: the allowed key at the smallest edit distance, if close.
enum Suggestion {
    static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.count / 3) ? best.0 : nil
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
