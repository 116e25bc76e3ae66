import Foundation

/// Mean and spread of one metric over the run's seeds (sample standard deviation; 0 for one seed).
public struct SeedStatistic: Codable, Sendable, Equatable {
    public var mean: Double
    public var sd: Double
    public var perSeed: [Double]

    public init(_ perSeed: [Double]) {
        self.perSeed = perSeed
        let n = Double(perSeed.count)
        mean = perSeed.reduce(0, +) / n
        let m = mean
        sd = perSeed.count > 1 ? (perSeed.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot() : 0
    }
}

/// One row of the results: a predictor in one mode over one group of masks (all, one dataset, one modality).
public struct EvaluationCell: Codable, Sendable, Equatable {
    public var method: String
    public var mode: EvaluationMode
    /// `all`, `dataset:<name>` or `modality:<token>`.
    public var group: String
    /// Masks and images scored per seed.
    public var masks: Int
    public var images: Int
    /// Fractions in 0...1 (DSC, IoU, NSD) and mm (HD95), aggregated per seed as `aggregation` says.
    public var dice: SeedStatistic
    public var iou: SeedStatistic
    public var nsd: SeedStatistic?
    /// Over the masks where HD95 is defined.
    public var hd95: SeedStatistic?
    /// Masks with undefined HD95 (prediction empty), per seed on average.
    public var hd95Undefined: Double
}

/// Per-seed aggregation of per-mask scores (SPEC 7.1 mean over masks, or SPEC 7.2 per image then over images),
/// then mean and spread over seeds, for every method x mode, overall and per dataset and per modality.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    public var aggregation: ScoreAggregation
    public var seeds: [UInt64]
    /// Methods in order of first appearance (models before baselines).
    public var methods: [String]
    public var modes: [EvaluationMode]
    public var cells: [EvaluationCell]

    public init(scores: [MaskEvaluation], aggregation: ScoreAggregation = .perMask) {
        self.aggregation = aggregation
        seeds = Array(Set(scores.map(\.seed))).sorted()
        var seen: [String] = []
        for s in scores where !seen.contains(s.method) { seen.append(s.method) }
        methods = seen.filter { BaselinePredictor(rawValue: $0) == nil } + seen.filter { BaselinePredictor(rawValue: $0) != nil }
        modes = EvaluationMode.allCases.filter { m in scores.contains { $0.mode == m } }
        var groups: [(String, (MaskEvaluation) -> Bool)] = [("all", { _ in true })]
        for d in Set(scores.compactMap(\.dataset)).sorted() { groups.append(("dataset:\(d)", { $0.dataset == d })) }
        for m in Set(scores.compactMap(\.modality)).sorted() { groups.append(("modality:\(m)", { $0.modality == m })) }
        var cells: [EvaluationCell] = []
        let byKey = Dictionary(grouping: scores) { "\($0.method)|\($0.mode.rawValue)" }
        for method in methods {
            for mode in modes {
                guard let rows = byKey["\(method)|\(mode.rawValue)"] else { continue }
                for (name, member) in groups {
                    let subset = rows.filter(member)
                    if let cell = Self.cell(subset, method: method, mode: mode, group: name, seeds: seeds, aggregation: aggregation) {
                        cells.append(cell)
                    }
                }
            }
        }
        self.cells = cells
    }

    /// The cell of `method` in `mode` over `group`.
    public func cell(_ method: String, _ mode: EvaluationMode, group: String = "all") -> EvaluationCell? {
        cells.first { $0.method == method && $0.mode == mode && $0.group == group }
    }

    /// Groups of a kind (`dataset` or `modality`), sorted.
    public func groups(_ kind: String) -> [String] {
        Array(Set(cells.map(\.group).filter { $0.hasPrefix(kind + ":") })).sorted().map { String($0.dropFirst(kind.count + 1)) }
    }

    static func cell(_ rows: [MaskEvaluation], method: String, mode: EvaluationMode, group: String, seeds: [UInt64],
                     aggregation: ScoreAggregation) -> EvaluationCell? {
        let bySeed = Dictionary(grouping: rows, by: \.seed)
        let used = seeds.filter { bySeed[$0] != nil }
        guard !used.isEmpty else { return nil }
        func stat(_ value: (MaskEvaluation) -> Double?) -> SeedStatistic? {
            var perSeed: [Double] = []
            for s in used {
                guard let v = aggregate(bySeed[s]!, value, aggregation) else { return nil }
                perSeed.append(v)
            }
            return SeedStatistic(perSeed)
        }
        let first = bySeed[used[0]]!
        let undefined = used.map { s in Double(bySeed[s]!.filter { $0.hd95 == nil }.count) }.reduce(0, +) / Double(used.count)
        return EvaluationCell(method: method, mode: mode, group: group, masks: first.count,
                              images: Set(first.map(\.imageID)).count, dice: stat { $0.dice }!, iou: stat { $0.iou }!,
                              nsd: stat { $0.nsd }, hd95: stat { $0.hd95 },
                              hd95Undefined: first.contains { $0.hd95 != nil } ? undefined : 0)
    }

    /// The mean of the defined values: over masks, or per image then over images.
    static func aggregate(_ rows: [MaskEvaluation], _ value: (MaskEvaluation) -> Double?,
                          _ aggregation: ScoreAggregation) -> Double? {
        switch aggregation {
        case .perMask:
            let v = rows.compactMap(value)
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        case .perImage:
            let byImage = Dictionary(grouping: rows, by: \.imageID)
            let perImage = byImage.keys.sorted().compactMap { id -> Double? in
                let v = byImage[id]!.compactMap(value)
                return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
            }
            return perImage.isEmpty ? nil : perImage.reduce(0, +) / Double(perImage.count)
        }
    }
}
