import SyncNN
import SyncTensor

/// SAM's ViT image encoder (SPEC 1.1-1.3): patch embedding + absolute position embedding, pre-norm blocks with
/// windowed / global rel-pos attention, and the neck (1x1 conv, LN2d, 3x3 conv, LN2d).
/// Port of `ImageEncoderViT` in `segment_anything/modeling/image_encoder.py`.
///
/// Checkpoint names (prefix `image_encoder.`): `patch_embed.proj.*`, `pos_embed` [1, G, G, D], `blocks.N.*`,
/// `neck.{0,1,2,3}.*`. The SyncSAM encoder drives `tokens`, `blocks` and `neck` stage by stage itself.
public final class ImageEncoderViT {
    public let patchEmbed: Conv2d
    public let posEmbed: Tensor
    public let blocks: [ViTBlock]
    public let neckConv1: Conv2d
    public let neckNorm1: LayerNorm2d
    public let neckConv2: Conv2d
    public let neckNorm2: LayerNorm2d
    public let config: ViTConfig

    /// - Parameters: config: ViT sizes; imageSize: input side (the token grid is imageSize / patch).
    public init(_ vb: VarBuilder, config: ViTConfig, imageSize: Int) {
        self.config = config
        let d = config.embedDim, grid = imageSize / config.patchSize
        patchEmbed = Conv2d(vb["patch_embed"]["proj"], inChannels: 3, outChannels: d, kernelSize: config.patchSize,
                            stride: config.patchSize)
        posEmbed = vb.parameter("pos_embed", [1, grid, grid, d], .zeros)
        blocks = (0..<config.depth).map { i in
            ViTBlock(vb["blocks"][i], dim: d, numHeads: config.numHeads, mlpDim: config.mlpDim,
                     windowSize: config.globalAttnIndexes.contains(i) ? 0 : config.windowSize, gridSize: grid)
        }
        let neck = vb["neck"]
        neckConv1 = Conv2d(neck[0], inChannels: d, outChannels: config.outChans, kernelSize: 1, bias: false)
        neckNorm1 = LayerNorm2d(neck[1], channels: config.outChans)
        neckConv2 = Conv2d(neck[2], inChannels: config.outChans, outChannels: config.outChans, kernelSize: 3,
                           padding: 1, bias: false)
        neckNorm2 = LayerNorm2d(neck[3], channels: config.outChans)
    }

    /// Patch embedding plus position embedding: images [B, 3, S, S] -> tokens [B, G, G, D] (BHWC).
    public func tokens(_ images: Tensor) -> Tensor {
        patchEmbed(images).permuted([0, 2, 3, 1]) + posEmbed
    }

    /// Neck: tokens [B, G, G, D] -> features F [B, out_chans, G, G].
    public func neck(_ x: Tensor) -> Tensor {
        neckNorm2(neckConv2(neckNorm1(neckConv1(x.permuted([0, 3, 1, 2])))))
    }

    /// Full encoder: images [B, 3, S, S] -> F [B, out_chans, G, G].
    public func callAsFunction(_ images: Tensor) -> Tensor { encode(images).features }

    /// Full encoder keeping the BHWC output of every global block (SAM-HQ's `interm_embeddings`):
    /// images [B, 3, S, S] -> (F [B, out_chans, G, G], [B, G, G, D] per global block).
    public func encode(_ images: Tensor) -> (features: Tensor, globalOutputs: [Tensor]) {
        var x = tokens(images)
        var globals: [Tensor] = []
        for block in blocks {
            x = block(x)
            if block.isGlobal { globals.append(x) }
        }
        return (neck(x), globals)
    }
}
