/// Failures of a run that are neither config, Notion nor PostgreSQL errors.
public enum SyncError: Error, Sendable, CustomStringConvertible {
    /// Another run holds the advisory lock for this schema and source set.
    case lockHeld(schema: String)
    /// A configured data source or database that Notion says does not exist or is not shared.
    case sourceNotFound(kind: String, id: String)
    /// `--dry-run` cannot apply migrations, and cannot plan against an old schema.
    case migrationsPending([String])

    public var description: String {
        switch self {
        case .lockHeld(let schema):
            return "another relsync run holds the lock for schema \"\(schema)\" and these sources; try again when it ends (or pass --wait)"
        case .sourceNotFound(let kind, let id):
            return "Notion has no \(kind) \(id) shared with this integration (404): check the id and share it with the integration (… → Connections)"
        case .migrationsPending(let names):
            return "the database schema is behind this relsync (pending: \(names.joined(separator: ", "))); run relsync migrate first"
        }
    }
}
