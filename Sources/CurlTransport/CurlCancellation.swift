import Synchronization

/// Set when the task awaiting a request is cancelled. Worker threads read it before starting the
/// transfer and from libcurl's progress callback (called about once a second, or more often while
/// data flows), which then aborts the transfer.
final class CurlCancellation: Sendable {
    private let cancelled = Atomic<Bool>(false)

    init() {}

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    var isCancelled: Bool {
        cancelled.load(ordering: .relaxed)
    }
}
