import Foundation
import MedImage
@testable import SyncSAM
import SyncIO
import SyncNN
import SyncTensor
import XCTest
@testable import SyncTrain

/// Decoder-only fine-tuning on cached embeddings, the embedding cache, and the named fine-tuned model overlay,
/// with a small random LiteMedSAM (TinyViT widths 8-32, 32-wide decoder).
final class EvalFineTuneTests: XCTestCase {
    static let smallConfig = """
    {"image_size": 256, "embed_dims": [8, 16, 24, 32], "depths": [1, 1, 1, 1], "num_heads": [1, 2, 3, 4],
     "window_sizes": [7, 7, 14, 7], "mlp_ratio": 2.0, "mbconv_expand_ratio": 2.0, "local_conv_size": 3,
     "prompt_embed_dim": 32, "mask_in_chans": 4, "decoder_depth": 1, "decoder_heads": 4, "decoder_mlp_dim": 32}
    """

    func smallModel(seed: UInt64) throws -> LoadedModel {
        let config = try JSONDecoder().decode(LiteMedSAMConfig.self, from: Data(Self.smallConfig.utf8))
        return LoadedModel(name: "small", family: .liteMedSAM, model: try LiteMedSAM(config: config, seed: seed),
                           configJSON: Self.smallConfig, hasMultimaskHead: false)
    }

    func makeDataset(_ dir: URL) throws -> DatasetIndex {
        for sub in ["images", "masks"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let w = 40, h = 30
        for name in ["p", "q"] {
            var img = [UInt8](repeating: 20, count: w * h), m = [UInt8](repeating: 0, count: w * h)
            for y in 8..<20 { for x in 10..<28 { img[y * w + x] = 200; m[y * w + x] = 255 } }
            try PNGCodec.writeGrey8(img, width: w, height: h, to: dir.appendingPathComponent("images/\(name).png"))
            try PNGCodec.writeGrey8(m, width: w, height: h, to: dir.appendingPathComponent("masks/\(name)--r.png"))
        }
        return try FolderDataset.index(root: dir)
    }

    func testDecoderOnlyUpdatesOnCachedEmbeddings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evalft-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try makeDataset(dir)
        let loaded = try smallModel(seed: 1)
        // Embeddings once, through the file cache: a second cache on the same folder reads them back exactly.
        let cache = try EmbeddingCache(directory: dir.appendingPathComponent("emb"))
        try cache.fill(model: loaded.model, preprocessing: .liteMedSAM, dataset: dataset, records: dataset.records)
        XCTAssertEqual(cache.count, 2)
        let reread = try EmbeddingCache(directory: dir.appendingPathComponent("emb"))
        let a = try XCTUnwrap(cache.embedding(for: "images/p.png")).features
        XCTAssertEqual(try XCTUnwrap(reread.embedding(for: "images/p.png")).features.toArray(), a.toArray())
        XCTAssertEqual(a.shape, [1, 32, loaded.model.maskSize / 4, loaded.model.maskSize / 4])
        let half = try EmbeddingCache(halfPrecision: true)
        try half.insert(ImageEmbedding(features: a), for: "x")
        let h = try XCTUnwrap(half.embedding(for: "x")).features.toArray()
        XCTAssertEqual(zip(h, a.toArray()).map { abs($0 - $1) / max(abs($1), 1e-3) }.max()!, 0, accuracy: 1e-3)

        let before = Dictionary(uniqueKeysWithValues: loaded.model.store.entries.map { ($0.name, $0.tensor.toArray()) })
        var config = DecoderFineTuningConfig()
        config.training.epochs = 1
        config.training.imagesPerBatch = 2
        config.training.masksPerImage = 2
        config.training.optimizer.learningRate = 1e-3
        let tuner = DecoderFineTuner(loaded, dataset: dataset, records: dataset.records, embeddings: cache, config: config)
        var steps: [StepRecord] = []
        tuner.onStep = { steps.append($0) }
        let result = try tuner.run()
        // One batch: the first prompt + 8 decoder-only iterations, two of them mask-only.
        XCTAssertEqual(result.updates, 9)
        XCTAssertEqual(steps.map(\.iteration), Array(0...8))
        XCTAssertEqual(steps.filter { $0.prompt == "mask" }.count, 2)
        XCTAssertTrue(steps.allSatisfy { $0.loss.isFinite && $0.loss > 0 })
        for e in loaded.model.store.entries where !e.name.hasPrefix("mask_decoder.") {
            XCTAssertEqual(e.tensor.toArray(), before[e.name]!, "\(e.name) is frozen but changed")
        }
        XCTAssertTrue(loaded.model.store.entries.contains { $0.name.hasPrefix("mask_decoder.transformer.") && $0.tensor.toArray() != before[$0.name]! })

        // The trainable tensors saved and laid over a fresh base model reproduce the tuned decoder.
        let file = dir.appendingPathComponent("decoder.safetensors")
        try tuner.saveTrainable(to: file)
        let (map, _) = try Safetensors.read(path: file.path)
        XCTAssertTrue(map.names.allSatisfy { $0.hasPrefix("mask_decoder.") })
        let fresh = try NamedModels.withDecoder(try smallModel(seed: 1), from: file.path, name: "small-ft")
        XCTAssertEqual(fresh.name, "small-ft")
        for e in fresh.model.store.entries {
            XCTAssertEqual(e.tensor.toArray(), loaded.model.store[e.name]!.toArray(), e.name)
        }
        XCTAssertThrowsError(try NamedModels.load("no-such-model"))
    }

    func testHoldingOutCases() {
        let r = ["A/1", "A/2", "B/1"].enumerated().map { i, c in
            ImageRecord(id: "img\(i)", imagePath: "img\(i)", masks: [], dataset: String(c.prefix(1)), caseID: String(c.suffix(1)))
        }
        let s = DatasetSplit.holdingOut(cases: ["A/2", "B/1"], of: r)
        XCTAssertEqual(s.unit, .byCase)
        XCTAssertEqual(s.train, ["img0"])
        XCTAssertEqual(s.test, ["img1", "img2"])
    }
}
