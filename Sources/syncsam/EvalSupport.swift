import ArgumentParser
import Foundation
import MedImage
import SyncSAM
import SyncTrain

// Options and helpers shared by `syncsam eval` and `syncsam eval finetune-decoder`.

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
