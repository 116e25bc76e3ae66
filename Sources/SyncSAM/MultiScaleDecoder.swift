import SyncNN
import SyncTensor

/// SAM-HQ's `embedding_maskfeature`: Conv3x3(D/8 → D/4) → LN2d → GELU → Conv3x3(D/4 → D/8) (names 0, 1, 3).
public final class MaskFeatureStack {
    public let conv1: Conv2d
    public let norm: LayerNorm2d
    public let conv2: Conv2d

    public init(_ vb: VarBuilder, channels: Int, hidden: Int) {
        conv1 = Conv2d(vb[0], inChannels: channels, outChannels: hidden, kernelSize: 3, padding: 1)
        norm = LayerNorm2d(vb[1], channels: hidden)
        conv2 = Conv2d(vb[3], inChannels: hidden, outChannels: channels, kernelSize: 3, padding: 1)
    }

    /// x [B, C, H, W] -> [B, C, H, W].
    public func callAsFunction(_ x: Tensor) -> Tensor { conv2(norm(conv1(x)).gelu()) }
}

/// SyncSAM's multi-scale dual-branch decoder (SPEC 0 "decoder", "multi-scale branch", 4.2): SAM's two-way
/// transformer and `output_upscaling`, one Med-Output token with `med_mlp` (D → D → D → D/8), and the MS-HQ3 branch
/// `F~ = embedding_encoder(F) + Σ_i compress_vit_feat[i](F_i)`; mask feature = `embedding_maskfeature(up) + F~`;
/// logits = med_mlp(token) · mask feature, one mask per prompt.
/// Port of `MedMaskDecoder` in `reference/syncsam_ref.py`.
///
/// Checkpoint names (prefix `mask_decoder.`): `transformer.*`, `med_token.weight` [1, D], `output_upscaling.*`,
/// `med_mlp.layers.*`, `compress_vit_feat.{0,1,2}.{0,1,3}.*`, `embedding_encoder.{0,1,3}.*`,
/// `embedding_maskfeature.{0,1,3}.*`. Without the multi-scale branch (Table 5 switch) the last three are absent
/// and the mask feature is `output_upscaling(src)`.
public final class MedTokenDecoder {
    public let transformerDim: Int
    public let transformer: TwoWayTransformer
    public let medToken: Embedding
    public let outputUpscaling: UpsamplingStack
    public let medMLP: MLP
    public let compressViTFeat: [UpsamplingStack]
    public let embeddingEncoder: UpsamplingStack?
    public let embeddingMaskfeature: MaskFeatureStack?

    /// Number of early ViT stage features the multi-scale branch fuses.
    public static let stageFeatureCount = 3

    public init(_ vb: VarBuilder, config: SyncSAMConfig) {
        let d = config.prompt.embedDim, dec = config.decoder
        transformerDim = d
        transformer = TwoWayTransformer(vb["transformer"], depth: dec.transformerDepth, embeddingDim: d,
                                        numHeads: dec.numHeads, mlpDim: dec.mlpDim)
        medToken = Embedding(vb["med_token"], count: 1, dim: d)
        outputUpscaling = UpsamplingStack(vb["output_upscaling"], inChannels: d, midChannels: d / 4, outChannels: d / 8,
                                          finalGELU: true)
        medMLP = MLP(vb["med_mlp"], inputDim: d, hiddenDim: d, outputDim: d / 8, numLayers: 3)
        if config.switches.multiScale {
            compressViTFeat = (0..<Self.stageFeatureCount).map {
                UpsamplingStack(vb["compress_vit_feat"][$0], inChannels: config.vit.embedDim, midChannels: d,
                                outChannels: d / 8, finalGELU: false)
            }
            embeddingEncoder = UpsamplingStack(vb["embedding_encoder"], inChannels: d, midChannels: d / 4,
                                               outChannels: d / 8, finalGELU: false)
            embeddingMaskfeature = MaskFeatureStack(vb["embedding_maskfeature"], channels: d / 8, hidden: d / 4)
        } else {
            compressViTFeat = []
            embeddingEncoder = nil
            embeddingMaskfeature = nil
        }
    }

    /// F~ = embedding_encoder(F) + Σ_i compress_vit_feat[i](F_i): features [B, D, G, G], stages F_1... [B, G, G, C_vit]
    /// (the first three are used) -> [B, D/8, 4G, 4G]; nil without the multi-scale branch.
    public func multiScaleFeatures(features: Tensor, stages: [Tensor]) -> Tensor? {
        guard let embeddingEncoder else { return nil }
        precondition(stages.count >= compressViTFeat.count, "multi-scale branch needs \(compressViTFeat.count) stages")
        var ms = embeddingEncoder(features)
        for (layer, stage) in zip(compressViTFeat, stages) { ms = ms + layer(stage.permuted([0, 3, 1, 2])) }
        return ms
    }

    /// Low-res logits for N prompts.
    /// - Parameters:
    ///   - features: F [B, D, G, G], repeated for the N / B prompts of each image (image-major).
    ///   - multiScale: F~ [B, D/8, 4G, 4G] (from `multiScaleFeatures`), nil without the branch.
    ///   - imagePE: [1, D, G, G]; sparse [N, T, D]; dense [N, D, G, G].
    /// - Returns: [N, 1, 4G, 4G].
    public func callAsFunction(features: Tensor, multiScale: Tensor?, imagePE: Tensor, sparse: Tensor, dense: Tensor,
                               trace: ForwardTrace? = nil) -> Tensor {
        if !GradMode.isEnabled && trace == nil {
            return inferenceLogits(features: features, multiScale: multiScale, imagePE: imagePE, sparse: sparse,
                                   dense: dense)
        }
        let n = sparse.shape[0], d = transformerDim
        let (h, w) = (features.shape[2], features.shape[3])
        precondition(n % features.shape[0] == 0, "\(n) prompts for \(features.shape[0]) images")
        let perImage = n / features.shape[0]
        let token = medToken.weight.unsqueezed(0).expanded(to: [n, 1, d])
        let tokens = sparse.shape[1] == 0 ? token : Tensor.concat([token, sparse], dim: 1)
        let src = features.repeatInterleaved(perImage, dim: 0) + dense
        let (hs, keys) = transformer(image: src, imagePE: imagePE, tokens: tokens)
        let upscaled = outputUpscaling(keys.permuted([0, 2, 1]).reshaped([n, d, h, w]))
        var maskFeature = upscaled
        if let embeddingMaskfeature, let multiScale {
            maskFeature = embeddingMaskfeature(upscaled) + multiScale.repeatInterleaved(perImage, dim: 0)
        }
        if let multiScale { trace?.record("decoder.multiscale", multiScale) }
        trace?.record("decoder.tokens", hs)
        trace?.record("decoder.upscaled", upscaled)
        trace?.record("decoder.mask_feature", maskFeature)
        let weights = medMLP(hs.selected(1, 0)).unsqueezed(1)
        return weights.matmul(maskFeature.reshaped([n, d / 8, 16 * h * w])).reshaped([n, 1, 4 * h, 4 * w])
    }
}

extension MedTokenDecoder {
    /// Inference (no tape) of `callAsFunction`, prompt by prompt through `TwoWayTransformer.forEachPrompt`. The
    /// Med token's weights w [D/8] are folded into the last 3x3 conv of `embedding_maskfeature` (one output
    /// channel `w^T W2`, bias `w·b2`): logits = that conv + w·F~, exactly w·(mask feature). -> [N, 1, 4G, 4G].
    func inferenceLogits(features: Tensor, multiScale: Tensor?, imagePE: Tensor, sparse: Tensor, dense: Tensor) -> Tensor {
        let n = sparse.shape[0], d = transformerDim, c = d / 8
        let (h, w) = (features.shape[2], features.shape[3])
        precondition(n % features.shape[0] == 0, "\(n) prompts for \(features.shape[0]) images")
        let perImage = n / features.shape[0], plane = 16 * h * w
        let token = medToken.weight.unsqueezed(0).expanded(to: [n, 1, d])
        let tokens = sparse.shape[1] == 0 ? token : Tensor.concat([token, sparse], dim: 1)
        let logits = Tensor(zeros: [n, 1, 4 * h, 4 * w], zeroed: false)
        transformer.forEachPrompt(image: features, imagePE: imagePE, dense: dense, tokens: tokens,
                                  outputRows: 0..<1) { i, hs, keys in
            let upscaled = outputUpscaling.subPixelForward(keys)         // [16hw, D/8], sub-pixel order
            let weights = medMLP(hs)                                     // [1, D/8]
            var out: Tensor
            if let stack = embeddingMaskfeature, let multiScale {
                let upscaled = UpsamplingStack.rasterized(upscaled, h: h, w: w)
                let conv2 = stack.conv2, hidden = conv2.weight.shape[1]
                let foldedWeight = weights.matmul(conv2.weight.reshaped([c, hidden * 9])).reshaped([1, hidden, 3, 3])
                let foldedBias = conv2.bias.map { weights.matmul($0.reshaped([c, 1])).reshaped([1]) }
                let hiddenFeature = stack.norm(stack.conv1(upscaled)).gelu()
                out = hiddenFeature.conv2d(weight: foldedWeight, bias: foldedBias, padding: 1).reshaped([1, plane])
                let ms = multiScale.narrowed(0, start: i / perImage, length: 1).reshaped([c, plane])
                out = out + weights.matmul(ms)
            } else {
                out = UpsamplingStack.rasterized(upscaled.matmul(weights, transposeOther: true), h: h, w: w)
                    .reshaped([1, plane])
            }
            logits.narrowed(0, start: i, length: 1).assign(out)
        }
        return logits
    }
}
