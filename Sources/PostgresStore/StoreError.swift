/// The one error type of PostgresStore.
///
/// `description` is a single readable line meant for the CLI: it never contains a password
/// (libpq's connection messages are scrubbed) nor the values bound to a statement (they are
/// redacted from the server's messages). `debugDescription` adds the detail, hint and SQL text.
public struct StoreError: Error, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is. New codes can be added without breaking the API.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connection, authentication, server, `protocol`, migration, invalidInput
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The connection could not be opened, or broke (or was closed) while in use.
        public static let connection = Code(.connection)
        /// The server refused the login: wrong password, unknown role or database, no
        /// pg_hba.conf entry. Repeating it will not help.
        public static let authentication = Code(.authentication)
        /// The server reported an error (see `sqlState`).
        public static let server = Code(.server)
        /// libpq or the server did something this client did not expect.
        public static let `protocol` = Code(.protocol)
        /// A migration is inconsistent with what the database recorded (e.g. a changed checksum).
        public static let migration = Code(.migration)
        /// The caller passed something PostgresStore cannot store (e.g. a 64-byte identifier).
        public static let invalidInput = Code(.invalidInput)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The five-character SQLSTATE, when the server sent one (e.g. "23505").
    public var sqlState: String?
    /// The primary message, on one line.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The violated constraint's name, for integrity errors.
    public var constraint: String?
    /// The SQL text that failed; only in `debugDescription`.
    public var query: String?

    public init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil, query: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.query = query
    }

    /// The connection is unusable: opening it failed, it broke, or the server is shutting down
    /// (SQLSTATE class 08, 57P01–57P03).
    public var isConnectionFailure: Bool {
        if code == .connection || code == .authentication { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    /// Repeating the work (on a new connection, where `isConnectionFailure`) may succeed:
    /// connection failures other than a refused login, serialization failures (40001) and
    /// deadlocks (40P01).
    public var isRetryable: Bool {
        if code == .authentication { return false }
        if isConnectionFailure { return true }
        return sqlState == "40001" || sqlState == "40P01"
    }

    public var description: String {
        switch code {
        case .connection:
            return "PostgreSQL connection failed: \(message)"
        case .authentication:
            return "PostgreSQL refused the connection: \(message)"
        case .server:
            var text = "PostgreSQL error"
            if let sqlState { text += " \(sqlState)" }
            text += ": \(message)"
            if let constraint { text += " (constraint \(constraint))" }
            return text
        case .protocol:
            return "PostgreSQL protocol error: \(message)"
        default:
            return message
        }
    }

    public var debugDescription: String {
        var text = description
        if let detail { text += " | detail: \(detail)" }
        if let hint { text += " | hint: \(hint)" }
        if let query { text += " | query: \(StoreError.oneLine(query))" }
        return text
    }

    /// Collapses multi-line text (SQL) to one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    /// Collapses libpq's multi-line messages ("…failed: Connection refused\n\tIs the server
    /// running…") to one line, ending each former line as a sentence.
    static func sentence(_ text: String) -> String {
        var result = ""
        for line in text.split(whereSeparator: \.isNewline).map({ $0.trimmingWhitespace() }) where !line.isEmpty {
            if let last = result.last {
                result += ".,:;!?".contains(last) ? " " : ". "
            }
            result += line
        }
        return result
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Removes secrets (passwords, bind values) from text that will end up in an error message.
///
/// Values of four or more characters are removed wherever they occur; shorter ones only
/// where PostgreSQL quotes a value (`"v"`, `(v)`, `'v'`), so that a one-letter value does
/// not mangle the rest of the sentence.
struct SecretRedactor: Sendable {
    static let placeholder = "<redacted>"
    private let secrets: [String]

    init(secrets: [String]) {
        // Longest first, so a secret that contains another is removed whole.
        self.secrets = Set(secrets.filter { !$0.isEmpty }).sorted { $0.count > $1.count }
    }

    func redact(_ text: String) -> String {
        var text = text
        for secret in secrets {
            if secret.count >= 4 {
                text = text.replacing(secret, with: Self.placeholder)
            } else {
                for (open, close) in [("\"", "\""), ("(", ")"), ("'", "'")] {
                    text = text.replacing(open + secret + close, with: open + Self.placeholder + close)
                }
            }
        }
        return text
    }

    func redact(_ text: String?) -> String? { text.map { redact($0) } }
}
