import Foundation

/// The tables of an evaluation, laid out like the SyncSAM paper's: Table 2 (methods x Bbox / 1 pt / 5 pts DSC),
/// Table 3 (per modality) and Table 4 (per dataset), plus a table of every metric (DSC, IoU, NSD, HD95). DSC, IoU
/// and NSD in %, HD95 in mm, each "mean ± sd over seeds". Also CSV (one row per cell) and JSON.
public struct EvaluationReport: Codable, Sendable {
    public var title: String
    /// Lines describing the run (data, split, selection, prompts, seeds, spacing, command), printed as a list.
    public var notes: [String]
    public var summary: EvaluationSummary
    /// NSD tolerance in mm (for the column heading).
    public var nsdTolerance: Double?

    public init(title: String, notes: [String], summary: EvaluationSummary, nsdTolerance: Double?) {
        self.title = title; self.notes = notes; self.summary = summary; self.nsdTolerance = nsdTolerance
    }

    /// The display name of a method: baselines are marked as such.
    public static func displayName(_ method: String) -> String {
        switch BaselinePredictor(rawValue: method) {
        case .ellipse: return "Ellipse in box (baseline)"
        case .filledBox: return "Filled box (baseline)"
        case nil: return method
        }
    }

    static func percent(_ s: SeedStatistic?) -> String {
        guard let s else { return "–" }
        return String(format: "%.1f ± %.1f", 100 * s.mean, 100 * s.sd)
    }

    static func mm(_ s: SeedStatistic?) -> String {
        guard let s else { return "–" }
        return String(format: "%.2f ± %.2f", s.mean, s.sd)
    }

    /// The whole report as Markdown.
    public func markdown() -> String {
        let s = summary
        var out = "# \(title)\n\n"
        for n in notes { out += "- \(n)\n" }
        out += "- Aggregation: \(s.aggregation == .perMask ? "mean over masks (SPEC 7.1)" : "mean over the masks of each image, then over images (SPEC 7.2)"); "
        out += "\(s.seeds.count) seed(s) \(s.seeds.map(String.init).joined(separator: ", ")), mean ± sample SD over seeds.\n"
        if s.methods.contains(where: { BaselinePredictor(rawValue: $0) != nil }) {
            out += "- Baselines see only the evaluation box; they are defined for box prompts only (\"n/a\" under point prompts).\n"
        }
        out += "\n## DSC (%) by prompt (layout of the paper's Table 2)\n\n"
        out += "| Method | " + s.modes.map(\.heading).joined(separator: " | ") + " |\n"
        out += "|---|" + s.modes.map { _ in "---:|" }.joined() + "\n"
        for m in s.methods {
            let isBaseline = BaselinePredictor(rawValue: m) != nil
            out += "| \(Self.displayName(m)) | " + s.modes.map { mode in
                if isBaseline && mode != .box { return "n/a" }
                return Self.percent(s.cell(m, mode)?.dice)
            }.joined(separator: " | ") + " |\n"
        }
        let tol = nsdTolerance.map { String(format: "NSD@%gmm (%%)", $0) } ?? "NSD (%)"
        out += "\n## All metrics\n\n| Method | Prompt | masks | images | DSC (%) | IoU (%) | \(tol) | HD95 (mm) | HD95 undefined |\n"
        out += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for m in s.methods {
            for mode in s.modes {
                guard let c = s.cell(m, mode) else { continue }
                out += "| \(Self.displayName(m)) | \(mode.heading) | \(c.masks) | \(c.images) | \(Self.percent(c.dice)) | "
                out += "\(Self.percent(c.iou)) | \(Self.percent(c.nsd)) | \(Self.mm(c.hd95)) | \(String(format: "%g", c.hd95Undefined)) |\n"
            }
        }
        for (kind, heading) in [("modality", "DSC (%) per modality (layout of the paper's Table 3)"),
                                ("dataset", "DSC (%) per dataset (layout of the paper's Table 4)")] {
            let groups = s.groups(kind)
            guard !groups.isEmpty else { continue }
            out += "\n## \(heading)\n\n| Method | Prompt | " + groups.joined(separator: " | ") + " |\n"
            out += "|---|---|" + groups.map { _ in "---:|" }.joined() + "\n"
            out += "| masks | | " + groups.map { g in
                String(s.cells.first { $0.group == "\(kind):\(g)" }?.masks ?? 0)
            }.joined(separator: " | ") + " |\n"
            for m in s.methods {
                for mode in s.modes where s.cell(m, mode) != nil {
                    out += "| \(Self.displayName(m)) | \(mode.heading) | " + groups.map {
                        Self.percent(s.cell(m, mode, group: "\(kind):\($0)")?.dice)
                    }.joined(separator: " | ") + " |\n"
                }
            }
        }
        return out
    }

    /// One CSV row per cell; fractions as fractions, HD95 in mm; per-seed DSC separated by `;`.
    public func csv() -> String {
        var out = "method,mode,group,masks,images,seeds,dice_mean,dice_sd,iou_mean,iou_sd,nsd_mean,nsd_sd,hd95_mean,hd95_sd,hd95_undefined,dice_per_seed\n"
        func f(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "" }
        for c in summary.cells {
            let fields = [c.method, c.mode.label, c.group, String(c.masks), String(c.images), String(c.dice.perSeed.count),
                          f(c.dice.mean), f(c.dice.sd), f(c.iou.mean), f(c.iou.sd), f(c.nsd?.mean), f(c.nsd?.sd),
                          f(c.hd95?.mean), f(c.hd95?.sd), String(format: "%g", c.hd95Undefined),
                          c.dice.perSeed.map { String(format: "%.6f", $0) }.joined(separator: ";")]
            out += fields.map { $0.contains(",") ? "\"\($0)\"" : $0 }.joined(separator: ",") + "\n"
        }
        return out
    }

    /// Writes `<stem>.md`, `<stem>.csv` and `<stem>.json` into `directory`.
    public func write(to directory: URL, stem: String = "results") throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(markdown().utf8).write(to: directory.appendingPathComponent("\(stem).md"), options: .atomic)
        try Data(csv().utf8).write(to: directory.appendingPathComponent("\(stem).csv"), options: .atomic)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        try e.encode(self).write(to: directory.appendingPathComponent("\(stem).json"), options: .atomic)
    }
}
