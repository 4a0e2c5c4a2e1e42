import NotionClient
import PostgresStore
import TransportKit

/// The one place that turns an error into relsync's exit code and its one-line message.
///
/// Exit codes (sysexits, PRODUCT.md): 0 done; 64 bad command line; 78 bad config; 77 Notion
/// refused the token or lacks access; 69 Notion or PostgreSQL unavailable after retries; 75
/// another run holds the lock; 1 anything else.
public enum Failure {
    public static let usage: Int32 = 64
    public static let config: Int32 = 78
    public static let noPermission: Int32 = 77
    public static let unavailable: Int32 = 69
    public static let tempFail: Int32 = 75
    public static let other: Int32 = 1

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
            if error.isConnectionFailure {
                return (unavailable, "PostgreSQL unavailable: \(error)")
            }
            return (other, "PostgreSQL: \(error)")
        case let error as TransportError:
            return (unavailable, "Notion unavailable: \(error)")
        default:
            return (other, String(describing: error))
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
