import Foundation
import SyncKit
import Synchronization

/// A one-line progress display on stderr, only when stderr is a terminal (never in cron logs).
enum TerminalProgress {
    private static let active = Mutex(false)

    static func reporterIfTTY() -> (@Sendable (ProgressEvent) -> Void)? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        return { event in
            let line: String
            switch event {
            case .readingDataSource(let name, let index, let count):
                line = "reading \(name) (\(index)/\(count))"
            case .pagesRead(let name, let pages):
                line = "\(name): \(pages) pages read"
            case .completingRelations(let name, let done, let total):
                line = "\(name): completing relations past 25 — \(done)/\(total)"
            case .applying(let name):
                line = "\(name): applying to PostgreSQL"
            case .writingSummaries(let done, let total):
                line = "writing summaries to Notion — \(done)/\(total)"
            }
            active.withLock { isActive in
                isActive = true
                FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
            }
        }
    }

    static func clear() {
        active.withLock { isActive in
            if isActive { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
            isActive = false
        }
    }
}
