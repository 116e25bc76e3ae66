import Foundation

/// Every size of a SAM / SyncSAM model (SPEC section 0 and 1-5). JSON keys are those of the fixture configs and
/// of `reference/syncsam_ref.py` (`image_size`, `vit`, `prompt`, `decoder`, `cnn`); optional keys that are absent
/// from a file take the paper's defaults and are not written back, so the presets encode exactly as in
/// `fixtures/manifests.json`.
public struct SyncSAMConfig: Codable, Sendable, Equatable {
    /// Square input size in pixels (256 for SyncSAM / SAM-Med2D, 1024 for SAM).
    public var imageSize: Int
    public var vit: ViTConfig
    public var prompt: PromptConfig
    public var decoder: DecoderConfig
    /// ResNet branch; nil for plain SAM and for the "no CNN" ablation.
    public var cnn: ResNetConfig?
    /// Paper Table 5 switches; nil means the full SyncSAM design.
    public var variant: Variant?

    public init(imageSize: Int, vit: ViTConfig, prompt: PromptConfig, decoder: DecoderConfig,
                cnn: ResNetConfig? = nil, variant: Variant? = nil) {
        self.imageSize = imageSize
        self.vit = vit
        self.prompt = prompt
        self.decoder = decoder
        self.cnn = cnn
        self.variant = variant
    }

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", vit, prompt, decoder, cnn, variant
    }

    /// Token grid side G = image_size / patch_size (16 at 256, 64 at 1024).
    public var gridSize: Int { imageSize / vit.patchSize }
    /// Side of the mask prompt and of the low-res logits: 4 G (64 at 256).
    public var maskSize: Int { 4 * gridSize }
    /// The Table 5 switches in effect (defaults when `variant` is nil).
    public var switches: Variant { variant ?? Variant() }
}

/// SAM ViT image encoder sizes (SPEC 1.1).
public struct ViTConfig: Codable, Sendable, Equatable {
    public var patchSize: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpRatio: Double
    /// Window side of the windowed blocks (14 for SAM).
    public var windowSize: Int
    /// Blocks with global attention ([2, 5, 8, 11] for ViT-B); SyncSAM's stage s ends at the s-th of them.
    public var globalAttnIndexes: [Int]
    /// Neck output channels = prompt embed dim (256).
    public var outChans: Int

    public init(patchSize: Int, embedDim: Int, depth: Int, numHeads: Int, mlpRatio: Double, windowSize: Int,
                globalAttnIndexes: [Int], outChans: Int) {
        self.patchSize = patchSize
        self.embedDim = embedDim
        self.depth = depth
        self.numHeads = numHeads
        self.mlpRatio = mlpRatio
        self.windowSize = windowSize
        self.globalAttnIndexes = globalAttnIndexes
        self.outChans = outChans
    }

    enum CodingKeys: String, CodingKey {
        case patchSize = "patch_size", embedDim = "embed_dim", depth, numHeads = "num_heads", mlpRatio = "mlp_ratio"
        case windowSize = "window_size", globalAttnIndexes = "global_attn_indexes", outChans = "out_chans"
    }

    /// Hidden width of the block MLP (`lin1`).
    public var mlpDim: Int { Int(Double(embedDim) * mlpRatio) }

    /// SAM ViT-B (768 wide, 12 blocks, 12 heads, window 14, global 2/5/8/11, neck 256).
    public static let vitB = ViTConfig(patchSize: 16, embedDim: 768, depth: 12, numHeads: 12, mlpRatio: 4,
                                       windowSize: 14, globalAttnIndexes: [2, 5, 8, 11], outChans: 256)
}

/// Prompt encoder sizes (SPEC 2).
public struct PromptConfig: Codable, Sendable, Equatable {
    /// Width of prompt tokens, of the image embedding and of the decoder (256).
    public var embedDim: Int
    /// Hidden channels of the mask downscaling stack (16).
    public var maskInChans: Int

    public init(embedDim: Int, maskInChans: Int) {
        self.embedDim = embedDim
        self.maskInChans = maskInChans
    }

    enum CodingKeys: String, CodingKey { case embedDim = "embed_dim", maskInChans = "mask_in_chans" }

    public static let sam = PromptConfig(embedDim: 256, maskInChans: 16)
}

/// Mask decoder sizes (SPEC 3): two-way transformer, and for SAM's decoder the mask tokens and IoU head.
public struct DecoderConfig: Codable, Sendable, Equatable {
    public var transformerDepth: Int
    public var numHeads: Int
    public var mlpDim: Int
    /// SAM decoder only: multimask outputs (3, plus the single-mask token). Default 3.
    public var numMultimaskOutputs: Int?
    /// SAM decoder only: IoU head depth (3) and hidden width (embed dim).
    public var iouHeadDepth: Int?
    public var iouHeadHiddenDim: Int?

    public init(transformerDepth: Int, numHeads: Int, mlpDim: Int, numMultimaskOutputs: Int? = nil,
                iouHeadDepth: Int? = nil, iouHeadHiddenDim: Int? = nil) {
        self.transformerDepth = transformerDepth
        self.numHeads = numHeads
        self.mlpDim = mlpDim
        self.numMultimaskOutputs = numMultimaskOutputs
        self.iouHeadDepth = iouHeadDepth
        self.iouHeadHiddenDim = iouHeadHiddenDim
    }

    enum CodingKeys: String, CodingKey {
        case transformerDepth = "transformer_depth", numHeads = "num_heads", mlpDim = "mlp_dim"
        case numMultimaskOutputs = "num_multimask_outputs", iouHeadDepth = "iou_head_depth"
        case iouHeadHiddenDim = "iou_head_hidden_dim"
    }

    public static let sam = DecoderConfig(transformerDepth: 2, numHeads: 8, mlpDim: 2048)
}

/// torchvision ResNet trunk (SPEC 5.2): block type, blocks per layer, base widths per layer.
public struct ResNetConfig: Codable, Sendable, Equatable {
    public enum Block: String, Codable, Sendable {
        case basic, bottleneck
        /// Output channels per base width (1 for BasicBlock, 4 for Bottleneck).
        public var expansion: Int { self == .basic ? 1 : 4 }
    }
    public var block: Block
    public var layers: [Int]
    public var widths: [Int]

    public init(block: Block, layers: [Int], widths: [Int]) {
        self.block = block
        self.layers = layers
        self.widths = widths
    }

    /// Output channels of layer1...layer4.
    public var outChannels: [Int] { widths.map { $0 * block.expansion } }

    public static let resnet34 = ResNetConfig(block: .basic, layers: [3, 4, 6, 3], widths: [64, 128, 256, 512])
    public static let resnet50 = ResNetConfig(block: .bottleneck, layers: [3, 4, 6, 3], widths: [64, 128, 256, 512])
}

/// The paper's Table 5 ablations as switches of one model (SPEC section 0, "baselines / ablations").
public struct Variant: Codable, Sendable, Equatable {
    /// How CNN features enter the ViT.
    public enum Fusion: String, Codable, Sendable {
        /// Stage by stage before each global block (the paper's design).
        case synchronized
        /// ViT runs unfused; the sum of all fused CNN stages is added once before the neck.
        case singleStep = "single_step"
    }
    /// Run the ViT branch. When false, `x` starts at zero and only the fused CNN stages build the features.
    public var vit: Bool = true
    public var fusion: Fusion = .synchronized
    /// Multi-scale branch (MS-HQ3) in the Med-token decoder; when false `mask feature = output_upscaling(src)`.
    public var multiScale: Bool = true
    /// Med-Output token decoder; when false SAM's mask tokens + IoU head decode the SyncSAM encoder features.
    public var medToken: Bool = true

    public init(vit: Bool = true, fusion: Fusion = .synchronized, multiScale: Bool = true, medToken: Bool = true) {
        self.vit = vit
        self.fusion = fusion
        self.multiScale = multiScale
        self.medToken = medToken
    }

    enum CodingKeys: String, CodingKey { case vit, fusion, multiScale = "multi_scale", medToken = "med_token" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vit = try c.decodeIfPresent(Bool.self, forKey: .vit) ?? true
        fusion = try c.decodeIfPresent(Fusion.self, forKey: .fusion) ?? .synchronized
        multiScale = try c.decodeIfPresent(Bool.self, forKey: .multiScale) ?? true
        medToken = try c.decodeIfPresent(Bool.self, forKey: .medToken) ?? true
    }
}

/// Which model a configuration builds.
public enum ModelKind: String, Codable, Sendable {
    /// SAM as published: ViT + prompt encoder + mask tokens and IoU head.
    case sam
    /// SyncSAM: ViT with a fused ResNet branch, Med-Output token decoder with the multi-scale branch.
    case syncsam
}

/// A named configuration (`sam_vit_b`, `sam_vit_b_256`, `syncsam34`, `syncsam50`).
public struct ModelPreset: Sendable {
    public let name: String
    public let kind: ModelKind
    public let config: SyncSAMConfig

    /// SAM ViT-B at 1024 (the official checkpoint layout).
    public static let samViTB = ModelPreset(name: "sam_vit_b", kind: .sam, config: samConfig(imageSize: 1024))
    /// SAM ViT-B at 256 (SAM-Med2D input size; load a 1024 checkpoint through `SAMCheckpointAdaptation`).
    public static let samViTB256 = ModelPreset(name: "sam_vit_b_256", kind: .sam, config: samConfig(imageSize: 256))
    /// SyncSAM-34 at 256: ResNet34 branch.
    public static let syncSAM34 = ModelPreset(name: "syncsam34", kind: .syncsam,
                                              config: syncConfig(.resnet34))
    /// SyncSAM-50 at 256: ResNet50 branch.
    public static let syncSAM50 = ModelPreset(name: "syncsam50", kind: .syncsam,
                                              config: syncConfig(.resnet50))

    public static let all: [ModelPreset] = [samViTB, samViTB256, syncSAM34, syncSAM50]

    /// The preset called `name`, or nil.
    public static func named(_ name: String) -> ModelPreset? { all.first { $0.name == name } }

    static func samConfig(imageSize: Int) -> SyncSAMConfig {
        SyncSAMConfig(imageSize: imageSize, vit: .vitB, prompt: .sam, decoder: .sam)
    }

    static func syncConfig(_ cnn: ResNetConfig) -> SyncSAMConfig {
        SyncSAMConfig(imageSize: 256, vit: .vitB, prompt: .sam, decoder: .sam, cnn: cnn)
    }
}

extension SyncSAMConfig {
    /// Decodes a configuration from JSON: either the config object itself or a fixture/manifest file that holds
    /// it under `"config"`.
    public static func decode(json data: Data) throws -> SyncSAMConfig {
        struct Wrapped: Decodable { let config: SyncSAMConfig }
        if let wrapped = try? JSONDecoder().decode(Wrapped.self, from: data) { return wrapped.config }
        return try JSONDecoder().decode(SyncSAMConfig.self, from: data)
    }

    /// Pretty, key-sorted JSON.
    public func encodedJSON() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }
}
