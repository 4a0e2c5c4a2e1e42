import NotionClient
import PostgresStore
import TransportKit

/// The one place that turns an error into relsync's exit code and its one-line message.
///
/// Exit codes (sysexits, PRODUCT.md): 0 done; 64 bad command line; 78 bad config; 77 Notion
/// refused the token or lacks access, or PostgreSQL refused the login or a privilege; 69 Notion
/// or PostgreSQL unavailable after retries; 75 another run holds the lock; 130 / 143 stopped
/// by SIGINT / SIGTERM (the run recorded as failed); 1 anything else.
public enum Failure {
    public static let usage: Int32 = 64
    public static let config: Int32 = 78
    public static let noPermission: Int32 = 77
    public static let unavailable: Int32 = 69
    public static let tempFail: Int32 = 75
    public static let other: Int32 = 1
    /// 128 + the signal number, as shells report a process the signal ended.
    public static let interrupted: Int32 = 130
    public static let terminated: Int32 = 143

    public static func classify(_ error: any Error, redactor: Redactor) -> (code: Int32, message: String) {
        let (code, message) = classify(error)
        return (code, redactor.scrub(message))
    }

    static func classify(_ error: any Error) -> (Int32, String) {
        switch error {
        case let error as ConfigError:
            return (config, "config: \(error)")
        case let error as SyncError:
            switch error {
            case .lockHeld: return (tempFail, String(describing: error))
            case .sourceNotFound: return (noPermission, String(describing: error))
            case .migrationsPending: return (other, String(describing: error))
            }
        case let error as NotionError:
            return classifyNotion(error)
        case let error as StoreError:
            return classifyStore(error)
        case let error as TransportError:
            return (unavailable, "Notion unavailable: \(error)")
        default:
            return (other, String(describing: error))
        }
    }

    /// PostgreSQL: a refused login or a missing privilege is a permission problem (77); a
    /// broken or unreachable connection, a statement cancelled by `statement_timeout`, and an
    /// exhausted resource (disk full, out of memory, too many connections) make the database
    /// unavailable for now (69). The run's transaction was rolled back in every case.
    static func classifyStore(_ error: StoreError) -> (Int32, String) {
        if error.code == .authentication {
            return (noPermission, "PostgreSQL refused the login: \(error.message) (check postgres.url, PGUSER / PGPASSWORD and pg_hba.conf)")
        }
        if error.isConnectionFailure {
            return (unavailable, "PostgreSQL unavailable: \(error)")
        }
        switch error.sqlState {
        case "42501"?:
            return (noPermission, "PostgreSQL denied a privilege the role needs (\(error.message)); see docs/SECURITY.md for the role relsync needs")
        case "57014"?:
            return (unavailable, "PostgreSQL cancelled a statement: \(error.message) (postgres.statement_timeout bounds each one); its transaction was rolled back, the next run retries")
        case let state? where state.hasPrefix("53"):
            let what = state == "53100" ? "out of disk space" : state == "53200" ? "out of memory" : state == "53300" ? "out of connections" : "out of a resource"
            return (unavailable, "PostgreSQL is \(what) (SQLSTATE \(state): \(error.message)); nothing of the failed transaction was kept, the next run retries")
        default:
            return (other, "PostgreSQL: \(error)")
        }
    }

    static func classifyNotion(_ error: NotionError) -> (Int32, String) {
        switch error.status {
        case 401:
            return (noPermission, "Notion refused the token (401 unauthorized): check notion.token / NOTION_TOKEN")
        case 403:
            return (noPermission, "Notion denied access (403): \(error)")
        default:
            break
        }
        if error.isUnavailable {
            return (unavailable, "Notion unavailable: \(error)")
        }
        return (other, "Notion: \(error)")
    }
}

extension NotionError {
    /// Notion could not be reached or kept failing: exit 69, the run can be tried later.
    var isUnavailable: Bool {
        switch kind {
        case .requestBlocked, .retriesExhausted, .transport:
            return true
        case .api(let status, _, _, _, _), .unexpectedResponse(let status, _, _):
            return status == 429 || status >= 500
        case .decoding, .invalidID, .queryCapExceeded:
            return false
        }
    }
}
