import Foundation

/// What a figure is held to.
enum Target: Sendable, Equatable {
    /// No target: the figure is reported for information.
    case none
    /// figure / floor ≤ limit.
    case ratioAtMost(Double)
    /// figure / floor ≥ limit (throughput: more is better).
    case ratioAtLeast(Double)
    /// figure ≤ limit, in the figure's unit.
    case valueAtMost(Double)

    var text: String {
        switch self {
        case .none: return "—"
        case .ratioAtMost(let limit): return "≤ \(format(limit, decimals: 2))×"
        case .ratioAtLeast(let limit): return "≥ \(format(limit, decimals: 2))×"
        case .valueAtMost(let limit): return "≤ \(format(limit, decimals: limit == limit.rounded() ? 0 : 2))"
        }
    }
}

extension Target: Codable {
    private enum CodingKeys: String, CodingKey { case kind, limit, text }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .none: try c.encode("none", forKey: .kind)
        case .ratioAtMost(let limit): try c.encode("ratio_at_most", forKey: .kind); try c.encode(limit, forKey: .limit)
        case .ratioAtLeast(let limit): try c.encode("ratio_at_least", forKey: .kind); try c.encode(limit, forKey: .limit)
        case .valueAtMost(let limit): try c.encode("value_at_most", forKey: .kind); try c.encode(limit, forKey: .limit)
        }
        try c.encode(text, forKey: .text)
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let limit = try c.decodeIfPresent(Double.self, forKey: .limit) ?? 0
        switch try c.decode(String.self, forKey: .kind) {
        case "ratio_at_most": self = .ratioAtMost(limit)
        case "ratio_at_least": self = .ratioAtLeast(limit)
        case "value_at_most": self = .valueAtMost(limit)
        default: self = .none
        }
    }
}

enum Verdict: String, Sendable, Codable {
    case pass = "PASS"
    case above = "ABOVE"
    /// No target applies (information only).
    case info = "INFO"
    /// The run did not produce the right result (edges missing, a failed exit): its figure means nothing.
    case failed = "FAILED"
}

/// One measured figure, its floor, their ratio and the verdict against the target.
struct Figure: Sendable, Codable {
    /// calls, walltime, postgres, memory, throughput.
    var bench: String
    var name: String
    var value: Double
    var unit: String
    var floor: Double?
    /// What the floor is, e.g. "forward-pagination optimum".
    var floorName: String
    var ratio: Double?
    var target: Target
    var verdict: Verdict
    /// What else was seen: totals, 429s, the tool's own view, why a figure is what it is.
    var notes: [String]

    init(bench: String, name: String, value: Double, unit: String, floor: Double?, floorName: String,
         target: Target, correct: Bool = true, notes: [String] = []) {
        self.bench = bench
        self.name = name
        self.value = value
        self.unit = unit
        self.floor = floor
        self.floorName = floorName
        if let floor, floor > 0 { ratio = value / floor } else if let floor, floor == 0 { ratio = value == 0 ? 1 : nil } else { ratio = nil }
        self.target = target
        self.notes = notes
        if !correct {
            verdict = .failed
            return
        }
        switch target {
        case .none:
            verdict = .info
        case .ratioAtMost(let limit):
            if let ratio { verdict = ratio <= limit + 1e-9 ? .pass : .above } else { verdict = value <= 0 ? .pass : .above }
        case .ratioAtLeast(let limit):
            verdict = (ratio ?? 0) >= limit - 1e-9 ? .pass : .above
        case .valueAtMost(let limit):
            verdict = value <= limit + 1e-9 ? .pass : .above
        }
    }

    /// `figure / floor / ratio / target / verdict` on one line.
    var line: String {
        let valueText = "\(format(value, decimals: decimals(for: unit))) \(unit)"
        let floorText = floor.map { "\(format($0, decimals: decimals(for: unit))) \(unit) (\(floorName))" } ?? "— (\(floorName))"
        let ratioText = ratio.map { format($0, decimals: 3) + "×" } ?? "—"
        return "[\(bench)] \(name)\n    figure \(valueText)  ·  floor \(floorText)  ·  ratio \(ratioText)  ·  target \(target.text)  ·  \(verdict.rawValue)"
            + notes.map { "\n    note: \($0)" }.joined()
    }
}

func decimals(for unit: String) -> Int {
    switch unit {
    case "s": return 2
    case "MB": return 1
    case "pages/s": return 0
    default: return 0
    }
}

func format(_ value: Double, decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

/// Every figure of one invocation, printed as they come and written at the end.
final class Results: @unchecked Sendable {
    // @unchecked: appended to from the one task that runs the benchmarks, one after another.
    private let lock = NSLock()
    private(set) var figures: [Figure] = []
    let started = Date()

    func add(_ figure: Figure) {
        lock.lock()
        figures.append(figure)
        lock.unlock()
        print(figure.line)
        flushStandardOutput()
    }

    func add(_ figures: [Figure]) { figures.forEach(add) }

    struct Document: Codable {
        var started: Date
        var finished: Date
        var quick: Bool
        var host: Host
        var relsync: String
        var strategies: [String]
        var figures: [Figure]
    }

    struct Host: Codable {
        var cpus: Int
        var memoryGB: Double
        var kernel: String
    }

    static func host() -> Host {
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Host(cpus: ProcessInfo.processInfo.activeProcessorCount,
                    memoryGB: (Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824 * 10).rounded() / 10,
                    kernel: release)
    }

    func write(json path: String?, markdown markdownPath: String?, quick: Bool, relsync: String, strategies: [String]) throws {
        let document = Document(started: started, finished: Date(), quick: quick, host: Self.host(), relsync: relsync,
                                strategies: strategies, figures: figures)
        if let path {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            try encoder.encode(document).write(to: URL(fileURLWithPath: path))
            print("wrote \(path)")
        }
        if let markdownPath {
            try markdown(document).write(toFile: markdownPath, atomically: true, encoding: .utf8)
            print("wrote \(markdownPath)")
        }
    }

    func markdown(_ document: Document) -> String {
        var lines: [String] = []
        let when = ISO8601DateFormatter().string(from: document.started)
        lines.append("relsync-bench\(document.quick ? " --quick" : ""), \(when), \(document.host.cpus) CPUs, "
            + "\(document.host.memoryGB) GB, Linux \(document.host.kernel); relations strategies: "
            + (document.strategies.isEmpty ? "the binary's default only (it has no --relations-strategy flag)" : document.strategies.joined(separator: ", ")))
        lines.append("")
        lines.append("| bench | figure | value | floor | ratio | target | verdict |")
        lines.append("|---|---|---:|---:|---:|---|---|")
        for f in document.figures {
            let d = decimals(for: f.unit)
            let floor = f.floor.map { "\(format($0, decimals: d)) \(f.unit) (\(f.floorName))" } ?? "— (\(f.floorName))"
            lines.append("| \(f.bench) | \(f.name) | \(format(f.value, decimals: d)) \(f.unit) | \(floor) | "
                + "\(f.ratio.map { format($0, decimals: 3) + "×" } ?? "—") | \(f.target.text) | \(f.verdict.rawValue) |")
        }
        let noted = document.figures.filter { !$0.notes.isEmpty }
        if !noted.isEmpty {
            lines.append("")
            lines.append("Notes:")
            for f in noted {
                lines.append("- \(f.bench) · \(f.name): " + f.notes.joined(separator: "; "))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Lines appear as each figure is measured, also when stdout is a pipe (make, tee).
func flushStandardOutput() {
    fflush(nil)
}
