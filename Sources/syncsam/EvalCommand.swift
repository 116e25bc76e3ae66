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
