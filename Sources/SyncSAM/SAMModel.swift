import SyncNN
import SyncTensor

/// SAM as published (SPEC 1-3): ViT image encoder, prompt encoder, mask decoder with mask tokens + IoU head.
/// Used for the SAM / FT-SAM baselines, at 1024 (official checkpoints) or 256 (after `SAMCheckpointAdaptation`).
/// Port of `Sam` in `segment_anything/modeling/sam.py` (the `PlainSAM` of `reference/syncsam_ref.py`).
public final class SAMModel: PromptableSegmenter, SAMMaskHeadModel {
    public let config: SyncSAMConfig
    public let store: ParameterStore
    public let imageEncoder: ImageEncoderViT
    public let promptEncoder: PromptEncoder
    public let maskDecoder: MaskDecoder

    /// Builds the model with freshly initialised parameters, all trainable as in PyTorch (FT-SAM: call
    /// `store.setTrainable(prefixes: ["mask_decoder."])`). Load a checkpoint afterwards to use it.
    public init(config: SyncSAMConfig, seed: UInt64 = 0) {
        self.config = config
        store = ParameterStore(seed: seed)
        let root = store.root
        imageEncoder = ImageEncoderViT(root["image_encoder"], config: config.vit, imageSize: config.imageSize)
        promptEncoder = PromptEncoder(root["prompt_encoder"], config: config)
        maskDecoder = MaskDecoder(root["mask_decoder"], config: config)
        store.setTrainable(prefixes: nil)
    }

    public var inputSize: Int { config.imageSize }
    public var maskSize: Int { config.maskSize }

    /// images [B, 3, S, S] (normalised) -> F [B, D, G, G].
    public func embed(_ images: Tensor, trace: ForwardTrace? = nil) -> ImageEmbedding {
        let features = imageEncoder(images)
        trace?.record("encoder.features", features)
        return ImageEmbedding(features: features)
    }

    /// SAM's decode: `multimaskOutput` gives tokens 1...3 with their IoU predictions, else token 0.
    public func decode(_ embedding: ImageEmbedding, prompts: Prompts, multimaskOutput: Bool = true,
                       trace: ForwardTrace? = nil) -> MaskPrediction {
        decodeWithMaskHead(embedding, prompts: prompts, multimaskOutput: multimaskOutput, trace: trace)
    }

}
