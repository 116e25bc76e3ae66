import SyncNN
import SyncTensor

/// Brings CNN stage s (C channels, S×S) to the ViT token grid (D channels, G×G), design F-D (SPEC 5.3, 5.5):
/// `spatial` = Conv(k = s = S/G) when S > G, ConvTranspose(k = s = G/S) when S < G, absent when S = G; then
/// `proj` = Conv1x1(C → D). No norm, no activation. Output BHWC.
/// Port of `FusionStage` in `reference/syncsam_ref.py`.
public final class FusionStage {
    public enum Spatial {
        case down(Conv2d)
        case up(ConvTranspose2d)
    }
    public let spatial: Spatial?
    public let proj: Conv2d

    public init(_ vb: VarBuilder, channels: Int, size: Int, grid: Int, dim: Int) {
        if size > grid {
            spatial = .down(Conv2d(vb["spatial"], inChannels: channels, outChannels: channels, kernelSize: size / grid,
                                   stride: size / grid))
        } else if size < grid {
            spatial = .up(ConvTranspose2d(vb["spatial"], inChannels: channels, outChannels: channels,
                                          kernelSize: grid / size, stride: grid / size))
        } else {
            spatial = nil
        }
        proj = Conv2d(vb["proj"], inChannels: channels, outChannels: dim, kernelSize: 1)
    }

    /// c [B, C, S, S] -> [B, G, G, D].
    public func callAsFunction(_ c: Tensor) -> Tensor {
        var x = c
        switch spatial {
        case .down(let conv): x = conv(x)
        case .up(let conv): x = conv(x)
        case nil: break
        }
        return proj(x).permuted([0, 2, 3, 1])
    }
}

/// Synchronized dual-branch encoder (SPEC 0 "stages", 5.1, 5.5): the CNN stem runs once; stage s runs the
/// windowed ViT blocks before global block g_s, adds `fusion[s](cnn.layer_s(c))` to the BHWC tokens, then runs
/// g_s; F = neck(tokens). Table 5 switches: no CNN (plain ViT), no ViT (tokens start at zero and only the fused
/// CNN stages build them), single-step fusion (the sum of all fused stages added once before the neck).
/// Port of `SyncEncoder` in `reference/syncsam_ref.py`. Checkpoint names: the ViT's flat `image_encoder.*`,
/// `image_encoder.cnn.*`, `image_encoder.fusion.{0..3}.{spatial,proj}.*`.
public final class SyncEncoder {
    public let vit: ImageEncoderViT
    public let cnn: ResNetTrunk?
    public let fusion: [FusionStage]
    public let config: SyncSAMConfig

    public init(_ vb: VarBuilder, config: SyncSAMConfig) {
        self.config = config
        var vitConfig = config.vit
        if !config.switches.vit {
            vitConfig.depth = 0
            vitConfig.globalAttnIndexes = []
        }
        vit = ImageEncoderViT(vb, config: vitConfig, imageSize: config.imageSize)
        if let cnnConfig = config.cnn {
            precondition(cnnConfig.layers.count == 4 && cnnConfig.widths.count == 4, "the CNN branch has 4 stages")
            precondition(!config.switches.vit || config.vit.globalAttnIndexes.count == 4,
                         "synchronized fusion needs 4 global blocks (one per stage)")
            let trunk = ResNetTrunk(vb["cnn"], config: cnnConfig)
            cnn = trunk
            let grid = config.gridSize
            fusion = zip(cnnConfig.outChannels, [4, 8, 16, 32]).enumerated().map { s, pair in
                FusionStage(vb["fusion"][s], channels: pair.0, size: config.imageSize / pair.1, grid: grid,
                            dim: config.vit.embedDim)
            }
        } else {
            cnn = nil
            fusion = []
        }
    }

    /// images [B, 3, S, S] (normalised) -> F [B, out_chans, G, G] and the stage outputs F_1...F_4 [B, G, G, D]
    /// (outputs of the global blocks after fusion; the multi-scale decoder uses the first three).
    public func callAsFunction(_ images: Tensor, trace: ForwardTrace? = nil) -> (features: Tensor, stages: [Tensor]) {
        let sw = config.switches
        var x: Tensor
        if sw.vit {
            x = vit.tokens(images)
        } else {
            let g = config.gridSize
            x = Tensor(zeros: [images.shape[0], g, g, config.vit.embedDim])
        }
        trace?.record("vit.embed", x)
        var stages: [Tensor] = []
        if let cnn {
            var c = cnn.stem(images)
            trace?.record("cnn.stem", c)
            var fusedSum: Tensor? = nil
            var start = 0
            for s in 0..<4 {
                c = cnn.layer(s, c)
                let fused = fusion[s](c)
                trace?.record("cnn.layer\(s + 1)", c)
                trace?.record("fusion.\(s)", fused)
                if !sw.vit {
                    x = x + fused
                } else if sw.fusion == .synchronized {
                    let g = config.vit.globalAttnIndexes[s]
                    for i in start..<g { x = vit.blocks[i](x) }
                    x = vit.blocks[g](x + fused)
                    start = g + 1
                } else {
                    fusedSum = fusedSum.map { $0 + fused } ?? fused
                    continue
                }
                stages.append(x)
                trace?.record("stage.\(s)", x)
            }
            for block in vit.blocks[start...] {
                x = block(x)
                // Single-step fusion: the ViT runs unfused here; its global outputs are the stages.
                if fusedSum != nil && block.isGlobal { stages.append(x) }
            }
            if let fusedSum { x = x + fusedSum }
        } else {
            for block in vit.blocks {
                x = block(x)
                if block.isGlobal { stages.append(x) }
            }
        }
        let features = vit.neck(x)
        trace?.record("encoder.features", features)
        return (features, stages)
    }
}
