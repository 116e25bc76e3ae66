import Foundation
import MedImage
import SyncTensor
import XCTest
@testable import SyncTrain

final class DatasetTests: XCTestCase {
    func testSAMed2DNameParsing() throws {
        let n = try SAMed2DDataset.parseImageName("images/ct_00--AbdomenCT1K--Case_00011--x_0040.png")
        XCTAssertEqual(n, .init(modality: "ct_00", dataset: "AbdomenCT1K", caseID: "Case_00011", axis: "x", slice: 40))
        let m = try SAMed2DDataset.parseMaskName("masks/ct_00--AbdomenCT1K--Case_00011--x_0041--0003_012.png")
        XCTAssertEqual(m.classID, 3); XCTAssertEqual(m.instance, 12)
        XCTAssertThrowsError(try SAMed2DDataset.parseImageName("images/foo--bar.png"))
        XCTAssertThrowsError(try SAMed2DDataset.parseMaskName("masks/a--b--c--x_1--zz.png"))
    }

    /// Counts, per-modality and per-dataset totals against the dataset's own stats.json; class names from the mapping.
    func testSAMed2DMiniIndexMatchesItsStatistics() throws {
        let root = try Shared.data("samed2d_mini")
        let index = try SAMed2DDataset.index(root: root)
        let stats = try Shared.json(root.appendingPathComponent("stats.json")) as! [String: Any]
        XCTAssertEqual(index.records.count, stats["images"] as? Int)
        XCTAssertEqual(index.maskCount, stats["masks"] as? Int)
        XCTAssertEqual(index.records.count, 707)
        XCTAssertEqual(index.maskCount, 5319)
        for (key, field) in [("by_modality", \ImageRecord.modality), ("by_dataset", \ImageRecord.dataset)] {
            let expected = stats[key] as! [String: [String: Int]]
            let groups = Dictionary(grouping: index.records) { $0[keyPath: field] ?? "?" }
            XCTAssertEqual(Set(groups.keys), Set(expected.keys), key)
            for (k, recs) in groups {
                XCTAssertEqual(recs.count, expected[k]?["images"], "\(key) \(k) images")
                XCTAssertEqual(recs.reduce(0) { $0 + $1.masks.count }, expected[k]?["masks"], "\(key) \(k) masks")
            }
        }
        // Class names, areas and boxes against the per-mask provenance in SAMed2D_v1_meta.json.
        let meta = try Shared.json(root.appendingPathComponent("SAMed2D_v1_meta.json")) as! [String: [String: Any]]
        let record = index.records[index.records.count / 2]
        let info = meta[record.id]!
        XCTAssertEqual(info["case"] as? String, record.caseID)
        XCTAssertEqual(info["slice"] as? Int, record.slice)
        let maskInfo = info["masks"] as! [String: [String: Any]]
        let loaded = try index.loadMasks(record, indices: Array(record.masks.indices))
        let image = try index.loadImage(record)
        XCTAssertEqual((info["image_hw"] as! [Int]), [image.height, image.width])
        for (m, mask) in zip(record.masks, loaded) {
            let e = maskInfo[m.id]!
            XCTAssertEqual(m.className, e["class"] as? String)
            XCTAssertEqual(m.classID, e["class_id"] as? Int)
            XCTAssertEqual(mask.area, e["area_px"] as? Int, m.id)
            let box = try XCTUnwrap(mask.boundingBox)   // inclusive maxima, as the meta file's bbox_xyxy
            XCTAssertEqual([box.x0, box.y0, box.x1, box.y1], e["bbox_xyxy"] as! [Int], m.id)
        }
    }

    /// The plain folder layout indexes the same files (samed2d_mini is also `images/NAME.png` + `masks/NAME--*.png`).
    func testFolderDatasetOnSAMed2DMini() throws {
        let root = try Shared.data("samed2d_mini")
        let folder = try FolderDataset.index(root: root)
        let reference = try SAMed2DDataset.index(root: root)
        XCTAssertEqual(folder.records.count, 707)
        XCTAssertEqual(folder.maskCount, 5319)
        XCTAssertEqual(folder.records.map(\.id), reference.records.map(\.id))
        XCTAssertEqual(folder.records.map { $0.masks.map(\.id) }, reference.records.map { $0.masks.map(\.id) })
    }

    func testSplitsAreSeededDisjointAndCaseClean() throws {
        let index = try SAMed2DDataset.index(root: try Shared.data("samed2d_mini"))
        let a = DatasetSplit.byImage(index.records, seed: 7)
        XCTAssertEqual(a, DatasetSplit.byImage(index.records, seed: 7))
        XCTAssertNotEqual(a.test, DatasetSplit.byImage(index.records, seed: 8).test)
        XCTAssertEqual(a.test.count, Int((707 * 0.2).rounded()))
        XCTAssertEqual(Set(a.train).union(a.test).count, 707)
        XCTAssertTrue(Set(a.train).isDisjoint(with: a.test))

        let c = DatasetSplit.byCase(index.records, seed: 7)
        let caseOf = Dictionary(uniqueKeysWithValues: index.records.map { ($0.id, $0.caseKey) })
        XCTAssertTrue(Set(c.train.map { caseOf[$0]! }).isDisjoint(with: c.test.map { caseOf[$0]! }))
        XCTAssertEqual(c.train.count + c.test.count, 707)
        XCTAssertFalse(c.test.isEmpty)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("split-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        let first = try DatasetSplit.loadOrCreate(at: url) { a }
        let second = try DatasetSplit.loadOrCreate(at: url) { DatasetSplit.byImage(index.records, seed: 99) }
        XCTAssertEqual(first, a); XCTAssertEqual(second, a)   // the saved split wins
    }

    /// IMIS: official split sizes from dataset.json, masks = non-empty channels matching provenance's class lists.
    func testIMISMiniIndexAndLabels() throws {
        let root = try Shared.data("imis_mini").appendingPathComponent("TotalSegCT")
        let index = try IMISDataset.index(root: root)
        let desc = try Shared.json(root.appendingPathComponent("dataset.json")) as! [String: Any]
        XCTAssertEqual(index.officialSplit?.train.count, desc["numTraining"] as? Int)
        XCTAssertEqual(index.officialSplit?.test.count, desc["numTest"] as? Int)
        XCTAssertEqual(index.officialSplit?.train.count, 112)
        XCTAssertEqual(index.officialSplit?.test.count, 20)
        let provenance = try Shared.json(root.deletingLastPathComponent().appendingPathComponent("provenance.json")) as! [String: Any]
        let images = provenance["images"] as! [String: [String: Any]]
        for record in index.records {
            let present = images[record.id]?["classes_present"] as? [String]
            XCTAssertEqual(Set(record.masks.compactMap(\.className)), Set(present ?? []), record.id)
        }
        XCTAssertEqual(try IMISDataset.labelShape(fromFileName: "label/x___a.b.(117, 101, 122, 1).npz").height, 101)
        // Decoded channels: non-empty, image-sized, channel k <-> class k + 1.
        let record = index.records[0]
        let image = try index.loadImage(record)
        let masks = try index.loadMasks(record, indices: Array(record.masks.indices))
        for (m, mask) in zip(record.masks, masks) {
            XCTAssertEqual(mask.width, image.width); XCTAssertEqual(mask.height, image.height)
            XCTAssertGreaterThanOrEqual(mask.area, provenance["min_area_px"] as? Int ?? 1, m.id)
            if case .sparseChannel(_, let k) = m.source { XCTAssertEqual(m.classID, k + 1) }
        }
    }

    /// SPEC 0 preprocessing on a hand-made 2x1 image: padding, grey replication, resize and normalisation.
    func testSamplePreparationByHand() throws {
        let prep = SamplePreparation(imageSize: 4)
        // Grey 2 wide x 1 high: values 10, 250. Padded to 2x2 with zeros, bilinear 2 -> 4 (scale 0.5).
        let img = try Image2D(width: 2, height: 1, channels: 1, pixels: [10, 250])
        let (t, g) = try prep.image(img)
        XCTAssertEqual(t.shape, [3, 4, 4])
        XCTAssertEqual([g.contentWidth, g.contentHeight, g.originalWidth, g.originalHeight], [4, 2, 2, 1])
        // Upsampling, so the antialiased filter equals plain bilinear (align_corners=False).
        // Output row 0 samples input row 0 only (src y = max(0.5*0.5-0.5, 0) = 0); columns: 10, 70, 190, 250.
        // Row 1 (src y = 0.25): 0.75 row0 + 0.25 row1(0) -> 7.5, 52.5, 142.5, 187.5.
        let expectedRow0: [Float] = [10, 70, 190, 250], expectedRow1: [Float] = [7.5, 52.5, 142.5, 187.5]
        let v = t.toArray()
        let mean: [Float] = [123.675, 116.28, 103.53], std: [Float] = [58.395, 57.12, 57.375]   // SPEC 0
        for ch in 0..<3 {
            for x in 0..<4 {
                XCTAssertEqual(v[ch * 16 + x], (expectedRow0[x] - mean[ch]) / std[ch], accuracy: 1e-5)
                XCTAssertEqual(v[ch * 16 + 4 + x], (expectedRow1[x] - mean[ch]) / std[ch], accuracy: 1e-5)
            }
        }
        // Masks: pad then nearest (index floor(dst * 2 / 4)).
        let m = try BinaryMask(width: 2, height: 1, values: [0, 1])
        XCTAssertEqual(prep.mask(m).values, [0, 0, 1, 1,  0, 0, 1, 1,  0, 0, 0, 0,  0, 0, 0, 0])
        // Back to the original frame: logits > 0 exactly where the mask is.
        let logits = Tensor(shape: [1, 1, 4, 4], values: prep.mask(m).values.map { $0 == 1 ? 5 : -5 })
        XCTAssertEqual(prep.originalMask(fromLogits: logits, transform: g), m)
    }

    func testTrainingBatchesAreReproducibleAndPrefetched() throws {
        let index = try SAMed2DDataset.index(root: try Shared.data("samed2d_mini"))
        let records = Array(index.records.prefix(6))
        let sampler = TrainingSampler(dataset: index, records: records, preparation: SamplePreparation(imageSize: 64),
                                      masksPerImage: 5, imagesPerBatch: 4, seed: 3)
        XCTAssertEqual(sampler.batchesPerEpoch, 2)
        XCTAssertEqual(sampler.epochOrder(0).flatMap { $0 }.sorted(), Array(0..<6))
        XCTAssertNotEqual(sampler.epochOrder(0), sampler.epochOrder(1))
        let b = try XCTUnwrap(try sampler.batch(epoch: 0, batch: 0))
        XCTAssertEqual(b.images.shape, [4, 3, 64, 64])
        XCTAssertEqual(b.targets.shape, [20, 1, 64, 64])
        XCTAssertEqual(b.masks.count, 20)
        XCTAssertTrue(b.masks.allSatisfy { !$0.isEmpty })
        XCTAssertEqual(b.targets.toArray().reduce(0, +), Float(b.masks.reduce(0) { $0 + $1.area }))
        for (k, id) in b.maskIDs.enumerated() {
            XCTAssertTrue(records.first { $0.id == b.recordIDs[k / 5] }!.masks.contains { $0.id == id })
        }
        let again = try XCTUnwrap(try sampler.batch(epoch: 0, batch: 0))
        XCTAssertEqual(again.maskIDs, b.maskIDs)
        XCTAssertEqual(again.images.toArray(), b.images.toArray())

        let prefetcher = sampler.prefetchedEpoch(0, capacity: 1)
        var got: [TrainingBatch] = []
        while let item = try prefetcher.next() { got.append(try XCTUnwrap(item)) }
        XCTAssertEqual(got.count, 2)
        XCTAssertEqual(got[0].maskIDs, b.maskIDs)
        XCTAssertEqual(got[1].maskIDs, try sampler.batch(epoch: 0, batch: 1)?.maskIDs)
    }

    /// A mask that vanishes under the resize is never drawn; an image with only such masks is skipped.
    func testEmptyAfterResizeMasksAreSkipped() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("folder-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("masks"), withIntermediateDirectories: true)
        let side = 64
        try PNGCodec.writeGrey8([UInt8](repeating: 100, count: side * side), width: side, height: side,
                                to: dir.appendingPathComponent("images/a.png"))
        var big = [UInt8](repeating: 0, count: side * side)
        for y in 8..<40 { for x in 8..<40 { big[y * side + x] = 255 } }
        var tiny = [UInt8](repeating: 0, count: side * side)
        tiny[1 * side + 1] = 255   // odd row/column: nearest 64 -> 8 samples only multiples of 8
        try PNGCodec.writeGrey8(big, width: side, height: side, to: dir.appendingPathComponent("masks/a--big.png"))
        try PNGCodec.writeGrey8(tiny, width: side, height: side, to: dir.appendingPathComponent("masks/a--tiny.png"))
        let index = try FolderDataset.index(root: dir)
        XCTAssertEqual(index.maskCount, 2)
        let sampler = TrainingSampler(dataset: index, records: index.records, preparation: SamplePreparation(imageSize: 8),
                                      masksPerImage: 5, imagesPerBatch: 1, seed: 1)
        for epoch in 0..<5 {
            let b = try XCTUnwrap(try sampler.batch(epoch: epoch, batch: 0))
            XCTAssertEqual(b.maskIDs, Array(repeating: "masks/a--big.png", count: 5))
        }
        var onlyTiny = index.records[0]
        onlyTiny.masks = onlyTiny.masks.filter { $0.id.hasSuffix("tiny.png") }
        var rng = SeededRandom(seed: 1)
        XCTAssertNil(try sampler.sample(onlyTiny, rng: &rng))
    }

    func testPrefetcherPropagatesErrorsAndKeepsOrder() throws {
        struct Boom: Error {}
        let p = Prefetcher<Int>(count: 10, capacity: 2) { i in
            if i == 4 { throw Boom() }
            return i * i
        }
        var values: [Int] = []
        XCTAssertThrowsError(try { while let v = try p.next() { values.append(v) } }())
        XCTAssertEqual(values, [0, 1, 4, 9])
        XCTAssertNil(try p.next())
    }
}
