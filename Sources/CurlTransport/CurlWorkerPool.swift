import Dispatch
import Foundation
import Synchronization

/// Dedicated threads that run blocking `curl_easy_perform` calls, off Swift's cooperative pool.
///
/// Each worker thread creates one `CurlEasy` on first use and keeps it for its whole life, so the
/// handle (and the keep-alive connections libcurl caches inside it) is reused by every request
/// that worker runs, and never crosses a thread. Workers are started on demand, up to
/// `maximumWorkers`; requests beyond that wait in a FIFO queue. `shutdown()` lets the workers
/// finish and exit, freeing their handles.
final class CurlWorkerPool: Sendable {
    /// Runs on a worker thread with that worker's handle (`nil` if libcurl could not create one),
    /// and returns the delivery of its result, which the worker calls once it is idle again.
    typealias Job = @Sendable (CurlEasy?) -> @Sendable () -> Void

    private struct State {
        var queue: [Job] = []
        /// Workers started and not yet exited.
        var workers = 0
        /// Workers waiting for, or about to wait for, a job.
        var idle = 0
        var isShutDown = false
    }

    private let state = Mutex(State())
    /// Signalled once per queued job, and once per worker at shutdown.
    private let wakeup = DispatchSemaphore(value: 0)
    private let maximumWorkers: Int
    private let name: String

    init(maximumWorkers: Int, name: String) {
        self.maximumWorkers = max(1, maximumWorkers)
        self.name = name
    }

    func submit(_ job: @escaping Job) {
        let startWorker = state.withLock { state -> Bool in
            precondition(!state.isShutDown, "CurlWorkerPool used after shutdown")
            state.queue.append(job)
            guard state.queue.count > state.idle, state.workers < maximumWorkers else { return false }
            state.workers += 1
            state.idle += 1
            return true
        }
        if startWorker {
            let thread = Thread { [self] in runWorker() }
            thread.name = name
            thread.start()
        }
        wakeup.signal()
    }

    /// Asks every worker to exit once the queue is empty. Called when the owning transport is
    /// released, by which time no request can be in flight.
    func shutdown() {
        let workers = state.withLock { state -> Int in
            state.isShutDown = true
            return state.workers
        }
        for _ in 0..<workers { wakeup.signal() }
    }

    private func runWorker() {
        var easy: CurlEasy?
        while true {
            wakeup.wait()
            let next = state.withLock { state -> Job? in
                state.idle -= 1
                if state.queue.isEmpty {
                    // Only shutdown signals without a job.
                    state.workers -= 1
                    return nil
                }
                return state.queue.removeFirst()
            }
            guard let job = next else { return }
            if easy == nil { easy = try? CurlEasy() }
            let deliver = job(easy)
            // Idle before the caller resumes, so that a caller sending requests one after the
            // other finds this worker (and its open connection) instead of starting another.
            state.withLock { $0.idle += 1 }
            deliver()
        }
    }
}
