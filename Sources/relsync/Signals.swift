import Dispatch
import Foundation
import Logging
import SyncKit
import Synchronization

/// SIGTERM (systemd stopping the unit, `kill`) and SIGINT (Ctrl-C) during a run.
///
/// The first signal cancels the run's task: Notion requests in flight are aborted, no new
/// request or transaction starts, the PostgreSQL transaction in progress runs to its end
/// (each is one data source's apply, or one summary record; none is left half-applied), the
/// run is recorded as failed, and relsync exits 143 (SIGTERM) or 130 (SIGINT) with one line
/// on stderr. A second signal exits at once; PostgreSQL rolls back whatever transaction the
/// dropped connection had open.
enum Signals {
    /// The run was stopped by a signal.
    struct Stopped: Error, CustomStringConvertible {
        var signal: Int32

        var name: String { signal == SIGINT ? "SIGINT" : "SIGTERM" }
        var exitCode: Int32 { signal == SIGINT ? Failure.interrupted : Failure.terminated }
        var description: String {
            "stopped by \(name): the run was cancelled and recorded as failed; the next run finishes the work"
        }
    }

    /// The signal received first, if any.
    private static let received = Mutex<Int32?>(nil)
    private static let queue = DispatchQueue(label: "relsync.signals")

    private enum Outcome<T: Sendable>: Sendable {
        case done(T)
        case signal(Int32)
        case none
    }

    /// Runs `work` until it ends, or until SIGTERM or SIGINT arrives: then cancels it, waits
    /// for it to unwind, and throws `Stopped`.
    static func stoppable<T: Sendable>(
        logger: Logger, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            // Handled by the dispatch source below, not by the default action (terminate).
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let first = received.withLock { current -> Bool in
                    guard current == nil else { return false }
                    current = number
                    return true
                }
                guard first else {
                    FileHandle.standardError.write(Data("relsync: \(Stopped(signal: number).name) again: exiting at once\n".utf8))
                    _exit(Stopped(signal: number).exitCode)
                }
                continuation.yield(number)
            }
            source.resume()
            sources.append(source)
        }
        defer {
            continuation.finish()
            for source in sources { source.cancel() }
        }

        return try await withThrowingTaskGroup(of: Outcome<T>.self) { group in
            group.addTask { .done(try await work()) }
            group.addTask {
                for await number in stream { return .signal(number) }
                return .none
            }
            while let outcome = try await group.next() {
                switch outcome {
                case .done(let value):
                    group.cancelAll()
                    return value
                case .signal(let number):
                    let stopped = Stopped(signal: number)
                    // info, not notice: the one line a failure prints comes at the end.
                    logger.info(
                        "stopping: cancelling the run after the PostgreSQL transaction in progress",
                        metadata: ["signal": "\(stopped.name)"])
                    group.cancelAll()
                    // Wait for the run to unwind (it records itself as failed); its own error,
                    // a CancellationError, is not the news.
                    while true {
                        do {
                            guard try await group.next() != nil else { break }
                        } catch {
                            continue
                        }
                    }
                    throw stopped
                case .none:
                    continue
                }
            }
            throw CancellationError()
        }
    }
}
