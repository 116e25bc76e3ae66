import Foundation
import SyncNN
import SyncTensor
import XCTest
@testable import SyncSAM

/// Configuration decoding, presets, and the Table 5 switches on a small hand-made model.
final class ConfigTests: XCTestCase {
    /// A small SyncSAM: 64 px input, 4x4 grid, window 3 (padded to 6), one block per stage; runs in milliseconds.
    static let small = SyncSAMConfig(
        imageSize: 64,
        vit: ViTConfig(patchSize: 16, embedDim: 16, depth: 4, numHeads: 2, mlpRatio: 2, windowSize: 3,
                       globalAttnIndexes: [0, 1, 2, 3], outChans: 16),
        prompt: PromptConfig(embedDim: 16, maskInChans: 4),
        decoder: DecoderConfig(transformerDepth: 1, numHeads: 2, mlpDim: 16),
        cnn: ResNetConfig(block: .basic, layers: [1, 1, 1, 1], widths: [4, 4, 8, 8]))

    func testPresetsRoundTripThroughJSONWithoutDefaultKeys() throws {
        for preset in ModelPreset.all {
            let data = try preset.config.encodedJSON()
            let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            XCTAssertEqual(Set(object.keys), preset.kind == .sam ? ["image_size", "vit", "prompt", "decoder"]
                                                                 : ["image_size", "vit", "prompt", "decoder", "cnn"])
            XCTAssertEqual(try SyncSAMConfig.decode(json: data), preset.config)
        }
        XCTAssertEqual(ModelPreset.samViTB.config.gridSize, 64)
        XCTAssertEqual(ModelPreset.syncSAM50.config.maskSize, 64)
        XCTAssertNil(ModelPreset.named("unknown"))
    }

    func testVariantDecodesPartialSwitches() throws {
        let json = #"""
            {"image_size": 64, "vit": {"patch_size": 16, "embed_dim": 16, "depth": 4, "num_heads": 2,
            "mlp_ratio": 2.0, "window_size": 3, "global_attn_indexes": [0, 1, 2, 3], "out_chans": 16},
            "prompt": {"embed_dim": 16, "mask_in_chans": 4}, "decoder": {"transformer_depth": 1, "num_heads": 2,
            "mlp_dim": 16}, "variant": {"multi_scale": false}}
            """#
        let config = try SyncSAMConfig.decode(json: Data(json.utf8))
        XCTAssertEqual(config.switches, Variant(multiScale: false))
    }

    func testTable5SwitchesBuildAndRun() {
        let variants: [(String, Variant?, Bool)] = [
            ("full", nil, true), ("no multi-scale", Variant(multiScale: false), true),
            ("single-step", Variant(fusion: .singleStep), true), ("no ViT", Variant(vit: false), true),
            ("SAM decoder", Variant(medToken: false), true), ("no CNN", nil, false),
        ]
        var rng = SeededRandom(seed: 1)
        let images = Tensor.randomNormal([2, 3, 64, 64], using: &rng)
        let boxes = Tensor(shape: [4, 4], values: [4, 4, 40, 40, 10, 8, 30, 50, 0, 0, 63, 63, 20, 20, 24, 30])
        for (name, variant, withCNN) in variants {
            var config = Self.small
            config.variant = variant
            if !withCNN { config.cnn = nil }
            let model = SyncSAMModel(config: config)
            let out = withNoGrad {
                model.decode(model.embed(images), prompts: Prompts(boxes: boxes)).lowResLogits
            }
            XCTAssertEqual(out.shape, [4, 1, 16, 16], name)
            XCTAssertTrue(out.toArray().allSatisfy(\.isFinite), name)
            let names = Set(model.store.entries.map(\.name))
            XCTAssertEqual(names.contains("mask_decoder.compress_vit_feat.0.0.weight"),
                           variant?.multiScale ?? true && variant?.medToken ?? true, name)
            XCTAssertEqual(names.contains("mask_decoder.iou_token.weight"), variant?.medToken == false, name)
            XCTAssertEqual(names.contains("image_encoder.fusion.3.proj.weight"), withCNN, name)
            XCTAssertEqual(names.contains("image_encoder.blocks.0.attn.qkv.weight"), variant?.vit ?? true, name)
        }
    }

    func testZeroFusionProjectionsKeepsTheViTOutput() {
        var config = Self.small
        let model = SyncSAMModel(config: config)
        model.zeroFusionProjections()
        config.cnn = nil
        let vitOnly = SAMModel(config: config)
        try! vitOnly.load(from: InMemoryTensors(model.store.namedTensors), options: .partial)
        var rng = SeededRandom(seed: 2)
        let images = Tensor.randomNormal([1, 3, 64, 64], using: &rng)
        let (a, b) = withNoGrad { (model.embed(images).features, vitOnly.embed(images).features) }
        XCTAssertEqual(a.toArray(), b.toArray())
    }
}
