import Foundation
import SyncIO
import SyncNN
import SyncTensor
import XCTest
@testable import SyncSAM

/// The assembled LiteMedSAM against `fixtures/litemedsam` (sets discovered as in `TinyViTParityTests`).
/// - Sets with their own weights: the image is encoded, then every prompt case `<case>.low_res_logits` (all 4 mask
///   tokens) and `<case>.iou_predictions` is decoded from that embedding.
/// - Sets of the shipped weights: each `<prefix>.low_res_logits` (token 0) and `<prefix>.iou_predictions` from the
///   reference `<prefix>.image_embeddings` and `<prefix>.boxes_model`; then the final masks (crop to the resized
///   size, bilinear to the original size, > 0) against `<prefix>.masks`, at least 99.5 % of pixels equal.
final class TinyViTLiteMedSAMTests: XCTestCase {
    func testConfigDecodesFixtureKeysAndPreset() throws {
        let json = #"{"image_size": 256, "embed_dims": [64, 128, 160, 320], "depths": [2, 2, 6, 2], "num_heads": [2, 4, 5, 10], "window_sizes": [7, 7, 14, 7], "mlp_ratio": 4.0, "mbconv_expand_ratio": 4.0, "local_conv_size": 3, "prompt_embed_dim": 256, "mask_in_chans": 16, "decoder_depth": 2, "decoder_heads": 8, "decoder_mlp_dim": 2048}"#
        let config = try JSONDecoder().decode(LiteMedSAMConfig.self, from: Data(json.utf8))
        XCTAssertEqual(config, .liteMedSAM)
        XCTAssertEqual(LiteMedSAMConfig.presets["litemedsam"], config)
        XCTAssertEqual(config.maskSize, 256)
        XCTAssertEqual(try JSONDecoder().decode(LiteMedSAMConfig.self, from: JSONEncoder().encode(config)), config)
        let model = try LiteMedSAM(config: config)
        XCTAssertEqual(model.store.entries.count, 435, "tensors in lite_medsam.pth")
        XCTAssertEqual(model.store.parameterCount, 9_791_300, "learnable scalars of lite_medsam.pth (all but the 2x128 PE buffer)")
    }

    func testTinyCasesMatchReference() throws {
        let sets = try TinyViTFixtures.sets().filter { !$0.usesShippedWeights }
        guard !sets.isEmpty else { throw XCTSkip("no litemedsam fixture set with its own weights") }
        for set in sets {
            let (model, io) = try load(set)
            let embedding = withNoGrad { model.embed(try! TinyViTFixtures.tensor(io, "image")) }
            check(ParityCheck.output("\(set.name) image_embeddings", actual: embedding.features,
                                     expected: try TinyViTFixtures.tensor(io, "image_embeddings")))
            let cases = io.names.filter { $0.hasSuffix(".low_res_logits") }.map { String($0.dropLast(".low_res_logits".count)) }
            XCTAssertFalse(cases.isEmpty, "\(set.name): no prompt cases")
            for name in cases {
                let prompts = try Self.prompts(io, name, boxes: "boxes")
                let (masks, iou) = withNoGrad { model.predictAllMasks(embedding, prompts: prompts) }
                check(ParityCheck.output("\(set.name) \(name).low_res_logits", actual: masks,
                                         expected: try TinyViTFixtures.tensor(io, "\(name).low_res_logits")))
                check(ParityCheck.output("\(set.name) \(name).iou_predictions", actual: iou,
                                         expected: try TinyViTFixtures.tensor(io, "\(name).iou_predictions")))
            }
        }
    }

    func testShippedWeightsDecodeAndMasks() throws {
        let sets = try TinyViTFixtures.sets().filter(\.usesShippedWeights)
        guard !sets.isEmpty else { throw XCTSkip("no litemedsam fixture set for the shipped weights") }
        for set in sets {
            let (model, io) = try load(set)
            let meta = try TinyViTFixtures.json(set)
            let cases = (meta["cases"] as? [[String: Any]] ?? []).reduce(into: [String: [String: Any]]()) {
                if let p = $1["prefix"] as? String { $0[p] = $1 }
            }
            let prefixes = io.names.filter { $0.hasSuffix(".low_res_logits") }.map { String($0.dropLast(".low_res_logits".count)) }
            XCTAssertFalse(prefixes.isEmpty, "\(set.name): no cases")
            for p in prefixes {
                let embedding = ImageEmbedding(features: try TinyViTFixtures.tensor(io, "\(p).image_embeddings"))
                let prompts = try Self.prompts(io, p, boxes: "boxes_model")
                let out = withNoGrad { model.decode(embedding, prompts: prompts, multimaskOutput: false) }
                check(ParityCheck.output("\(set.name) \(p).low_res_logits", actual: out.lowResLogits,
                                         expected: try TinyViTFixtures.tensor(io, "\(p).low_res_logits")))
                check(ParityCheck.output("\(set.name) \(p).iou_predictions", actual: try XCTUnwrap(out.iouPredictions),
                                         expected: try TinyViTFixtures.tensor(io, "\(p).iou_predictions")))
                guard let info = cases[p], let resized = info["resized"] as? [Int], let original = info["original_size"] as? [Int]
                else { continue }
                let logits = out.lowResLogits.narrowed(2, start: 0, length: resized[0]).narrowed(3, start: 0, length: resized[1])
                let masks = logits.bilinearResized(height: original[0], width: original[1]).greater(than: 0)
                let expected = try TinyViTFixtures.tensor(io, "\(p).masks")
                XCTAssertEqual(masks.count, expected.count, "\(p) mask size")
                guard masks.count == expected.count else { continue }
                var equal = 0
                for i in 0..<masks.count where masks.data[i] == expected.data[i] { equal += 1 }
                let fraction = Double(equal) / Double(masks.count)
                print("LiteMedSAM \(set.name) \(p).masks: \(String(format: "%.5f", fraction)) of pixels equal")
                XCTAssertGreaterThanOrEqual(fraction, 0.995, "\(set.name) \(p).masks")
            }
        }
    }

    private func load(_ set: TinyViTFixtures.FixtureSet) throws -> (LiteMedSAM, TensorMap) {
        let data = try JSONSerialization.data(withJSONObject: try XCTUnwrap(TinyViTFixtures.json(set)["config"]))
        let model = try LiteMedSAM(config: try JSONDecoder().decode(LiteMedSAMConfig.self, from: data))
        let weights = try Checkpoint.load(path: try set.weightsPath()).tensors
        try model.load(from: weights)
        return (model, try Checkpoint.load(path: set.ioPath).tensors)
    }

    private static func prompts(_ io: TensorMap, _ prefix: String, boxes: String) throws -> Prompts {
        func optional(_ key: String) throws -> Tensor? {
            io["\(prefix).\(key)"] == nil ? nil : try TinyViTFixtures.tensor(io, "\(prefix).\(key)")
        }
        return Prompts(pointCoords: try optional("point_coords"), pointLabels: try optional("point_labels"),
                       boxes: try optional(boxes), maskInputs: try optional("mask_inputs"))
    }

    private func check(_ c: ParityCheck, file: StaticString = #filePath, line: UInt = #line) {
        print("LiteMedSAM parity \(c.name): max|a-b| = \(c.maxError) (tolerance \(c.tolerance))")
        XCTAssertTrue(c.passed, "\(c)", file: file, line: line)
    }
}
