import Foundation
import MedImage
import SyncIO
import SyncNN
import SyncSAM
import SyncTensor

/// Settings of decoder-only fine-tuning from a pretrained start (the paper's FT-SAM setting, SPEC 6.5): the image
/// encoder is frozen, so its embeddings are computed once (`EmbeddingCache`) and only the decoder (and whatever
/// else `trainablePrefixes` names) learns, with the SPEC 6.2 interactive simulation and the SPEC 6.3 loss.
public struct DecoderFineTuningConfig: Codable, Sendable, Equatable {
    /// Epochs, batch shape, Adam, schedule, loss (20 x Dice + Focal), prompt simulation, seed.
    public var training: TrainingConfig = .paper
    public var trainablePrefixes: [String] = ["mask_decoder."]
    /// Stop after this many seconds of training (wall clock), at a batch boundary.
    public var maxSeconds: Double?

    public init() {}
}

/// Decoder-only interactive training on cached embeddings: per batch one update from a jittered box or one point
/// (p = 0.5), then the inner decoder-only iterations with error-region clicks and the previous logits fed back
/// as mask prompt (sigmoid or raw logits, as the model family's protocol says), one Adam update each (SPEC 6.2).
/// The trainer's Adam, loss, prompt simulator and `update` are reused; only the image side differs (cached
/// embeddings instead of encoder calls, masks in the model's own preprocessing geometry).
public final class DecoderFineTuner {
    public let trainer: InteractiveTrainer
    public let model: any PromptableSegmenter
    public let config: DecoderFineTuningConfig
    public let dataset: DatasetIndex
    public let records: [ImageRecord]
    public let embeddings: EmbeddingCache
    public let preprocessing: PreprocessingKind
    public let maskPromptIsProbability: Bool
    /// Receives every update's record.
    public var onStep: ((StepRecord) throws -> Void)?

    /// Freezes everything but `config.trainablePrefixes` and builds the trainer. Every record must have its
    /// embedding in `embeddings` when `run` reaches it.
    public init(_ loaded: LoadedModel, dataset: DatasetIndex, records: [ImageRecord], embeddings: EmbeddingCache,
                config: DecoderFineTuningConfig) {
        model = loaded.model
        model.store.setTrainable(prefixes: config.trainablePrefixes)
        trainer = InteractiveTrainer(model: model, dataset: dataset, records: records, config: config.training)
        self.config = config
        self.dataset = dataset
        self.records = records
        self.embeddings = embeddings
        preprocessing = loaded.family.preprocessing
        maskPromptIsProbability = loaded.family.maskPromptIsProbability
    }

    /// Trains until `training.epochs` are done or `maxSeconds` have passed. Returns updates done and seconds spent.
    @discardableResult
    public func run() throws -> (updates: Int, seconds: Double, epochs: Double) {
        let start = Date()
        let t = config.training
        let sampler = trainer.sampler
        var batchesDone = 0, epochsDone = 0.0
        for epoch in 0..<t.epochs {
            trainer.optimizer.learningRate = t.schedule.learningRate(base: t.optimizer.learningRate, epoch: epoch)
            let order = sampler.epochOrder(epoch)
            for (b, indices) in order.enumerated() {
                if let limit = config.maxSeconds, Date().timeIntervalSince(start) >= limit {
                    return (trainer.updates, Date().timeIntervalSince(start), epochsDone + Double(b) / Double(order.count))
                }
                var rng = SeededRandom(seed: TrainingSampler.mix(t.seed, UInt64(epoch), UInt64(b) &+ 1))
                var features: [Tensor] = [], masks: [BinaryMask] = []
                for i in indices {
                    let drawn = try drawMasks(records[i], rng: &rng)
                    guard !drawn.isEmpty, let e = try embeddings.embedding(for: records[i].id) else { continue }
                    features.append(e.features)
                    masks += drawn
                }
                if features.isEmpty { continue }
                try train(ImageEmbedding(features: Tensor.concat(features, dim: 0)), masks: masks, epoch: epoch, batch: b)
                batchesDone += 1
            }
            epochsDone += 1
        }
        return (trainer.updates, Date().timeIntervalSince(start), epochsDone)
    }

    /// `masksPerImage` masks of `record` at model resolution, drawn with replacement among those not empty there.
    func drawMasks(_ record: ImageRecord, rng: inout SeededRandom) throws -> [BinaryMask] {
        var candidates = Array(record.masks.indices), usable: [Int: BinaryMask] = [:], chosen: [BinaryMask] = []
        let want = config.training.masksPerImage
        while chosen.count < want && !candidates.isEmpty {
            let k = candidates[rng.int(in: 0..<candidates.count)]
            if usable[k] == nil {
                let original = try dataset.loadMasks(record, indices: [k])[0]
                let t = ImageTransform(kind: preprocessing, width: original.width, height: original.height,
                                       inputSize: model.inputSize)
                let m = t.modelMask(original)
                if m.isEmpty { candidates.removeAll { $0 == k }; continue }
                usable[k] = m
            }
            chosen.append(usable[k]!)
        }
        return chosen
    }

    /// The interactive schedule on one batch of cached embeddings (`masks` image-major, the same count per image).
    func train(_ embedding: ImageEmbedding, masks: [BinaryMask], epoch: Int, batch: Int) throws {
        model.store.training = true
        let sim = trainer
        let lr = trainer.optimizer.learningRate
        let targets = Tensor.concat(masks.map { $0.tensor() }, dim: 0)
        let useBox = sim.simulator.startsWithBox()
        let first = masks.map { sim.simulator.firstTrainingPrompt(for: $0, box: useBox) }
        var (logits, parts) = trainer.update(embedding: embedding, prompts: Prompts(first), targets: targets)
        try onStep?(StepRecord(epoch: epoch, batch: batch, iteration: 0, prompt: first[0].box != nil ? "box" : "point",
                               clicks: first[0].points.count, learningRate: lr, loss: parts.total, dice: parts.dice,
                               focal: parts.focal))
        let side = model.inputSize
        for it in sim.simulator.innerIterations() {
            let predictions = withNoGrad { () -> [BinaryMask] in
                let up = logits.shape[3] == side ? logits : logits.bilinearResized(height: side, width: side)
                return (0..<up.shape[0]).map { BinaryMask(plane: up.selected(0, $0), threshold: 0) }
            }
            let sets = zip(predictions, masks).map { sim.simulator.innerPrompt(it, prediction: $0, target: $1) }
            let maskInputs = maskPromptIsProbability ? withNoGrad { logits.sigmoid() } : logits
            (logits, parts) = trainer.update(embedding: embedding, prompts: Prompts(sets, maskInputs: maskInputs), targets: targets)
            try onStep?(StepRecord(epoch: epoch, batch: batch, iteration: it.index + 1, prompt: it.maskOnly ? "mask" : "clicks",
                                   clicks: it.clickCount, learningRate: lr, loss: parts.total, dice: parts.dice,
                                   focal: parts.focal))
        }
        model.store.training = false
    }

    /// Writes the trainable tensors (the fine-tuned decoder) to a safetensors file with `metadata`.
    public func saveTrainable(to url: URL, metadata: [String: String] = [:]) throws {
        let tensors = model.store.entries.filter { e in config.trainablePrefixes.contains { e.name.hasPrefix($0) } }
        try Safetensors.write(floats: tensors.map { ($0.name, $0.tensor.shape, $0.tensor.toArray()) }, metadata: metadata,
                              to: url.path)
    }
}

extension DatasetSplit {
    /// A by-case split with the named cases (`<dataset>/<case>`, `ImageRecord.caseKey`) held out.
    public static func holdingOut(cases: [String], of records: [ImageRecord]) -> DatasetSplit {
        let held = Set(cases)
        let test = records.filter { held.contains($0.caseKey) }.map(\.id).sorted()
        let train = records.filter { !held.contains($0.caseKey) }.map(\.id).sorted()
        return DatasetSplit(unit: .byCase, train: train, test: test)
    }
}
