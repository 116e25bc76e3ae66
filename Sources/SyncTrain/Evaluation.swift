import Foundation
import MedImage
import SyncSAM
import SyncTensor

/// Prompt modes of the SyncSAM / SAM-Med2D evaluation (SPEC 7.1, 7.3).
public enum EvaluationMode: String, Codable, Sendable, CaseIterable {
    /// Largest-component box of the model-resolution mask, no jitter.
    case box
    /// One random foreground pixel.
    case onePoint
    /// One random point, then 4 rounds each adding one error-region click, with the mask prompt fed back.
    case fivePoints
}

/// Scores of one mask in one mode, at the image's original resolution.
public struct MaskEvaluation: Codable, Sendable, Equatable {
    public var imageID: String
    public var maskID: String
    public var mode: EvaluationMode
    public var dice: Double
    public var iou: Double
    /// Normalized surface Dice at `Evaluator.nsdTolerance` mm (nil when no tolerance was asked).
    public var nsd: Double?
    /// HD95 in mm; nil when undefined (exactly one mask empty) or not asked.
    public var hd95: Double?
    /// The prompts of the last round (for `PromptBook`).
    public var prompt: PromptSet
}

/// Per-mask evaluation of a promptable model (SPEC 7.1): one embedding per image, a seeded simulator per mask
/// (seeded from the run seed and the mask id, so results do not depend on order or subset), predictions mapped back
/// to the original size (`SamplePreparation.originalMask`), DSC / IoU and optionally NSD / HD95 against the
/// original mask. Masks empty at model resolution are skipped and counted (SPEC 9 #16).
public struct Evaluator {
    public let model: any PromptableSegmenter
    public var preparation: SamplePreparation
    public var seed: UInt64
    public var nsdTolerance: Double?
    public var computeHD95: Bool

    public init(model: any PromptableSegmenter, seed: UInt64 = 0, nsdTolerance: Double? = nil, computeHD95: Bool = false) {
        self.model = model
        preparation = SamplePreparation(imageSize: model.inputSize)
        self.seed = seed
        self.nsdTolerance = nsdTolerance
        self.computeHD95 = computeHD95
    }

    /// Scores every mask of `records` in every mode; returns the scores and the number of skipped masks.
    public func evaluate(_ dataset: DatasetIndex, records: [ImageRecord], modes: [EvaluationMode],
                         spacing: PixelSpacing = PixelSpacing(x: 1, y: 1)) throws -> (scores: [MaskEvaluation], skipped: Int) {
        model.store.training = false
        var scores: [MaskEvaluation] = [], skipped = 0
        for record in records {
            let image = try dataset.loadImage(record)
            let masks = try dataset.loadMasks(record, indices: Array(record.masks.indices))
            let (input, transform) = try preparation.image(image)
            let embedding = withNoGrad { model.embed(input.unsqueezed(0), trace: nil) }
            for (m, original) in zip(record.masks, masks) {
                let target = preparation.mask(original)
                if target.isEmpty { skipped += 1; continue }
                for mode in modes {
                    var sim = PromptSimulator(seed: Self.maskSeed(seed, m.id, mode))
                    let (logits, prompt) = withNoGrad { predict(embedding, target: target, mode: mode, simulator: &sim) }
                    let prediction = preparation.originalMask(fromLogits: logits, transform: transform)
                    let s = image.spacing ?? spacing
                    scores.append(MaskEvaluation(
                        imageID: record.id, maskID: m.id, mode: mode,
                        dice: OverlapMetrics.dice(prediction, original), iou: OverlapMetrics.iou(prediction, original),
                        nsd: nsdTolerance.map { SurfaceMetrics.nsd(prediction, original, tolerance: $0, spacing: s) },
                        hd95: computeHD95 ? SurfaceMetrics.hd95(prediction, original, spacing: s) : nil,
                        prompt: prompt))
                }
            }
        }
        return (scores, skipped)
    }

    /// Low-res logits `[1, 1, m, m]` of one mask in `mode`, and the prompts of the last round.
    func predict(_ embedding: ImageEmbedding, target: BinaryMask, mode: EvaluationMode,
                 simulator sim: inout PromptSimulator) -> (Tensor, PromptSet) {
        func decode(_ set: PromptSet, maskInput: Tensor?) -> Tensor {
            let out = model.decode(embedding, prompts: Prompts([set], maskInputs: maskInput), multimaskOutput: false, trace: nil)
            let l = out.lowResLogits
            return l.shape[1] > 1 ? l.narrowed(1, start: 0, length: 1) : l
        }
        switch mode {
        case .box:
            let set = PromptSet(box: sim.box(for: target, jitter: false))
            return (decode(set, maskInput: nil), set)
        case .onePoint:
            let set = PromptSet(points: [sim.randomPoint(in: target)])
            return (decode(set, maskInput: nil), set)
        case .fivePoints:
            var logits: Tensor?
            let side = model.inputSize
            let (_, rounds) = sim.interactiveEvaluation(target: target, clicks: 5) { set in
                let l = decode(set, maskInput: set.useMaskInput ? logits?.sigmoid() : nil)
                logits = l
                return BinaryMask(plane: l.bilinearResized(height: side, width: side), threshold: 0)
            }
            return (logits!, rounds.last!)
        }
    }

    /// FNV-1a of the mask id and mode, mixed with the run seed.
    static func maskSeed(_ seed: UInt64, _ id: String, _ mode: EvaluationMode) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in (id + "|" + mode.rawValue).utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return TrainingSampler.mix(seed, h, 0xE7A1)
    }
}

extension Array where Element == MaskEvaluation {
    /// Mean DSC over masks per mode (SPEC 7.1 aggregation).
    public func meanDice() -> [EvaluationMode: Double] {
        Dictionary(grouping: self, by: \.mode).mapValues { $0.reduce(0) { $0 + $1.dice } / Double($0.count) }
    }
}
