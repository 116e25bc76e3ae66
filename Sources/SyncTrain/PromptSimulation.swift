import Foundation
import MedImage
import SyncTensor

/// A click: pixel (x, y) = (column, row) in model-input pixels (before SAM's +0.5 shift) and its label
/// (1 foreground, 0 background, -1 not-a-point: a padding click the prompt encoder ignores).
public struct PointPrompt: Codable, Sendable, Equatable, Hashable {
    public var x: Float
    public var y: Float
    public var label: Int
    public init(x: Float, y: Float, label: Int) {
        self.x = x; self.y = y; self.label = label
    }
}

/// A box (x0, y0, x1, y1) in model-input pixels; from a mask the maxima are exclusive (last index + 1).
public struct BoxPrompt: Codable, Sendable, Equatable, Hashable {
    public var x0: Float, y0: Float, x1: Float, y1: Float
    public init(x0: Float, y0: Float, x1: Float, y1: Float) {
        self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1
    }
}

/// The prompts of one decoder call for one mask: optional box, clicks, and whether the previous prediction
/// (sigmoid of its low-res logits, SPEC 9 #10) is fed back as the mask prompt.
public struct PromptSet: Codable, Sendable, Equatable, Hashable {
    public var box: BoxPrompt?
    public var points: [PointPrompt]
    public var useMaskInput: Bool
    public init(box: BoxPrompt? = nil, points: [PointPrompt] = [], useMaskInput: Bool = false) {
        self.box = box; self.points = points; self.useMaskInput = useMaskInput
    }
}

/// Settings of the interactive simulation (SPEC 6.2, SPEC 9 #9, #17).
public struct PromptSimulationConfig: Codable, Sendable, Equatable {
    /// Box jitter: noise_std = `boxJitterStd * min(w, h)`, max_noise = min(`boxMaxJitter`, int(5 * noise_std)).
    public var boxJitterStd: Double = 0.1
    public var boxMaxJitter: Int = 5
    /// Probability that a training batch starts from a box (else from one random point).
    public var boxProbability: Double = 0.5
    /// Clicks per inner iteration, drawn uniformly.
    public var clickCounts: [Int] = [1, 3, 5, 9]
    /// Decoder-only iterations after the first step; the last one and one drawn from `randomMaskOnlyRange`
    /// use the mask prompt alone.
    public var innerIterations: Int = 8
    public var randomMaskOnlyRange: ClosedRange<Int> = 1...6

    public init() {}
    public static let samMed2D = PromptSimulationConfig()
}

/// One decoder-only iteration of the inner loop: its index, whether it is mask-prompt-only (no clicks, no box),
/// and how many error-region clicks to draw for it otherwise.
public struct InnerIteration: Codable, Sendable, Equatable {
    public var index: Int
    public var maskOnly: Bool
    public var clickCount: Int
}

/// Seeded, reproducible prompt simulation for training and evaluation (SPEC 6.2 and 7.1, SAM-Med2D
/// `get_boxes_from_mask`, `init_point_sampling`, `select_random_points`, `test.py`). The generator state is part of
/// the value (Codable), so saving it with a checkpoint resumes the same prompt sequence.
public struct PromptSimulator: Codable, Sendable, Equatable {
    public var config: PromptSimulationConfig
    public var rng: SeededRandom

    public init(seed: UInt64, config: PromptSimulationConfig = .samMed2D) {
        self.config = config
        rng = SeededRandom(seed: seed)
    }

    /// Box of the largest 8-connected component (exclusive maxima), nil for an empty mask. With `jitter`
    /// (training) the box is translated by one offset (dx, dy), each uniform in {-m, ..., m-1} with
    /// m = min(5, int(5 * 0.1 * min(w, h))) (0 when m = 0); no clipping, as in SAM-Med2D. Evaluation: no jitter.
    public mutating func box(for mask: BinaryMask, jitter: Bool) -> BoxPrompt? {
        guard let b = ConnectedComponents.largestComponentBox(mask) else { return nil }
        var dx = 0, dy = 0
        if jitter {
            let noiseStd = Double(min(b.x1 - b.x0, b.y1 - b.y0)) * config.boxJitterStd
            let maxNoise = min(config.boxMaxJitter, Int(noiseStd * 5))
            if maxNoise > 0 {
                dx = rng.int(in: -maxNoise..<maxNoise)
                dy = rng.int(in: -maxNoise..<maxNoise)
            }
        }
        return BoxPrompt(x0: Float(b.x0 + dx), y0: Float(b.y0 + dy), x1: Float(b.x1 + dx), y1: Float(b.y1 + dy))
    }

    /// One uniformly random foreground pixel (label 1); a random background pixel (label 0) if the mask is empty.
    public mutating func randomPoint(in mask: BinaryMask) -> PointPrompt {
        let fg = mask.area
        let wantForeground = fg > 0
        let pool = wantForeground ? fg : mask.values.count - fg
        precondition(pool > 0, "random point in a \(mask.width)x\(mask.height) mask")
        var k = rng.int(in: 0..<pool)
        let want: UInt8 = wantForeground ? 1 : 0
        for (i, v) in mask.values.enumerated() where v == want {
            if k == 0 { return PointPrompt(x: Float(i % mask.width), y: Float(i / mask.width), label: Int(want)) }
            k -= 1
        }
        fatalError("unreachable: pixel pool of \(pool)")
    }

    /// `count` clicks drawn uniformly with replacement from the error region of `prediction` against `target`
    /// (label 1 where the target is missed, 0 where the prediction is spurious). Without any error pixel, `count`
    /// random pixels labelled -1 (not-a-point).
    public mutating func errorClicks(prediction: BinaryMask, target: BinaryMask, count: Int) -> [PointPrompt] {
        precondition(prediction.width == target.width && prediction.height == target.height, "error clicks: sizes differ")
        var errors: [Int] = []
        for i in 0..<target.values.count where prediction.values[i] != target.values[i] { errors.append(i) }
        let w = target.width
        return (0..<count).map { _ in
            if errors.isEmpty {
                let y = rng.int(in: 0..<target.height), x = rng.int(in: 0..<w)
                return PointPrompt(x: Float(x), y: Float(y), label: -1)
            }
            let i = errors[rng.int(in: 0..<errors.count)]
            return PointPrompt(x: Float(i % w), y: Float(i / w), label: target.values[i] != 0 ? 1 : 0)
        }
    }

    /// Whether a training batch starts from a box (probability `boxProbability`) rather than one point.
    public mutating func startsWithBox() -> Bool { Double(rng.uniform()) < config.boxProbability }

    /// First training prompt of one mask: jittered box, or one random point.
    public mutating func firstTrainingPrompt(for mask: BinaryMask, box useBox: Bool) -> PromptSet {
        if useBox, let b = box(for: mask, jitter: true) { return PromptSet(box: b) }
        return PromptSet(points: [randomPoint(in: mask)])
    }

    /// The inner loop of one batch: r ~ U{1..6}; iterations r and the last are mask-only; every other draws
    /// its click count from `clickCounts`.
    public mutating func innerIterations() -> [InnerIteration] {
        let n = config.innerIterations
        let r = rng.int(in: config.randomMaskOnlyRange.lowerBound..<(config.randomMaskOnlyRange.upperBound + 1))
        return (0..<n).map { it in
            let maskOnly = it == r || it == n - 1
            return InnerIteration(index: it, maskOnly: maskOnly, clickCount: maskOnly ? 0 : clickCount())
        }
    }

    /// A click count drawn uniformly from `clickCounts`.
    public mutating func clickCount() -> Int { config.clickCounts[rng.int(in: 0..<config.clickCounts.count)] }

    /// Prompt of one inner iteration for one mask, given the current prediction: error clicks replacing the
    /// previous ones and the mask prompt, or the mask prompt alone.
    public mutating func innerPrompt(_ iteration: InnerIteration, prediction: BinaryMask, target: BinaryMask) -> PromptSet {
        if iteration.maskOnly { return PromptSet(useMaskInput: true) }
        return PromptSet(points: errorClicks(prediction: prediction, target: target, count: iteration.clickCount),
                         useMaskInput: true)
    }

    /// SAM-Med2D's k-point evaluation (SPEC 7.1): one random foreground point, then `clicks - 1` rounds each adding
    /// one error-region click to all previous ones, with the previous prediction fed back as mask prompt.
    /// `predict` runs the model on a prompt set and returns its binary prediction at the resolution of `target`
    /// (the caller keeps the low-res logits to feed back when `useMaskInput` is set).
    /// - Returns: the last prediction and the prompts of every round.
    public mutating func interactiveEvaluation(target: BinaryMask, clicks: Int = 5,
                                               predict: (PromptSet) throws -> BinaryMask) rethrows
        -> (prediction: BinaryMask, rounds: [PromptSet])
    {
        var prompt = PromptSet(points: [randomPoint(in: target)])
        var rounds = [prompt]
        var prediction = try predict(prompt)
        for _ in 1..<max(clicks, 1) {
            prompt.points += errorClicks(prediction: prediction, target: target, count: 1)
            prompt.useMaskInput = true
            rounds.append(prompt)
            prediction = try predict(prompt)
        }
        return (prediction, rounds)
    }
}

/// Frozen evaluation prompts (mask id -> prompts), serialisable so an evaluation can be repeated exactly
/// (SAM-Med2D `--prompt_path`).
public struct PromptBook: Codable, Sendable, Equatable {
    public var seed: UInt64
    public var mode: String
    public var prompts: [String: PromptSet]

    public init(seed: UInt64, mode: String, prompts: [String: PromptSet] = [:]) {
        self.seed = seed; self.mode = mode; self.prompts = prompts
    }

    /// JSON with sorted keys (stable diffs).
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try e.encode(self)
    }

    public static func load(_ url: URL) throws -> PromptBook {
        try JSONDecoder().decode(PromptBook.self, from: Data(contentsOf: url))
    }

    public func save(_ url: URL) throws { try jsonData().write(to: url, options: .atomic) }
}
