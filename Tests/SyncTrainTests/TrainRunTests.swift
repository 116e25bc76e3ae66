import Foundation
import SyncIO
import SyncNN
import SyncSAM
import SyncTensor
import XCTest
@testable import SyncTrain

/// `TrainingRun` (the `syncsam train` output folder), dataset layout detection and the training curve.
final class TrainRunTests: XCTestCase {
    func firstSyncSAMFixtureConfig() throws -> SyncSAMConfig {
        guard let root = Shared.root else { throw XCTSkip("shared folder not found") }
        let dir = root.appendingPathComponent("fixtures")
        let sets = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { dir.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("syncsam.json").path) }
        guard let set = sets.first else { throw XCTSkip("no syncsam fixture set") }
        return try SyncSAMConfig.decode(json: Data(contentsOf: set.appendingPathComponent("syncsam.json")))
    }

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trainrun-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// One epoch in one go equals one batch, an interruption (the process dies after logging two more updates
    /// and half a line), a fresh model restored from `last.safetensors`, and the rest of the epoch: the same
    /// log byte for byte (so the same losses), the same checkpoints and the same curve.
    func testResumedRunContinuesBitForBit() throws {
        let modelConfig = try firstSyncSAMFixtureConfig()
        let index = try SAMed2DDataset.index(root: try Shared.data("samed2d_mini"))
        let records = Array(index.records.prefix(6))
        var config = TrainingConfig()
        config.epochs = 1
        config.imagesPerBatch = 2
        config.masksPerImage = 2
        config.optimizer = AdamConfig(learningRate: 1e-3)
        config.simulation.innerIterations = 3
        config.simulation.randomMaskOnlyRange = 1...1
        config.seed = 7
        config.freeze = .paper
        let configJSON = TrainableModel(kind: .syncsam, config: modelConfig).configJSON
        func trainer(seed: UInt64) throws -> InteractiveTrainer {
            let model = SyncSAMModel(config: modelConfig, seed: seed)
            try config.freeze!.apply(to: model)
            return InteractiveTrainer(model: model, dataset: index, records: records, config: config)
        }
        let straightDir = try temporaryDirectory(), resumedDir = try temporaryDirectory()

        let straight = try trainer(seed: 1)
        try TrainingRun(trainer: straight, directory: straightDir, modelConfigJSON: configJSON).run()
        XCTAssertEqual(straight.epoch, 1)
        XCTAssertEqual(straight.updates, 3 * 4)

        let first = try trainer(seed: 1)
        let firstRun = try TrainingRun(trainer: first, directory: resumedDir, modelConfigJSON: configJSON)
        try firstRun.run(maxBatches: 1)
        XCTAssertEqual(first.updates, 4)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumedDir.appendingPathComponent("checkpoint_epoch1.safetensors").path))
        // An interrupted process may have logged updates past its last checkpoint, the last line unfinished.
        let metrics = firstRun.metricsURL
        let logged = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
        let handle = try FileHandle(forWritingTo: metrics)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((logged[1] + "\n" + logged[2] + "\n{\"batch\":1,\"cli").utf8))
        try handle.close()

        let resumed = try trainer(seed: 99)   // a different init: everything must come from the checkpoint
        let last = resumedDir.appendingPathComponent(TrainingRun.lastCheckpointFile)
        try resumed.restore(from: last)
        XCTAssertEqual(resumed.batch, 1)
        XCTAssertEqual(try TrainingCheckpoint.state(at: last)?.config, config)
        let resumedRun = try TrainingRun(trainer: resumed, directory: resumedDir, modelConfigJSON: configJSON)
        XCTAssertEqual(try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").count, 4, "log cut back to the checkpoint")
        XCTAssertEqual(resumedRun.curve.updates, 4)
        try resumedRun.run()
        XCTAssertEqual(resumed.updates, straight.updates)

        let straightLog = try Data(contentsOf: straightDir.appendingPathComponent(TrainingRun.metricsFile))
        let resumedLog = try Data(contentsOf: metrics)
        XCTAssertEqual(resumedLog, straightLog, "metrics.jsonl byte for byte")
        let steps = try String(decoding: straightLog, as: UTF8.self).split(separator: "\n")
            .map { try JSONDecoder().decode(StepRecord.self, from: Data($0.utf8)) }
        XCTAssertEqual(steps.map(\.iteration), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
        XCTAssertEqual(steps.map(\.batch), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
        XCTAssertTrue(steps.allSatisfy { $0.loss.isFinite && $0.loss > 0 && $0.dice >= 0 && $0.dice <= 1 })
        XCTAssertGreaterThan(Set(steps.map(\.loss)).count, 1)
        for (a, b) in zip(straight.model.store.namedTensors, resumed.model.store.namedTensors) {
            XCTAssertEqual(a.0, b.0)
            XCTAssertEqual(a.1.toArray(), b.1.toArray(), a.0)
        }
        for file in [TrainingRun.lastCheckpointFile, TrainingRun.epochCheckpointFile(1), TrainingRun.curveFile] {
            let a = try Data(contentsOf: straightDir.appendingPathComponent(file))
            let b = try Data(contentsOf: resumedDir.appendingPathComponent(file))
            XCTAssertEqual(a, b, "\(file) identical")
        }
        // The epoch checkpoint is a complete training checkpoint with the model config embedded.
        let kept = straightDir.appendingPathComponent(TrainingRun.epochCheckpointFile(1))
        XCTAssertEqual(try TrainingCheckpoint.modelConfigJSON(at: kept), configJSON)
        XCTAssertEqual(try TrainingCheckpoint.state(at: kept)?.epoch, 1)
        XCTAssertEqual(try TrainingCheckpoint.state(at: kept)?.updates, 12)
    }

    func testDatasetLayoutsAndSplits() throws {
        let samed = try Shared.data("samed2d_mini")
        let dir = try temporaryDirectory()
        XCTAssertEqual(try DatasetLayout.detect(samed), .samed2d)
        let splitFile = dir.appendingPathComponent("split.json")
        let data = try TrainingData(root: samed, seed: 3, splitFile: splitFile)
        let n = data.index.records.count
        XCTAssertEqual(data.split.unit, .image)
        XCTAssertEqual(data.split.test.count, Int((Double(n) * 0.2).rounded()))
        XCTAssertEqual(data.split.train.count + data.split.test.count, n)
        XCTAssertTrue(Set(data.split.train).isDisjoint(with: data.split.test))
        XCTAssertEqual(data.trainRecords.count, data.index.records(in: data.split.train).filter { !$0.masks.isEmpty }.count)
        // The saved split wins over a new seed (every later run uses the same split).
        XCTAssertEqual(try TrainingData(root: samed, seed: 4, splitFile: splitFile).split, data.split)
        XCTAssertNotEqual(DatasetSplit.byImage(data.index.records, seed: 4), data.split)

        // IMIS: one dataset folder, or the parent of dataset folders; the official split either way.
        let imis = try Shared.data("imis_mini")
        let subfolders = DatasetLayout.imisSubfolders(imis)
        XCTAssertFalse(subfolders.isEmpty)
        XCTAssertEqual(try DatasetLayout.detect(imis), .imis)
        let whole = try TrainingData(root: imis, seed: 0, splitFile: dir.appendingPathComponent("imis.json"))
        var expectedTrain = 0
        for sub in subfolders {
            let one = try TrainingData(root: imis.appendingPathComponent(sub), seed: 0, splitFile: dir.appendingPathComponent("\(sub).json"))
            XCTAssertEqual(one.split.unit, .official)
            XCTAssertEqual(one.split, one.index.officialSplit)
            expectedTrain += one.trainRecords.count
            // Paths are prefixed with the subfolder, so the union loads the same masks.
            let r = one.trainRecords[0]
            let u = try XCTUnwrap(whole.index.records.first { $0.id == "\(sub)/\(r.id)" })
            XCTAssertEqual(try whole.index.loadMasks(u, indices: [0]), try one.index.loadMasks(r, indices: [0]))
        }
        XCTAssertEqual(whole.trainRecords.count, expectedTrain)
        XCTAssertEqual(whole.split.unit, .official)

        // A plain folder: images/NAME.png + masks/NAME--*.png.
        let folder = dir.appendingPathComponent("folder")
        let fm = FileManager.default
        try fm.createDirectory(at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
        try fm.createDirectory(at: folder.appendingPathComponent("masks"), withIntermediateDirectories: true)
        for record in data.index.records.prefix(5) {
            let stem = "case\(record.slice ?? 0)"
            try fm.copyItem(at: samed.appendingPathComponent(record.imagePath), to: folder.appendingPathComponent("images/\(stem).png"))
            guard case .png(let m) = record.masks[0].source else { continue }
            try fm.copyItem(at: samed.appendingPathComponent(m), to: folder.appendingPathComponent("masks/\(stem)--liver.png"))
        }
        XCTAssertEqual(try DatasetLayout.detect(folder), .folder)
        let plain = try TrainingData(root: folder, seed: 1, splitFile: folder.appendingPathComponent("split.json"))
        XCTAssertEqual(plain.split.test.count, 1)
        XCTAssertEqual(plain.trainRecords.count, 4)

        XCTAssertThrowsError(try DatasetLayout.detect(dir.appendingPathComponent("absent"))) {
            XCTAssertEqual($0 as? TrainingSetupError, .missingData(dir.appendingPathComponent("absent").path))
        }
        XCTAssertThrowsError(try DatasetLayout.detect(folder.appendingPathComponent("images"))) {
            XCTAssertEqual($0 as? TrainingSetupError, .unrecognisedDataset(folder.appendingPathComponent("images").path))
        }
    }

    /// Bins stay bounded and keep exact means; epoch means are the plain means of their updates.
    func testCurveBinsAndEpochMeans() throws {
        var curve = TrainingCurve(batchesPerEpoch: 10, maxBins: 8)
        var records: [StepRecord] = []
        for k in 0..<60 {   // 2 epochs x 10 batches x 3 updates; loss = k, Dice loss = k / 100
            records.append(StepRecord(epoch: k / 30, batch: (k % 30) / 3, iteration: k % 3, prompt: "box", clicks: 0,
                                      learningRate: 1e-4, loss: Double(k), dice: Double(k) / 100, focal: 0))
        }
        for r in records { curve.add(r) }
        XCTAssertEqual(curve.updates, 60)
        XCTAssertLessThanOrEqual(curve.points.count, 9)
        XCTAssertEqual(curve.points.reduce(0) { $0 + $1.count }, 60)
        XCTAssertEqual(curve.binSize, 8)   // 60 updates into <= 8 bins: 1 -> 2 -> 4 -> 8
        XCTAssertEqual(curve.bins[0].loss, 3.5, accuracy: 1e-12)            // mean of 0...7
        XCTAssertEqual(curve.bins[0].dice, 1 - 0.035, accuracy: 1e-12)
        XCTAssertEqual(curve.epochs.count, 2)
        XCTAssertEqual(curve.epochs[0].loss, 14.5, accuracy: 1e-12)         // mean of 0...29
        XCTAssertEqual(curve.epochs[1].loss, 44.5, accuracy: 1e-12)
        XCTAssertEqual(curve.epochs[1].dice, 1 - 0.445, accuracy: 1e-12)
        let weighted = curve.points.reduce(0.0) { $0 + $1.loss * Double($1.count) } / 60
        XCTAssertEqual(weighted, 29.5, accuracy: 1e-9)

        let svg = TrainingCurveSVG.render(curve, title: "tiny <test>", totalEpochs: 12)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertTrue(svg.contains("tiny &lt;test&gt;"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 4)   // bins + epoch means, two panels
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 4)     // 2 epochs x 2 panels
        XCTAssertTrue(svg.contains("epoch mean 44.5"))
        XCTAssertEqual(TrainingCurveSVG.niceRange([0.3, 17.2]), 0...20)
        XCTAssertEqual(TrainingCurveSVG.niceRange([2.6]), 0...5)
        XCTAssertEqual(TrainingProgress.duration(37), "37s")
        XCTAssertEqual(TrainingProgress.duration(252), "4m12s")
        XCTAssertEqual(TrainingProgress.duration(7500), "2h05m")
    }
}
