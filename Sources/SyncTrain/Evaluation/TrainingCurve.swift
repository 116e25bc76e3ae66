import Foundation

/// A self-contained SVG line chart of a training log: the loss of every update (light) and its moving average
/// (dark) against the update index, with the Dice part scaled the same way on a second line.
public enum TrainingCurve {
    public static func svg(_ steps: [StepRecord], title: String, window: Int = 50) -> String {
        let w = 720.0, h = 360.0, left = 60.0, right = 20.0, top = 40.0, bottom = 40.0
        guard steps.count > 1 else { return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\"/>" }
        let loss = steps.map(\.loss)
        let smooth = movingAverage(loss, window: window)
        let diceTerm = movingAverage(steps.map { 20 * $0.dice }, window: window)
        let maxY = (loss.sorted()[Int(Double(loss.count - 1) * 0.99)]) * 1.05
        let n = Double(steps.count - 1)
        func x(_ i: Int) -> Double { left + Double(i) / n * (w - left - right) }
        func y(_ v: Double) -> Double { top + (1 - min(v, maxY) / maxY) * (h - top - bottom) }
        func path(_ v: [Double], _ color: String, _ width: Double, _ opacity: Double) -> String {
            let d = v.enumerated().map { String(format: "%@%.1f,%.1f", $0.offset == 0 ? "M" : "L", x($0.offset), y($0.element)) }.joined()
            return "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\" stroke-opacity=\"\(opacity)\"/>\n"
        }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(left)\" y=\"20\" font-size=\"14\">\(title)</text>\n"
        for k in 0...4 {
            let v = maxY * Double(k) / 4
            out += String(format: "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left, y(v), w - right, y(v))
            out += String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", left - 6, y(v) + 4, v)
        }
        for k in 0...4 {
            let i = Int(n * Double(k) / 4)
            out += String(format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>\n", x(i), h - bottom + 16, i)
        }
        out += "<text x=\"\(w / 2)\" y=\"\(h - 6)\" text-anchor=\"middle\">optimiser update</text>\n"
        out += path(loss, "#1f77b4", 0.6, 0.25)
        out += path(smooth, "#1f77b4", 2, 1)
        out += path(diceTerm, "#d62728", 1.5, 1)
        out += "<text x=\"\(w - right - 260)\" y=\"\(top + 12)\" fill=\"#1f77b4\">loss 20·Dice + Focal (moving average \(window))</text>\n"
        out += "<text x=\"\(w - right - 260)\" y=\"\(top + 28)\" fill=\"#d62728\">20·Dice part (moving average)</text>\n"
        return out + "</svg>\n"
    }

    static func movingAverage(_ v: [Double], window: Int) -> [Double] {
        var out: [Double] = [], sum = 0.0
        for (i, x) in v.enumerated() {
            sum += x
            if i >= window { sum -= v[i - window] }
            out.append(sum / Double(min(i + 1, window)))
        }
        return out
    }
}
