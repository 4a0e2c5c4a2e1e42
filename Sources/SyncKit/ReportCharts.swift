import Foundation

/// Inline SVG charts for the HTML report: no script, no external resource. Every data mark has
/// the class `mark` and a `<title>` (the browser shows it on hover).
enum ReportChart {
    static let blue = "#3b6fd4"
    static let orange = "#e8833a"
    static let green = "#2e9e5b"
    static let red = "#d64545"
    static let grid = "#e3e7ee"
    static let ink = "#2b3240"
    static let muted = "#6b7485"

    /// Vertical bars, one per category, with the value above each bar; with `boundaryAfter`, a
    /// dashed line after that category, labelled `boundaryLabel`.
    static func bars(
        categories: [String], values: [Int], colors: [String], width: Int = 440, height: Int = 200,
        boundaryAfter: Int? = nil, boundaryLabel: String = "", caption: String
    ) -> String {
        let left = 40.0, right = 8.0, top = 22.0, bottom = 28.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let scale = NiceScale(maximum: values.max() ?? 0)
        var svg = open(width: width, height: height, caption: caption)
        svg += axisY(scale: scale, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight)
        let slot = plotWidth / Double(max(1, categories.count))
        for (index, category) in categories.enumerated() {
            let value = values[index]
            let barHeight = value == 0 ? 0 : max(1.5, plotHeight * Double(value) / scale.top)
            let x = left + slot * Double(index) + slot * 0.14
            let y = top + plotHeight - barHeight
            if value > 0 {
                svg += rect(x: x, y: y, width: slot * 0.72, height: barHeight, fill: colors[index], title: "\(category): \(count(value))")
                svg += text(x: x + slot * 0.36, y: y - 3, size: 10, anchor: "middle", fill: ink, compact(value))
            }
            svg += text(x: x + slot * 0.36, y: top + plotHeight + 13, size: 10, anchor: "middle", fill: muted, category)
        }
        if let boundary = boundaryAfter {
            let x = left + slot * Double(boundary + 1)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-dasharray=\"3 3\"/>",
                          x, top - 6, x, top + plotHeight, orange)
            svg += text(x: x + 3, y: top - 2, size: 9, anchor: "start", fill: orange, boundaryLabel)
        }
        svg += line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, stroke: muted)
        return svg + "</svg>"
    }

    /// Horizontal bars with a label on the left and a note after each bar.
    static func horizontalBars(labels: [String], values: [Int], notes: [String], width: Int = 960, caption: String) -> String {
        let rowHeight = 26.0, top = 8.0, labelWidth = 330.0, noteWidth = 190.0
        let height = Int(top * 2 + rowHeight * Double(max(1, labels.count)))
        let plotWidth = Double(width) - labelWidth - noteWidth
        let maximum = Double(max(1, values.max() ?? 0))
        var svg = open(width: width, height: height, caption: caption)
        if labels.isEmpty { return svg + empty(width: width, height: height) + "</svg>" }
        for (index, label) in labels.enumerated() {
            let y = top + rowHeight * Double(index)
            let barWidth = values[index] == 0 ? 0 : max(2, plotWidth * Double(values[index]) / maximum)
            svg += text(x: labelWidth - 8, y: y + rowHeight * 0.62, size: 12, anchor: "end", fill: ink, truncated(label, 48))
            svg += rect(x: labelWidth, y: y + 4, width: barWidth, height: rowHeight - 8, fill: blue,
                        title: "\(label): \(count(values[index])) edges")
            svg += text(x: labelWidth + barWidth + 6, y: y + rowHeight * 0.62, size: 11, anchor: "start", fill: muted, notes[index])
        }
        return svg + "</svg>"
    }

    /// Per day: added above the axis (green), removed below (red), each side on its own scale.
    /// A day far above the others (the first sync, which adds every edge) would flatten the
    /// rest: the scale then follows the other days, and that bar is cut at the top, marked with
    /// a break and labelled with its value.
    static func diverging(days: [String], up: [Int], down: [Int], width: Int = 960, height: Int = 270, caption: String) -> String {
        let left = 56.0, right = 12.0, top = 28.0, bottom = 30.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let upScale = NiceScale(maximum: outlierCap(up)), downScale = NiceScale(maximum: outlierCap(down))
        // Each side gets a share of the height by its scale, but never less than a quarter.
        let share = min(0.75, max(0.25, upScale.top / (upScale.top + downScale.top)))
        let axisY = top + plotHeight * share
        var svg = open(width: width, height: height, caption: caption)
        for (value, y, sign) in [(upScale.top, top, "+"), (downScale.top, top + plotHeight, "−")] {
            svg += line(x1: left, y1: y, x2: left + plotWidth, y2: y, stroke: grid)
            svg += text(x: left - 6, y: y + 4, size: 10, anchor: "end", fill: muted, sign + compact(Int(value)))
        }
        let slot = plotWidth / Double(max(1, days.count))
        let every = max(1, Int((Double(days.count) / 10).rounded(.up)))
        for (index, day) in days.enumerated() {
            let x = left + slot * Double(index) + slot * 0.12, barWidth = slot * 0.76
            if up[index] > 0 {
                let cut = Double(up[index]) > upScale.top
                let h = cut ? axisY - top : max(1.5, (axisY - top) * Double(up[index]) / upScale.top)
                svg += rect(x: x, y: axisY - h, width: barWidth, height: h, fill: green, title: "\(day): \(count(up[index])) added")
                if cut { svg += breakMark(x: x, y: top + 10, width: barWidth, label: compact(up[index]), labelY: top - 4) }
            }
            if down[index] > 0 {
                let cut = Double(down[index]) > downScale.top
                let h = cut ? top + plotHeight - axisY : max(1.5, (top + plotHeight - axisY) * Double(down[index]) / downScale.top)
                svg += rect(x: x, y: axisY, width: barWidth, height: h, fill: red, title: "\(day): \(count(down[index])) removed")
                if cut { svg += breakMark(x: x, y: top + plotHeight - 14, width: barWidth, label: compact(down[index]), labelY: top + plotHeight + 28) }
            }
            if index % every == 0 || index == days.count - 1 {
                svg += text(x: x + barWidth / 2, y: top + plotHeight + 16, size: 10, anchor: "middle", fill: muted, String(day.suffix(5)))
            }
        }
        svg += line(x1: left, y1: axisY, x2: left + plotWidth, y2: axisY, stroke: muted)
        svg += legend([("added", green), ("removed", red)], x: left + plotWidth - 150, y: 2)
        return svg + "</svg>"
    }

    /// The value a scale should reach: the largest, unless it is more than 4× the second
    /// largest; then 1.25× the second largest (the outlier is drawn cut).
    static func outlierCap(_ values: [Int]) -> Int {
        let sorted = values.filter { $0 > 0 }.sorted(by: >)
        guard sorted.count >= 2, sorted[0] > 4 * sorted[1] else { return sorted.first ?? 0 }
        return Int((Double(sorted[1]) * 1.25).rounded(.up))
    }

    /// Two white slashes across a cut bar, and its true value beside it.
    static func breakMark(x: Double, y: Double, width: Double, label: String, labelY: Double) -> String {
        var svg = ""
        for offset in [0.0, 5.0] {
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ffffff\" stroke-width=\"2\"/>",
                          x - 1, y + offset + 3, x + width + 1, y + offset - 3)
        }
        return svg + text(x: x + width / 2, y: labelY, size: 10, anchor: "middle", fill: ink, label)
    }

    /// Per run: API calls as bars, the rate-limited (429) ones stacked on top in red.
    static func runCalls(runs: [(label: String, calls: Int, rateLimited: Int, failed: Bool)], width: Int = 960, height: Int = 250, caption: String) -> String {
        let left = 56.0, right = 12.0, top = 24.0, bottom = 30.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let scale = NiceScale(maximum: runs.map(\.calls).max() ?? 0)
        var svg = open(width: width, height: height, caption: caption)
        svg += axisY(scale: scale, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight)
        let slot = plotWidth / Double(max(1, runs.count))
        let every = max(1, Int((Double(runs.count) / 12).rounded(.up)))
        for (index, run) in runs.enumerated() {
            let x = left + slot * Double(index) + slot * 0.14
            let ok = max(0, run.calls - run.rateLimited)
            let okHeight = run.calls == 0 ? 0 : max(1.5, plotHeight * Double(ok) / scale.top)
            let limitedHeight = run.rateLimited == 0 ? 0 : max(1.5, plotHeight * Double(run.rateLimited) / scale.top)
            let base = top + plotHeight
            let title = "run \(run.label): \(count(run.calls)) calls, \(count(run.rateLimited)) rate-limited (429)\(run.failed ? ", failed" : "")"
            svg += rect(x: x, y: base - okHeight, width: slot * 0.72, height: max(okHeight, 0.0001), fill: run.failed ? muted : blue, title: title)
            if limitedHeight > 0 {
                svg += rect(x: x, y: base - okHeight - limitedHeight, width: slot * 0.72, height: limitedHeight, fill: red, title: title)
            }
            if index % every == 0 || index == runs.count - 1 {
                svg += text(x: x + slot * 0.36, y: base + 16, size: 10, anchor: "middle", fill: muted, "#" + run.label)
            }
        }
        svg += line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, stroke: muted)
        svg += legend([("API calls", blue), ("429 rate-limited", red), ("failed run", muted)], x: left + plotWidth - 330, y: 2)
        return svg + "</svg>"
    }

    /// Per run: duration as a line with a dot per run (failed runs in red).
    static func runDurations(runs: [(label: String, seconds: Double, failed: Bool)], width: Int = 960, height: Int = 220, caption: String) -> String {
        let left = 56.0, right = 12.0, top = 14.0, bottom = 30.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let scale = NiceScale(maximum: Int((runs.map(\.seconds).max() ?? 0).rounded(.up)), unit: "s")
        var svg = open(width: width, height: height, caption: caption)
        svg += axisY(scale: scale, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight)
        let slot = plotWidth / Double(max(1, runs.count))
        let points = runs.enumerated().map { index, run in
            (x: left + slot * (Double(index) + 0.5), y: top + plotHeight - plotHeight * run.seconds / scale.top)
        }
        if points.count > 1 {
            let path = points.map { String(format: "%.1f,%.1f", $0.x, $0.y) }.joined(separator: " ")
            svg += "<polyline class=\"mark\" points=\"\(path)\" fill=\"none\" stroke=\"\(blue)\" stroke-width=\"2\"/>"
        }
        let every = max(1, Int((Double(runs.count) / 12).rounded(.up)))
        for (index, run) in runs.enumerated() {
            let point = points[index]
            svg += String(format: "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%@\">", point.x, point.y, run.failed ? red : blue)
            svg += "<title>\(escape("run \(run.label): \(String(format: "%.1f", run.seconds)) s\(run.failed ? ", failed" : "")"))</title></circle>"
            if index % every == 0 || index == runs.count - 1 {
                svg += text(x: point.x, y: top + plotHeight + 16, size: 10, anchor: "middle", fill: muted, "#" + run.label)
            }
        }
        svg += line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, stroke: muted)
        return svg + "</svg>"
    }

    // MARK: - Pieces

    static func open(width: Int, height: Int, caption: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(caption))\"><title>\(escape(caption))</title>"
    }

    static func empty(width: Int, height: Int) -> String {
        text(x: Double(width) / 2, y: Double(height) / 2, size: 12, anchor: "middle", fill: muted, "no data yet")
    }

    static func axisY(scale: NiceScale, left: Double, top: Double, plotWidth: Double, plotHeight: Double) -> String {
        var svg = ""
        for tick in scale.ticks {
            let y = top + plotHeight - plotHeight * tick / scale.top
            svg += line(x1: left, y1: y, x2: left + plotWidth, y2: y, stroke: grid)
            svg += text(x: left - 6, y: y + 3.5, size: 10, anchor: "end", fill: muted, compact(Int(tick)) + scale.unit)
        }
        return svg
    }

    static func legend(_ items: [(String, String)], x: Double, y: Double) -> String {
        var svg = "", offset = x
        for (label, color) in items {
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%@\"/>", offset, y, color)
            svg += text(x: offset + 14, y: y + 9, size: 11, anchor: "start", fill: ink, label)
            offset += 24 + Double(label.count) * 6.2
        }
        return svg
    }

    static func rect(x: Double, y: Double, width: Double, height: Double, fill: String, title: String) -> String {
        String(format: "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\" rx=\"1.5\">", x, y, max(0, width), max(0, height), fill)
            + "<title>\(escape(title))</title></rect>"
    }

    static func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String) -> String {
        String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"1\"/>", x1, y1, x2, y2, stroke)
    }

    static func text(x: Double, y: Double, size: Int, anchor: String, fill: String, _ content: String) -> String {
        String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%@\" fill=\"%@\">", x, y, size, anchor, fill)
            + escape(content) + "</text>"
    }

    /// Escapes text for HTML and SVG content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func truncated(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    static func count(_ value: Int) -> String { StatusReport.count(value) }

    /// 1234 → "1.2k", 1500000 → "1.5M".
    static func compact(_ value: Int) -> String {
        let magnitude = Double(value.magnitude)
        if magnitude < 1_000 { return String(value) }
        if magnitude < 1_000_000 { return trimmed(Double(value) / 1_000) + "k" }
        return trimmed(Double(value) / 1_000_000) + "M"
    }

    private static func trimmed(_ value: Double) -> String {
        let text = String(format: value.magnitude < 10 ? "%.1f" : "%.0f", value)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}

/// An axis from 0 to a round number at or above the maximum, with 4 or 5 round ticks.
struct NiceScale {
    let top: Double
    let ticks: [Double]
    let unit: String

    init(maximum: Int, unit: String = "") {
        self.unit = unit
        let value = Double(max(1, maximum))
        let raw = value / 4
        let power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        let roundedStep = max(1, step.rounded(.up))
        top = (value / roundedStep).rounded(.up) * roundedStep
        ticks = stride(from: 0, through: top, by: roundedStep).map { $0 }
    }
}
