import ArgumentParser
import Foundation
import SyncNN
import SyncSAM
import SyncTrain

/// `syncsam train`: the paper's recipe (SPEC 0 "training loop", 6, 9 #9-#22) on an SA-Med2D-20M, IMed-361M or
/// plain folder dataset, from SAM + torchvision weights or resuming a training checkpoint exactly.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train SyncSAM (or fine-tune SAM) with interactive prompt simulation.",
        discussion: """
        Writes to --out: metrics.jsonl (one line per optimiser update), curve.svg (loss and Dice, redrawn every \
        epoch), last.safetensors and checkpoint_epochN.safetensors (model, optimiser, loop and RNG state, model \
        config), split.json (the train/test split). Resume with --checkpoint OUT/last.safetensors.
        """)

    enum OptimizerKind: String, ExpressibleByArgument { case adam, adamw }

    @Option(help: "Dataset folder: SA-Med2D-20M (SAMed2D_v1.json), IMed-361M (dataset.json, or one per subfolder) or images/ + masks/.")
    var data: String
    @Option(help: "Model: a preset (syncsam34, syncsam50, sam_vit_b_256) or a JSON configuration file; optional with --checkpoint.")
    var config: String?
    @Option(name: .customLong("init"), help: "Start from pretrained weights: sam=FILE,cnn=FILE (a SAM checkpoint of any input size, a torchvision ResNet).")
    var initSpec: String?
    @Option(help: "Resume this training checkpoint (model, optimiser, epoch and batch, RNG state, settings).")
    var checkpoint: String?
    @Option(help: "Output folder.") var out: String
    @Option(help: "Epochs (default 12); with --checkpoint it may extend the run.") var epochs: Int?
    @Option(help: "Base learning rate (default 1e-4, x0.1 from epoch 10).") var lr: Float?
    @Option(help: "Images per batch (default 2).") var imagesPerBatch: Int?
    @Option(help: "Masks per image, drawn with replacement (default 5).") var masksPerImage: Int?
    @Option(help: "adam (default) or adamw (weight decay 0.01).") var optimizer: OptimizerKind?
    @Option(help: "Trained set: paper (SyncSAM default), decoder (FT-SAM, SAM default) or none (full fine-tuning).")
    var freeze: String?
    @Option(help: "Seed of the split, data order, masks, prompts and random initialisation (default 0).") var seed: UInt64?
    @Option(help: "Stop after N batches (each is 1 + 8 optimiser updates) and save last.safetensors.") var maxSteps: Int?
    @Option(help: "Also checkpoint every N batches (default: at the end of each epoch only).") var checkpointEvery: Int?

    func run() throws {
        do { try train() } catch { fail("\(error)") }
    }

    private func train() throws {
        if initSpec != nil && checkpoint != nil { fail("--init starts a new run and --checkpoint resumes one: give one of them") }
        for (name, value) in [("--epochs", epochs), ("--images-per-batch", imagesPerBatch), ("--masks-per-image", masksPerImage),
                              ("--max-steps", maxSteps)] {
            if let value, value < 1 { fail("\(name) must be at least 1, got \(value)") }
        }
        if let lr, !(lr > 0) { fail("--lr must be positive, got \(lr)") }
        if let c = checkpointEvery, c < 0 { fail("--checkpoint-every must not be negative") }
        let freezeMode = freeze.map { text -> FreezeMode in
            guard let mode = FreezeMode(rawValue: text) else { fail("--freeze '\(text)': expected paper, decoder or none") }
            return mode
        }
        let spec = try initSpec.map(InitSpec.init(parsing:))
        let dataRoot = URL(fileURLWithPath: data)
        _ = try DatasetLayout.detect(dataRoot)
        let outDir = URL(fileURLWithPath: out)

        // Settings and architecture (cheap checks first, weights last).
        var settings: TrainingConfig
        let kind: ModelKind, modelConfig: SyncSAMConfig, configJSON: String?, modelName: String
        var resumeFrom: URL?
        if let checkpoint {
            let url = URL(fileURLWithPath: checkpoint)
            guard FileManager.default.fileExists(atPath: url.path) else { fail("\(checkpoint): file not found") }
            let state: InteractiveTrainer.State?, storedJSON: String?
            do { (state, storedJSON) = (try TrainingCheckpoint.state(at: url), try TrainingCheckpoint.modelConfigJSON(at: url)) }
            catch { throw TrainingSetupError.notTrainingCheckpoint(checkpoint) }
            guard let state else { throw TrainingSetupError.notTrainingCheckpoint(checkpoint) }
            let stored = try storedJSON.map { try SyncSAMConfig.decode(json: Data($0.utf8)) }
            if let config {
                let wanted = try TrainableModel.resolve(config: config)
                if let stored, stored != wanted.config {
                    throw TrainingSetupError.architectureMismatch(path: checkpoint, detail: "it holds \(describe(stored)), --config \(config) is \(describe(wanted.config))")
                }
            }
            var fromOption: SyncSAMConfig?
            if stored == nil, let config { fromOption = try TrainableModel.resolve(config: config).config }
            guard let cfg = stored ?? fromOption else { fail("\(checkpoint): no model configuration embedded; pass --config NAME") }
            modelConfig = cfg
            kind = TrainableModel.kind(of: cfg)
            configJSON = storedJSON
            modelName = config.map { ModelPreset.named($0) != nil ? $0 : URL(fileURLWithPath: $0).lastPathComponent } ?? describe(cfg)
            settings = state.config
            try checkUnchanged(settings)
            if let epochs { settings.epochs = epochs }
            if let checkpointEvery { settings.checkpointEveryBatches = checkpointEvery }
            resumeFrom = url
        } else {
            guard let config else { fail("--config NAME is required (or --checkpoint FILE to resume a run)") }
            (kind, modelConfig) = try TrainableModel.resolve(config: config)
            configJSON = nil
            modelName = ModelPreset.named(config) != nil ? config : URL(fileURLWithPath: config).lastPathComponent
            let last = outDir.appendingPathComponent(TrainingRun.lastCheckpointFile)
            if FileManager.default.fileExists(atPath: last.path) {
                fail("\(out) already holds a run; resume it with --checkpoint \(last.path) or choose another --out")
            }
            settings = TrainingConfig()
            if let epochs { settings.epochs = epochs }
            if let imagesPerBatch { settings.imagesPerBatch = imagesPerBatch }
            if let masksPerImage { settings.masksPerImage = masksPerImage }
            if let seed { settings.seed = seed }
            if let checkpointEvery { settings.checkpointEveryBatches = checkpointEvery }
            let rate = lr ?? AdamConfig.paper.learningRate
            settings.optimizer = optimizer == .adamw ? .adamW(learningRate: rate) : AdamConfig(learningRate: rate)
            settings.freeze = freezeMode
        }

        if (settings.freeze ?? (kind == .syncsam ? .paper : .decoder)) == .paper && kind != .syncsam {
            throw TrainingSetupError.freezeNeedsSyncSAM
        }
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let dataset = try TrainingData(root: dataRoot, seed: settings.seed, splitFile: outDir.appendingPathComponent("split.json"))

        let batches = (dataset.trainRecords.count + settings.imagesPerBatch - 1) / settings.imagesPerBatch
        let progress = TrainingProgress(totalEpochs: settings.epochs, batchesPerEpoch: batches)
        let built = TrainableModel(kind: kind, config: modelConfig, seed: settings.seed)
        if let spec {
            let report = try PretrainedInitialisation.apply(spec, to: built.model)
            var parts: [String] = []
            if let s = spec.sam, let r = report.sam { parts.append("SAM \(s) (\(r.loaded.count) tensors)") }
            if let c = spec.cnn, let r = report.cnn { parts.append("ResNet \(c) (\(r.loaded.count) tensors)") }
            if report.zeroedFusion { parts.append("fusion projections zeroed") }
            progress.message("init: " + parts.joined(separator: ", "))
        } else if resumeFrom == nil {
            progress.message("init: none given, training from random weights (seed \(settings.seed))")
        }
        let mode = settings.freeze ?? FreezeMode.defaultMode(for: built.model)
        try mode.apply(to: built.model)
        settings.freeze = mode
        let trainer = InteractiveTrainer(model: built.model, dataset: dataset.index, records: dataset.trainRecords, config: settings)
        if let resumeFrom {
            do { try trainer.restore(from: resumeFrom) } catch {
                throw TrainingSetupError.weights(path: resumeFrom.path, reason: "\(error)")
            }
            progress.message("resumed \(resumeFrom.path): epoch \(trainer.epoch + 1), batch \(trainer.batch), \(trainer.updates) updates done")
        }

        let counts = built.parameterCounts
        progress.message("model \(modelName) (\(kind.rawValue)): \(counts.total.formatted()) parameters, \(counts.trainable.formatted()) trainable (freeze \(mode.rawValue)); \(settings.optimizer.decoupledWeightDecay ? "AdamW" : "Adam") lr \(settings.optimizer.learningRate)")
        progress.message("data \(dataset.index.name) (\(dataset.layout.rawValue)): \(dataset.trainRecords.count) training images, \(dataset.split.test.count) test (\(dataset.split.unit.rawValue) split), \(batches) batches/epoch of \(settings.imagesPerBatch) images x \(settings.masksPerImage) masks")
        if trainer.epoch >= settings.epochs {
            progress.message("nothing to do: \(trainer.epoch) of \(settings.epochs) epochs done (pass --epochs to extend)")
            return
        }
        let run = try TrainingRun(trainer: trainer, directory: outDir, modelConfigJSON: configJSON ?? built.configJSON,
                                  title: "\(modelName) on \(dataset.index.name)")
        run.progress = progress
        try run.run(maxBatches: maxSteps)
        if trainer.epoch < settings.epochs {
            progress.message("stopped at epoch \(trainer.epoch + 1), batch \(trainer.batch) (\(trainer.updates) updates); resume with --checkpoint \(run.lastCheckpointURL.path)")
        } else {
            progress.message("done: \(settings.epochs) epochs, \(trainer.updates) updates; \(run.lastCheckpointURL.path), \(run.curveURL.path)")
        }
    }

    /// A resumed run keeps its settings: an option given again must repeat the checkpoint's value.
    private func checkUnchanged(_ s: TrainingConfig) throws {
        func check<T: Equatable>(_ option: String, _ given: T?, _ stored: T) throws {
            if let given, given != stored { throw TrainingSetupError.settingConflict(option: option, given: "\(given)", stored: "\(stored)") }
        }
        try check("--lr", lr, s.optimizer.learningRate)
        try check("--images-per-batch", imagesPerBatch, s.imagesPerBatch)
        try check("--masks-per-image", masksPerImage, s.masksPerImage)
        try check("--seed", seed, s.seed)
        try check("--optimizer", optimizer?.rawValue, s.optimizer.decoupledWeightDecay ? "adamw" : "adam")
        if let freeze, let stored = s.freeze { try check("--freeze", freeze, stored.rawValue) }
    }

    private func describe(_ c: SyncSAMConfig) -> String {
        var text = "\(TrainableModel.kind(of: c).rawValue) \(c.imageSize)px, ViT \(c.vit.embedDim)x\(c.vit.depth)"
        if let cnn = c.cnn { text += ", ResNet \(cnn.block.rawValue) \(cnn.layers)" }
        return text
    }
}
