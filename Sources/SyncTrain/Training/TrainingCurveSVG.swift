import Foundation

/// Draws a `TrainingCurve` as a standalone SVG: two panels over the same epoch axis, the loss
/// (20 x Dice + Focal) above and the soft Dice score below; thin lines for the binned updates, dots joined by a
/// thick line for the epoch means. Plain SVG 1.1, no scripts or external resources.
public enum TrainingCurveSVG {
    public static func render(_ curve: TrainingCurve, title: String, totalEpochs: Int? = nil) -> String {
        let width = 820.0, panelHeight = 230.0, left = 64.0, right = 20.0, top = 44.0, gap = 46.0
        let plotWidth = width - left - right
        let height = top + 2 * panelHeight + gap + 40
        let points = curve.points, epochs = curve.epochs.filter { $0.count > 0 }
        let xMax = Double(max(totalEpochs ?? 0, curve.epochs.count, 1))
        func sx(_ x: Double) -> Double { left + plotWidth * min(max(x / xMax, 0), 1) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left))" y="24" font-size="15" font-weight="bold">\(escape(title))</text>

        """
        let panels: [(name: String, value: (TrainingCurve.Point) -> Double, color: String, fixed: ClosedRange<Double>?)] = [
            ("loss (20 x Dice + Focal)", { $0.loss }, "#c0392b", nil),
            ("soft Dice", { $0.dice }, "#1f6fb2", 0...1),
        ]
        for (k, panel) in panels.enumerated() {
            let y0 = top + Double(k) * (panelHeight + gap)
            let values = (points + epochs).map(panel.value).filter(\.isFinite)
            let range = panel.fixed ?? niceRange(values)
            func sy(_ v: Double) -> Double {
                let t = (v - range.lowerBound) / max(range.upperBound - range.lowerBound, 1e-12)
                return y0 + panelHeight * (1 - min(max(t, 0), 1))
            }
            svg += "<g>\n<rect x=\"\(f(left))\" y=\"\(f(y0))\" width=\"\(f(plotWidth))\" height=\"\(f(panelHeight))\" fill=\"none\" stroke=\"#888\"/>\n"
            svg += "<text x=\"\(f(left + 6))\" y=\"\(f(y0 + 16))\" fill=\"\(panel.color)\">\(escape(panel.name))</text>\n"
            for i in 0...4 {
                let v = range.lowerBound + (range.upperBound - range.lowerBound) * Double(i) / 4
                svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotWidth))\" y1=\"\(f(sy(v)))\" y2=\"\(f(sy(v)))\" stroke=\"#eee\"/>"
                svg += "<text x=\"\(f(left - 6))\" y=\"\(f(sy(v) + 4))\" text-anchor=\"end\">\(label(v))</text>\n"
            }
            let step = max(1, Int((xMax / 12).rounded(.up)))
            for e in stride(from: 0, through: Int(xMax), by: step) {
                let x = sx(Double(e))
                svg += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(y0))\" y2=\"\(f(y0 + panelHeight))\" stroke=\"#eee\"/>"
                svg += "<text x=\"\(f(x))\" y=\"\(f(y0 + panelHeight + 15))\" text-anchor=\"middle\">\(e)</text>\n"
            }
            if !points.isEmpty {
                let line = points.map { "\(f(sx($0.x))),\(f(sy(panel.value($0))))" }.joined(separator: " ")
                svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(panel.color)\" stroke-opacity=\"0.35\" stroke-width=\"1\"/>\n"
            }
            if !epochs.isEmpty {
                let line = epochs.map { "\(f(sx($0.x))),\(f(sy(panel.value($0))))" }.joined(separator: " ")
                svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(panel.color)\" stroke-width=\"2.5\"/>\n"
                for e in epochs {
                    svg += "<circle cx=\"\(f(sx(e.x)))\" cy=\"\(f(sy(panel.value(e))))\" r=\"3.5\" fill=\"\(panel.color)\"><title>epoch mean \(String(format: "%.4g", panel.value(e)))</title></circle>\n"
                }
            }
            svg += "</g>\n"
        }
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">epoch (\(curve.updates) updates; thin: means of \(curve.binSize) update(s), thick: epoch means)</text>\n</svg>\n"
        return svg
    }

    /// Writes the SVG atomically (a viewer never sees half a file).
    public static func write(_ curve: TrainingCurve, title: String, totalEpochs: Int?, to url: URL) throws {
        try Data(render(curve, title: title, totalEpochs: totalEpochs).utf8).write(to: url, options: .atomic)
    }

    /// [0, a round number above the maximum] (loss values are positive).
    static func niceRange(_ values: [Double]) -> ClosedRange<Double> {
        let top = values.max() ?? 1
        guard top > 0 else { return 0...1 }
        let magnitude = pow(10, floor(log10(top)))
        let nice = [1.0, 2, 2.5, 5, 10].first { $0 * magnitude >= top } ?? 10
        return 0...(nice * magnitude)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func label(_ v: Double) -> String { abs(v) >= 10 || v == 0 ? String(format: "%.0f", v) : String(format: "%.3g", v) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
