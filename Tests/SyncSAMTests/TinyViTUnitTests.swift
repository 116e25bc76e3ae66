import Foundation
import SyncNN
import SyncTensor
import XCTest
@testable import SyncSAM

/// TinyViT pieces checked without fixtures: the position-bias offset table by hand and against the reference's
/// numbering rule, the bias gather and its gradient, configs and presets, geometry, checkpoint names and shapes,
/// Conv2d_BN folding against an explicit BatchNorm, and window padding.
final class TinyViTUnitTests: XCTestCase {
    func testBiasIndexTableByHand() {
        // Window 2: tokens (0,0) (0,1) (1,0) (1,1); entry = |dy| * 2 + |dx|.
        XCTAssertEqual(TinyViTAttention.biasIndex(window: 2), [0, 1, 2, 3,
                                                               1, 0, 3, 2,
                                                               2, 3, 0, 1,
                                                               3, 2, 1, 0])
        let t3 = TinyViTAttention.biasIndex(window: 3)
        XCTAssertEqual(t3.count, 81)
        // Query (1,1) (token 4) sees every neighbour at offset (1,1) -> 4, (0,1) -> 1, (1,0) -> 3, itself -> 0.
        XCTAssertEqual(Array(t3[36..<45]), [4, 3, 4, 1, 0, 1, 4, 3, 4])
        // Query (0,0) against (2,1) (token 7): offset (2,1) -> 7; and (2,2) against (0,0): offset (2,2) -> 8.
        XCTAssertEqual(t3[0 * 9 + 7], 7)
        XCTAssertEqual(t3[8 * 9 + 0], 8)
    }

    func testBiasIndexMatchesFirstAppearanceNumbering() {
        // The reference numbers offsets in order of first appearance while scanning all (p1, p2) pairs.
        for window in [1, 3, 7, 14] {
            let n = window * window
            var ids: [[Int]: Int] = [:]
            var expected: [Int] = []
            for p1 in 0..<n { for p2 in 0..<n {
                let offset = [abs(p1 / window - p2 / window), abs(p1 % window - p2 % window)]
                if ids[offset] == nil { ids[offset] = ids.count }
                expected.append(ids[offset]!)
            } }
            XCTAssertEqual(ids.count, n, "window \(window): one bias per offset")
            XCTAssertEqual(TinyViTAttention.biasIndex(window: window), expected, "window \(window)")
        }
    }

    func testPositionBiasGatherAndGradient() {
        let store = ParameterStore()
        let attn = TinyViTAttention(store.root, dim: 4, heads: 2, window: 2)
        attn.attentionBiases.assign(Tensor(shape: [2, 4], values: [0, 1, 2, 3, 10, 11, 12, 13]))
        let bias = attn.positionBias()
        XCTAssertEqual(bias.shape, [2, 4, 4])
        XCTAssertEqual(bias.toArray(), [0, 1, 2, 3, 1, 0, 3, 2, 2, 3, 0, 1, 3, 2, 1, 0,
                                        10, 11, 12, 13, 11, 10, 13, 12, 12, 13, 10, 11, 13, 12, 11, 10])
        attn.attentionBiases.requiresGrad = true
        attn.positionBias().sum().backward()
        // Every offset occurs 4 times in a 2x2 window (as many times as the number of (p1, p2) pairs with it).
        XCTAssertEqual(attn.attentionBiases.grad?.toArray(), [4, 4, 4, 4, 4, 4, 4, 4])
    }

    func testLiteMedSAMPresetGeometry() throws {
        let c = try XCTUnwrap(TinyViTConfig.presets["litemedsam"])
        XCTAssertEqual(c, .liteMedSAM)
        XCTAssertEqual(c.stageResolutions, [256, 128, 64, 64])
        XCTAssertEqual((0..<3).map { c.mergeStride(after: $0) }, [2, 2, 1])
        XCTAssertEqual(c.embeddingSize, 64)
        let json = try JSONEncoder().encode(c)
        XCTAssertEqual(try JSONDecoder().decode(TinyViTConfig.self, from: json), c)
    }

    func testConfigRejectsInconsistentSizes() {
        let bad = #"{"image_size": 256, "embed_dims": [8, 16, 24, 320], "depths": [1, 1, 2, 1], "num_heads": [1, 3, 3, 4], "window_sizes": [7, 7, 14, 7]}"#
        XCTAssertThrowsError(try JSONDecoder().decode(TinyViTConfig.self, from: Data(bad.utf8)))
    }

    func testCheckpointNamesShapesAndCount() throws {
        let store = ParameterStore()
        let encoder = try TinyViTEncoder(store.root["image_encoder"], config: .liteMedSAM)
        XCTAssertEqual(encoder.stages.count, 3)
        let expected: [String: [Int]] = [
            "image_encoder.patch_embed.seq.0.c.weight": [32, 3, 1, 1],
            "image_encoder.patch_embed.seq.2.bn.running_var": [64],
            "image_encoder.layers.0.blocks.1.conv2.c.weight": [256, 1, 3, 3],
            "image_encoder.layers.0.downsample.conv2.c.weight": [128, 1, 3, 3],
            "image_encoder.layers.1.blocks.0.attn.attention_biases": [4, 49],
            "image_encoder.layers.2.blocks.5.attn.attention_biases": [5, 196],
            "image_encoder.layers.2.blocks.5.attn.qkv.weight": [480, 160],
            "image_encoder.layers.2.downsample.conv3.c.weight": [320, 320, 1, 1],
            "image_encoder.layers.3.blocks.1.local_conv.bn.num_batches_tracked": [],
            "image_encoder.layers.3.blocks.1.mlp.fc1.weight": [1280, 320],
            "image_encoder.neck.0.weight": [256, 320, 1, 1],
            "image_encoder.neck.3.bias": [256],
        ]
        for (name, shape) in expected { XCTAssertEqual(store[name]?.shape, shape, name) }
        XCTAssertNil(store["image_encoder.layers.3.downsample.conv1.c.weight"], "the last stage has no merging")
        XCTAssertEqual(store.entries.count, 298, "tensors of the image encoder in lite_medsam.pth")
        XCTAssertEqual(store.parameterCount, 5_726_740, "learnable scalars of lite_medsam.pth's image encoder")
    }

    func testFoldedConvBNMatchesExplicitBatchNorm() {
        for depthwise in [false, true] {
            let store = ParameterStore(seed: 3)
            let layer = Conv2dBN(store.root, inChannels: 4, outChannels: 4, kernelSize: 3, stride: 2, padding: 1,
                                 depthwise: depthwise)
            var rng = SeededRandom(seed: 5)
            layer.bn.weight.assign(Tensor.randomNormal([4], mean: 1, std: 0.2, using: &rng))
            layer.bn.bias.assign(Tensor.randomNormal([4], std: 0.2, using: &rng))
            layer.bn.runningMean.assign(Tensor.randomNormal([4], std: 0.3, using: &rng))
            layer.bn.runningVar.assign(Tensor.randomUniform([4], low: 0.5, high: 2, using: &rng))
            let x = Tensor.randomNormal([2, 4, 7, 6], using: &rng)
            let folded = withNoGrad { layer(x) }
            let plain = depthwise ? x.depthwiseConv2d(weight: layer.weight, bias: nil, stride: 2, padding: 1)
                                  : x.conv2d(weight: layer.weight, bias: nil, stride: 2, padding: 1)
            let explicit = plain.batchNorm2d(weight: layer.bn.weight, bias: layer.bn.bias, runningMean: layer.bn.runningMean,
                                             runningVar: layer.bn.runningVar, training: false)
            XCTAssertEqual(folded.shape, [2, 4, 4, 3])
            XCTAssertLessThan(TinyViTCompare.maxAbsDiff(folded, explicit), 1e-5, "depthwise \(depthwise)")
        }
    }

    func testWindowPaddingEqualsZeroTokensInTheWindow() {
        // A 3x3 grid with window 2 pads to 4x4; the top-left window must equal attention over its 4 tokens alone.
        let store = ParameterStore(seed: 9)
        let block = TinyViTBlock(store.root, dim: 4, resolution: 3, heads: 2, window: 2, mlpRatio: 2, localConvSize: 3)
        var rng = SeededRandom(seed: 10)
        block.attn.attentionBiases.assign(Tensor.randomNormal([2, 4], using: &rng))
        let grid = Tensor.randomNormal([1, 3, 3, 4], using: &rng)
        let y = withNoGrad { block.windowedAttention(grid) }
        XCTAssertEqual(y.shape, [1, 3, 3, 4])
        let topLeft = grid.narrowed(1, start: 0, length: 2).narrowed(2, start: 0, length: 2).reshaped([1, 4, 4])
        let expected = withNoGrad { block.attn(topLeft) }.reshaped([1, 2, 2, 4])
        let got = y.narrowed(1, start: 0, length: 2).narrowed(2, start: 0, length: 2)
        XCTAssertLessThan(TinyViTCompare.maxAbsDiff(got, expected), 1e-6)
        // The bottom-right window holds one real token and three zero (padding) tokens.
        let corner = Tensor.concat([grid.narrowed(1, start: 2, length: 1).narrowed(2, start: 2, length: 1).reshaped([1, 1, 4]),
                                    Tensor(zeros: [1, 3, 4])], dim: 1)
        let cornerOut = withNoGrad { block.attn(corner) }.narrowed(1, start: 0, length: 1)
        let gotCorner = y.narrowed(1, start: 2, length: 1).narrowed(2, start: 2, length: 1)
        XCTAssertLessThan(TinyViTCompare.maxAbsDiff(gotCorner, cornerOut), 1e-6)
    }

    func testTinyShapesForwardAndBackward() throws {
        let config = TinyViTConfig(imageSize: 32, embedDims: [4, 8, 8, 320], depths: [1, 1, 1, 1], numHeads: [1, 2, 2, 4],
                                   windowSizes: [7, 3, 5, 7], outChannels: 16)
        XCTAssertEqual(config.stageResolutions, [32, 16, 8, 8])
        let store = ParameterStore(seed: 1)
        let encoder = try TinyViTEncoder(store.root, config: config)
        var rng = SeededRandom(seed: 2)
        let image = Tensor.randomNormal([2, 3, 32, 32], using: &rng)
        let out = withNoGrad { encoder.forwardWithIntermediates(image) }
        XCTAssertEqual(out.imageEmbeddings.shape, [2, 16, 8, 8])
        XCTAssertEqual(out.patchEmbedding?.shape, [2, 4, 32, 32])
        XCTAssertEqual(out.stageOutputs.map(\.shape), [[2, 256, 8], [2, 64, 8], [2, 64, 320], [2, 64, 320]])
        // Gradients reach every learnable tensor through the folded (eval) and the batch-statistics (training) paths.
        for training in [false, true] {
            store.training = training
            store.setTrainable(prefixes: nil)
            store.zeroGrad()
            encoder(image).square().mean().backward()
            let missing = store.trainable.filter { $0.tensor.grad == nil }.map(\.name)
            XCTAssertEqual(missing, [], "training \(training)")
        }
    }
}

/// Comparison helpers shared by the TinyViT tests.
enum TinyViTCompare {
    static func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.count == b.count, "comparing \(a.shape) with \(b.shape)")
        var m: Float = 0
        for i in 0..<a.count { m = max(m, abs(a.data[i] - b.data[i])) }
        return m
    }
}
