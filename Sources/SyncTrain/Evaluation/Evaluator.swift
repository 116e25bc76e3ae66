import Foundation
import MedImage
import SyncSAM
import SyncTensor

/// Per-mask evaluation of a promptable model (SPEC 7.1): one embedding per image (computed once, or taken from an
/// `EmbeddingCache`) reused for every mask, mode and seed; a seeded simulator per mask (seeded from the run seed,
/// the mask id and the mode, so results do not depend on order or subset); predictions mapped back to the original
/// size through the model's own `ImageTransform`; DSC / IoU and optionally NSD / HD95 against the original mask.
/// Masks empty at model resolution are skipped and counted (SPEC 9 #16). Box prompts carry no randomness: the box
/// mode runs once and its scores count for every seed. With `baselines`, the box mode also scores the
/// `BaselinePredictor`s on the same box.
public struct Evaluator {
    public let model: any PromptableSegmenter
    /// The `method` of the model's scores.
    public var name: String
    public var preprocessing: PreprocessingKind
    /// Whether the fed-back mask prompt is sigmoid(logits) (SyncSAM, SAM-Med2D) or the raw logits (SAM, LiteMedSAM).
    public var maskPromptIsProbability: Bool
    /// The run seed (the first of `seeds` when several are given to `run`).
    public var seed: UInt64
    /// NSD tolerance in mm; nil skips NSD.
    public var nsdTolerance: Double?
    public var computeHD95: Bool
    public var boxRule: BoxRule = .largestComponent
    public var baselines = false

    /// A model with SPEC section 0 preprocessing and sigmoid mask prompts (SyncSAM).
    public init(model: any PromptableSegmenter, seed: UInt64 = 0, nsdTolerance: Double? = nil, computeHD95: Bool = false) {
        self.model = model
        name = "model"
        preprocessing = .sam
        maskPromptIsProbability = true
        self.seed = seed
        self.nsdTolerance = nsdTolerance
        self.computeHD95 = computeHD95
    }

    /// A loaded model with its family's preprocessing and mask-prompt convention.
    public init(_ loaded: LoadedModel, seed: UInt64 = 0, nsdTolerance: Double? = 2, computeHD95: Bool = true) {
        self.init(model: loaded.model, seed: seed, nsdTolerance: nsdTolerance, computeHD95: computeHD95)
        name = loaded.name
        preprocessing = loaded.family.preprocessing
        maskPromptIsProbability = loaded.family.maskPromptIsProbability
    }

    /// What a run produced: every score, and the masks skipped because they vanish at model resolution.
    public struct Outcome: Sendable {
        public var scores: [MaskEvaluation]
        public var skipped: Int
        public var images: Int
    }

    /// Scores every mask of `records` in every mode for the evaluator's seed; returns the scores and the number of
    /// skipped masks. `spacing` applies to images without their own.
    public func evaluate(_ dataset: DatasetIndex, records: [ImageRecord], modes: [EvaluationMode],
                         spacing: PixelSpacing = PixelSpacing(x: 1, y: 1)) throws -> (scores: [MaskEvaluation], skipped: Int) {
        let o = try run(dataset, records: records, modes: modes, seeds: [seed],
                        spacings: SpacingTable(fallback: spacing))
        return (o.scores, o.skipped)
    }

    /// Scores every mask of `records` (all their masks: trim `ImageRecord.masks` to select) in every mode and seed.
    /// - Parameters:
    ///   - prompts: saved prompts to reuse (boxes and first clicks; see `EvaluationPrompts`).
    ///   - embeddings: precomputed embeddings by record id (computed here when absent).
    ///   - progress: called after each image with (images done, images total).
    public func run(_ dataset: DatasetIndex, records: [ImageRecord], modes: [EvaluationMode], seeds: [UInt64],
                    spacings: SpacingTable = SpacingTable(), prompts: EvaluationPrompts? = nil,
                    embeddings: EmbeddingCache? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> Outcome {
        precondition(!seeds.isEmpty, "evaluation needs at least one seed")
        model.store.training = false
        var scores: [MaskEvaluation] = [], skipped = 0
        for (n, record) in records.enumerated() {
            let image = try dataset.loadImage(record)
            let transform = ImageTransform(kind: preprocessing, width: image.width, height: image.height,
                                           inputSize: model.inputSize)
            let embedding = try embeddings?.embedding(for: record.id) ?? embed(image, transform: transform)
            let originals = try dataset.loadMasks(record, indices: Array(record.masks.indices))
            let spacing = spacings.spacing(for: record.id, image: image)
            for (m, original) in zip(record.masks, originals) {
                let target = transform.modelMask(original)
                if target.isEmpty { skipped += 1; continue }
                func score(_ prediction: BinaryMask, _ mode: EvaluationMode, _ seed: UInt64, _ method: String,
                           _ prompt: PromptSet) -> MaskEvaluation {
                    MaskEvaluation(
                        imageID: record.id, maskID: m.id, mode: mode,
                        dice: OverlapMetrics.dice(prediction, original), iou: OverlapMetrics.iou(prediction, original),
                        nsd: nsdTolerance.map { SurfaceMetrics.nsd(prediction, original, tolerance: $0, spacing: spacing) },
                        hd95: computeHD95 ? SurfaceMetrics.hd95(prediction, original, spacing: spacing) : nil,
                        prompt: prompt, seed: seed, method: method, dataset: record.dataset, modality: record.modality)
                }
                for mode in modes {
                    for seed in mode == .box ? [seeds[0]] : seeds {
                        var sim = PromptSimulator(seed: Self.maskSeed(seed, m.id, mode))
                        let saved = prompts?.prompt(seed: seed, mode: mode, maskID: m.id)
                        let (logits, prompt) = withNoGrad {
                            predict(embedding, target: target, original: original, transform: transform, mode: mode,
                                    simulator: &sim, saved: saved)
                        }
                        let prediction = BinaryMask(plane: withNoGrad { transform.logitsToOriginal(logits) }, threshold: 0)
                        let s = score(prediction, mode, seed, name, prompt)
                        scores += mode == .box ? seeds.map { var c = s; c.seed = $0; return c } : [s]
                        guard mode == .box, baselines, let box = prompt.box else { continue }
                        let region = baselineRegion(box, original: original, transform: transform)
                        for b in BaselinePredictor.allCases {
                            let p = b.mask(region: region, width: original.width, height: original.height)
                            scores += seeds.map { score(p, mode, $0, b.rawValue, prompt) }
                        }
                    }
                }
            }
            progress?(n + 1, records.count)
        }
        return Outcome(scores: scores, skipped: skipped, images: records.count)
    }

    /// The embedding of one image (B = 1), without a tape.
    public func embed(_ image: Image2D, transform: ImageTransform) throws -> ImageEmbedding {
        try model.embed(image, transform: transform)
    }

    /// The evaluation box of a mask in model pixels (`boxRule`); nil for an empty mask.
    public func box(target: BinaryMask, original: BinaryMask, transform: ImageTransform) -> BoxPrompt? {
        switch boxRule {
        case .largestComponent:
            guard let b = ConnectedComponents.largestComponentBox(target) else { return nil }
            return BoxPrompt(x0: Float(b.x0), y0: Float(b.y0), x1: Float(b.x1), y1: Float(b.y1))
        case .tightOriginal:
            guard let b = original.boundingBox else { return nil }
            let s = Float(transform.scale)
            return BoxPrompt(x0: Float(b.x0) * s, y0: Float(b.y0) * s, x1: Float(b.x1) * s, y1: Float(b.y1) * s)
        }
    }

    /// The region the baselines fill, in original pixels: the tight box's pixels for `.tightOriginal`, the model-pixel
    /// box (exclusive maxima) mapped back for `.largestComponent`.
    func baselineRegion(_ box: BoxPrompt, original: BinaryMask, transform: ImageTransform) -> PixelRegion {
        let s = transform.scale
        switch boxRule {
        case .largestComponent:
            return PixelRegion(x0: Double(box.x0) / s, y0: Double(box.y0) / s, x1: Double(box.x1) / s, y1: Double(box.y1) / s)
        case .tightOriginal:
            let b = original.boundingBox!
            return PixelRegion(x0: Double(b.x0), y0: Double(b.y0), x1: Double(b.x1 + 1), y1: Double(b.y1 + 1))
        }
    }

    /// Low-res logits `[1, 1, m, m]` of one mask in `mode`, and the prompts of the last round. A `saved` prompt
    /// replaces the box, or the first click (the simulator still draws it, so later draws stay in step).
    func predict(_ embedding: ImageEmbedding, target: BinaryMask, original: BinaryMask, transform: ImageTransform,
                 mode: EvaluationMode, simulator sim: inout PromptSimulator, saved: PromptSet?) -> (Tensor, PromptSet) {
        func decode(_ set: PromptSet, maskInput: Tensor?) -> Tensor {
            let out = model.decode(embedding, prompts: Prompts([set], maskInputs: maskInput), multimaskOutput: false, trace: nil)
            let l = out.lowResLogits
            return l.shape[1] > 1 ? l.narrowed(1, start: 0, length: 1) : l
        }
        let savedFirst = saved?.points.first
        switch mode {
        case .box:
            let set = PromptSet(box: saved?.box ?? box(target: target, original: original, transform: transform))
            return (decode(set, maskInput: nil), set)
        case .onePoint:
            let drawn = sim.randomPoint(in: target)
            let set = PromptSet(points: [savedFirst ?? drawn])
            return (decode(set, maskInput: nil), set)
        case .fivePoints:
            var logits: Tensor?
            let side = model.inputSize
            var (_, rounds) = sim.interactiveEvaluation(target: target, clicks: 5) { drawn in
                var set = drawn
                if let savedFirst { set.points[0] = savedFirst }
                let feedback = set.useMaskInput ? logits.map { maskPromptIsProbability ? $0.sigmoid() : $0 } : nil
                let l = decode(set, maskInput: feedback)
                logits = l
                return BinaryMask(plane: l.bilinearResized(height: side, width: side), threshold: 0)
            }
            if let savedFirst { rounds[rounds.count - 1].points[0] = savedFirst }
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

extension ImageTransform {
    /// A ground-truth mask at model resolution with the geometry of this transform: `.sam` pads to a square and
    /// resizes (nearest, SPEC 0); `.liteMedSAM` resizes the longest side (nearest) and pads.
    public func modelMask(_ m: BinaryMask) -> BinaryMask {
        switch kind {
        case .sam:
            return SamplePreparation(imageSize: inputSize).mask(m)
        case .liteMedSAM:
            return m.resizedNearest(width: contentWidth, height: contentHeight)
                .paddedBottomRight(width: inputSize, height: inputSize)
        }
    }
}

extension Array where Element == MaskEvaluation {
    /// Mean DSC over masks per mode (SPEC 7.1 aggregation).
    public func meanDice() -> [EvaluationMode: Double] {
        Dictionary(grouping: self, by: \.mode).mapValues { $0.reduce(0) { $0 + $1.dice } / Double($0.count) }
    }
}
