import SyncNN
import SyncTensor

/// SyncSAM (SPEC section 0): the synchronized dual-branch encoder (frozen SAM ViT + trainable ResNet fused stage by
/// stage), SAM's prompt encoder, and the Med-Output-token decoder with the multi-scale branch. Table 5 switches
/// of `config.variant` select the ablations (no CNN, no ViT, single-step fusion, no multi-scale branch, SAM's
/// decoder instead of the Med token).
/// Port of `SyncSAM` in `reference/syncsam_ref.py`.
public final class SyncSAMModel: PromptableSegmenter {
    /// The decoder in use: the Med-Output token (paper) or SAM's mask tokens + IoU head (Table 5 "w/o Med token").
    public enum Decoder {
        case medToken(MedTokenDecoder)
        case sam(MaskDecoder)
    }

    public let config: SyncSAMConfig
    public let store: ParameterStore
    public let imageEncoder: SyncEncoder
    public let promptEncoder: PromptEncoder
    public let decoder: Decoder

    /// Parameters trained in the paper setting (SPEC 0 "frozen in the paper setting"); everything else is frozen.
    public static let trainablePrefixes = [
        "image_encoder.cnn.", "image_encoder.fusion.", "mask_decoder.med_token.", "mask_decoder.med_mlp.",
        "mask_decoder.compress_vit_feat.", "mask_decoder.embedding_encoder.", "mask_decoder.embedding_maskfeature.",
    ]

    /// Builds the model with freshly initialised parameters and the paper's frozen set applied.
    public init(config: SyncSAMConfig, seed: UInt64 = 0) {
        self.config = config
        store = ParameterStore(seed: seed)
        let root = store.root
        imageEncoder = SyncEncoder(root["image_encoder"], config: config)
        promptEncoder = PromptEncoder(root["prompt_encoder"], config: config)
        if config.switches.medToken {
            decoder = .medToken(MedTokenDecoder(root["mask_decoder"], config: config))
        } else {
            decoder = .sam(MaskDecoder(root["mask_decoder"], config: config))
        }
        store.setTrainable(prefixes: config.switches.medToken ? Self.trainablePrefixes
                                                              : Self.trainablePrefixes + ["mask_decoder."])
    }

    public var inputSize: Int { config.imageSize }
    public var maskSize: Int { config.maskSize }

    /// images [B, 3, S, S] (normalised) -> F [B, D, G, G], stage features F_1..F_4 and F~ [B, D/8, 4G, 4G].
    public func embed(_ images: Tensor, trace: ForwardTrace? = nil) -> ImageEmbedding {
        let (features, stages) = imageEncoder(images, trace: trace)
        var embedding = ImageEmbedding(features: features, stageFeatures: stages)
        if case .medToken(let med) = decoder {
            embedding.multiScale = med.multiScaleFeatures(features: features, stages: stages)
        }
        return embedding
    }

    /// N prompts -> low-res logits [N, 1, 4G, 4G] (SAM decoder variant: [N, 1 or 3, ...] with IoU).
    public func decode(_ embedding: ImageEmbedding, prompts: Prompts, multimaskOutput: Bool = false,
                       trace: ForwardTrace? = nil) -> MaskPrediction {
        let (sparse, dense) = promptEncoder(prompts)
        trace?.record("prompt.sparse", sparse)
        trace?.record("prompt.dense", dense)
        let pe = promptEncoder.denseImagePE()
        switch decoder {
        case .medToken(let med):
            let ms = embedding.multiScale
                ?? med.multiScaleFeatures(features: embedding.features, stages: embedding.stageFeatures)
            let logits = med(features: embedding.features, multiScale: ms, imagePE: pe, sparse: sparse, dense: dense,
                             trace: trace)
            return MaskPrediction(lowResLogits: logits, iouPredictions: nil)
        case .sam(let sam):
            return sam(imageEmbeddings: embedding.features, imagePE: pe, sparse: sparse, dense: dense,
                       multimaskOutput: multimaskOutput)
        }
    }

    /// Zero-initialises every fusion `proj` (SPEC 5.5): at step 0 the encoder output equals SAM's.
    /// Call after loading SAM + ResNet weights into a fresh model.
    public func zeroFusionProjections() {
        for stage in imageEncoder.fusion {
            stage.proj.weight.assign(Tensor(zeros: stage.proj.weight.shape))
            stage.proj.bias?.assign(Tensor(zeros: [stage.proj.weight.shape[0]]))
        }
    }
}
