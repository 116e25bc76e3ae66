import SyncTensor

/// Models whose decoder is SAM's prompt encoder + mask decoder (mask tokens and IoU head): SAM and LiteMedSAM.
/// One implementation of their decode paths.
public protocol SAMMaskHeadModel {
    var promptEncoder: PromptEncoder { get }
    var maskDecoder: MaskDecoder { get }
}

extension SAMMaskHeadModel {
    /// Prompt encoder then mask decoder on the image features: token 0, or tokens 1...3 when `multimaskOutput`,
    /// with IoU predictions (SAM `MaskDecoder.forward`).
    func decodeWithMaskHead(_ embedding: ImageEmbedding, prompts: Prompts, multimaskOutput: Bool,
                            trace: ForwardTrace?) -> MaskPrediction {
        let (sparse, dense) = promptEncoder(prompts)
        trace?.record("prompt.sparse", sparse)
        trace?.record("prompt.dense", dense)
        return maskDecoder(imageEmbeddings: embedding.features, imagePE: promptEncoder.denseImagePE(), sparse: sparse,
                           dense: dense, multimaskOutput: multimaskOutput)
    }

    /// Every mask token's logits [N, K+1, 4G, 4G] and IoU predictions [N, K+1] (`predict_masks`).
    public func predictAllMasks(_ embedding: ImageEmbedding, prompts: Prompts) -> (masks: Tensor, iou: Tensor) {
        let (sparse, dense) = promptEncoder(prompts)
        return maskDecoder.predictMasks(imageEmbeddings: embedding.features, imagePE: promptEncoder.denseImagePE(),
                                        sparse: sparse, dense: dense)
    }
}
