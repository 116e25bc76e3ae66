import Foundation
import MedImage
import SyncNN
import SyncSAM
import SyncTensor

/// The interactive training loop (SPEC 6.2 as adapted for SyncSAM, SPEC 9 #9, #22): per batch, one step from a box
/// or one point with gradients through the encoder, then decoder-only iterations on detached image features with
/// error-region clicks and the sigmoid of the previous logits as mask prompt (two of them mask-only); one Adam
/// update per step. BatchNorm runs in training mode. Data, prompts and updates are seeded and resumable exactly.
public final class InteractiveTrainer {
    public let model: any PromptableSegmenter
    public let config: TrainingConfig
    public let sampler: TrainingSampler
    public let optimizer: Adam
    public let loss: SegmentationLoss
    public var simulator: PromptSimulator
    /// Next epoch and batch to run.
    public private(set) var epoch = 0
    public private(set) var batch = 0
    /// Optimiser updates done so far.
    public private(set) var updates = 0
    /// Receives every update's record (e.g. a `JSONLWriter`).
    public var onStep: ((StepRecord) throws -> Void)?
    /// Called by `run` after every batch, skipped ones included (progress display).
    public var onBatchEnd: ((BatchEnd) throws -> Void)?
    /// Called by `run` at the end of every epoch, after its checkpoint was written, with the number of epochs done.
    public var onEpochEnd: ((Int) throws -> Void)?

    /// A batch `run` has just finished.
    public struct BatchEnd: Sendable, Equatable {
        public var epoch: Int
        /// Index of the finished batch in its epoch.
        public var batch: Int
        public var batchesInEpoch: Int
        /// Images and masks trained on (0 for a batch without any usable mask).
        public var images: Int
        public var masks: Int
    }

    /// A trainer over the model's currently trainable parameters (set the frozen set on the store first).
    public init(model: any PromptableSegmenter, dataset: DatasetIndex, records: [ImageRecord], config: TrainingConfig) {
        self.model = model
        self.config = config
        sampler = TrainingSampler(dataset: dataset, records: records, preparation: SamplePreparation(imageSize: model.inputSize),
                                  masksPerImage: config.masksPerImage, imagesPerBatch: config.imagesPerBatch, seed: config.seed)
        optimizer = Adam(trainableOf: model.store, config: config.optimizer)
        loss = SegmentationLoss(config.loss)
        simulator = PromptSimulator(seed: config.seed &+ 0x51A1, config: config.simulation)
    }

    /// One optimiser update: decode `prompts` on `embedding`, loss against `targets` `[N, 1, S, S]`, backward, Adam
    /// step, gradients cleared. Returns the detached low-res logits `[N, 1, m, m]` and the loss parts.
    @discardableResult
    public func update(embedding: ImageEmbedding, prompts: Prompts, targets: Tensor) -> (logits: Tensor, loss: SegmentationLossParts) {
        var logits = model.decode(embedding, prompts: prompts, multimaskOutput: false, trace: nil).lowResLogits
        if logits.shape[1] > 1 { logits = logits.narrowed(1, start: 0, length: 1) }
        let (value, parts) = loss(logits: logits, targets: targets)
        value.backward()
        optimizer.step()
        model.store.zeroGrad()
        updates += 1
        return (logits.detached(), parts)
    }

    /// The full interactive schedule on one batch (1 + `innerIterations` updates).
    public func train(_ b: TrainingBatch, epoch: Int, batch: Int) throws {
        model.store.training = true
        let lr = optimizer.learningRate
        let useBox = simulator.startsWithBox()
        let first = b.masks.map { simulator.firstTrainingPrompt(for: $0, box: useBox) }
        let embedding = model.embed(b.images, trace: nil)
        var (logits, parts) = update(embedding: embedding, prompts: Prompts(first), targets: b.targets)
        try onStep?(StepRecord(epoch: epoch, batch: batch, iteration: 0, prompt: first[0].box != nil ? "box" : "point",
                               clicks: first[0].points.count, learningRate: lr, loss: parts.total, dice: parts.dice,
                               focal: parts.focal))
        let features = embedding.detached()
        let side = model.inputSize
        for it in simulator.innerIterations() {
            let predictions = withNoGrad { () -> [BinaryMask] in
                let up = logits.bilinearResized(height: side, width: side)
                return (0..<up.shape[0]).map { BinaryMask(plane: up.selected(0, $0), threshold: 0) }
            }
            let sets = zip(predictions, b.masks).map { simulator.innerPrompt(it, prediction: $0, target: $1) }
            let maskInputs = withNoGrad { logits.sigmoid() }
            (logits, parts) = update(embedding: features, prompts: Prompts(sets, maskInputs: maskInputs), targets: b.targets)
            try onStep?(StepRecord(epoch: epoch, batch: batch, iteration: it.index + 1, prompt: it.maskOnly ? "mask" : "clicks",
                                   clicks: it.clickCount, learningRate: lr, loss: parts.total, dice: parts.dice,
                                   focal: parts.focal))
        }
    }

    /// Runs the remaining epochs (from the current epoch/batch), checkpointing to `checkpoint` when given.
    public func run(checkpoint: URL? = nil, modelConfigJSON: String? = nil, stopAfterBatches: Int? = nil) throws {
        var done = 0
        while epoch < config.epochs {
            optimizer.learningRate = config.schedule.learningRate(base: config.optimizer.learningRate, epoch: epoch)
            let order = sampler.epochOrder(epoch)
            let startBatch = batch, e = epoch, s = sampler
            let loader = Prefetcher(count: order.count - startBatch, capacity: max(1, config.prefetch)) {
                try s.batch(epoch: e, batch: startBatch + $0, order: order)
            }
            while let item = try loader.next() {
                if let b = item { try train(b, epoch: epoch, batch: batch) }
                batch += 1
                done += 1
                try onBatchEnd?(BatchEnd(epoch: epoch, batch: batch - 1, batchesInEpoch: order.count,
                                         images: item?.images.shape[0] ?? 0, masks: item?.masks.count ?? 0))
                let every = config.checkpointEveryBatches
                if let checkpoint, every > 0, batch % every == 0, batch < order.count {
                    try save(to: checkpoint, modelConfigJSON: modelConfigJSON)
                }
                if let stop = stopAfterBatches, done >= stop {
                    loader.cancel()
                    let epochDone = batch == order.count
                    if epochDone { epoch += 1; batch = 0 }
                    if let checkpoint { try save(to: checkpoint, modelConfigJSON: modelConfigJSON) }
                    if epochDone { try onEpochEnd?(epoch) }
                    return
                }
            }
            epoch += 1
            batch = 0
            if let checkpoint { try save(to: checkpoint, modelConfigJSON: modelConfigJSON) }
            try onEpochEnd?(epoch)
        }
    }

    /// Where the loop stands, stored in checkpoints next to the tensors.
    public struct State: Codable, Sendable, Equatable {
        public var epoch: Int
        public var batch: Int
        public var updates: Int
        public var simulator: PromptSimulator
        public var config: TrainingConfig
    }

    public var state: State { State(epoch: epoch, batch: batch, updates: updates, simulator: simulator, config: config) }

    /// Resumes from a saved state (tensors are restored by `TrainingCheckpoint.restore`).
    func apply(_ s: State) {
        epoch = s.epoch
        batch = s.batch
        updates = s.updates
        simulator = s.simulator
    }
}
