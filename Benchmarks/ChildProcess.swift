import Foundation
import Glibc

/// What one child process did, measured from outside.
struct ChildResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    /// From just before spawn to the moment it was reaped.
    var wallSeconds: Double
    /// Peak resident set size of the child's own address space (VmHWM), in KiB.
    var maxRSSKiB: Int

    var maxRSSMB: Double { Double(maxRSSKiB) / 1024 }

    /// The last non-empty stderr line, for error messages.
    var lastError: String {
        stderr.split(separator: "\n").last.map(String.init) ?? "(no output on stderr)"
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs executables with posix_spawn and reaps them with wait4. Output goes to files (no pipes
/// to drain). The wait polls with WNOHANG from an async task, so the simulator, served from this
/// process, keeps every thread it has.
///
/// Peak RSS: `ru_maxrss` from wait4 cannot be used. glibc's posix_spawn starts the child with
/// clone(CLONE_VM|CLONE_VFORK), and exec folds the high-water mark of the address space it
/// leaves (this process's, hundreds of MB while a 1M-edge simulator runs here) into the child's
/// maxrss. So the wait loop reads the kernel's high-water mark of the child's own address space,
/// `VmHWM` in /proc/<pid>/status, every 2 ms; being a high-water mark it already holds any peak
/// between two reads, and only growth in the last 2 ms before exit could be missed.
enum Child {
    static func run(_ path: String, _ arguments: [String], environment: [String: String],
                    directory: URL) async throws -> ChildResult {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let outPath = directory.appendingPathComponent("stdout-\(UInt32.random(in: 0...UInt32.max))").path
        let errPath = directory.appendingPathComponent("stderr-\(UInt32.random(in: 0...UInt32.max))").path
        defer {
            unlink(outPath)
            unlink(errPath)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }

        let clock = ContinuousClock()
        let start = clock.now
        var pid: pid_t = 0
        let spawned = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envBuffer in
                posix_spawn(&pid, path, &actions, nil, argvBuffer.baseAddress!, envBuffer.baseAddress!)
            }
        }
        guard spawned == 0 else {
            throw BenchError("could not start \(path): \(String(cString: strerror(spawned)))")
        }

        var status: Int32 = 0
        var usage = rusage()
        var peakKiB = 0
        let statusPath = "/proc/\(pid)/status"
        while true {
            if let hwm = highWaterMarkKiB(statusPath) { peakKiB = max(peakKiB, hwm) }
            let reaped = wait4(pid, &status, WNOHANG, &usage)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR {
                throw BenchError("wait4 failed for \(path): \(String(cString: strerror(errno)))")
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        let elapsed = clock.now - start
        let exited = (status & 0x7f) == 0
        let code: Int32 = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ChildResult(
            status: code,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
            wallSeconds: seconds(elapsed),
            maxRSSKiB: peakKiB)
    }

    /// `VmHWM` of a live process, in KiB; nil once it has exited. (posix_spawn returns after the
    /// child's exec, so this is always relsync's own, fresh address space.)
    static func highWaterMarkKiB(_ statusPath: String) -> Int? {
        guard let text = try? String(contentsOfFile: statusPath, encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    }
}

func seconds(_ duration: Duration) -> Double {
    let c = duration.components
    return Double(c.seconds) + Double(c.attoseconds) / 1e18
}

/// Times an async operation on the monotonic clock.
func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try await body()
    return (value, seconds(clock.now - start))
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
