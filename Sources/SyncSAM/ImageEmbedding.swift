import SyncNN
import SyncTensor

/// The expensive, prompt-independent part of a forward pass (STYLE rule 3): computed once per image by
/// `embed`, reused by every `decode`.
public struct ImageEmbedding: Sendable {
    /// F [B, D, G, G] (neck output).
    public var features: Tensor
    /// SyncSAM stage outputs F_1...F_4 [B, G, G, C_vit] (global blocks after fusion); empty for SAM.
    public var stageFeatures: [Tensor]
    /// SyncSAM multi-scale feature F~ [B, D/8, 4G, 4G]; recomputed from `features` and `stageFeatures` by the
    /// decoder when nil (as the interactive training loop needs after detaching).
    public var multiScale: Tensor?

    public init(features: Tensor, stageFeatures: [Tensor] = [], multiScale: Tensor? = nil) {
        self.features = features
        self.stageFeatures = stageFeatures
        self.multiScale = multiScale
    }

    /// Number of images B.
    public var imageCount: Int { features.shape[0] }

    /// The same values without autograd history. F~ is dropped unless `keepingMultiScale`, so a decoder call
    /// recomputes it and its layers keep learning in decoder-only steps (SPEC 9 #22).
    public func detached(keepingMultiScale: Bool = false) -> ImageEmbedding {
        ImageEmbedding(features: features.detached(), stageFeatures: stageFeatures.map { $0.detached() },
                       multiScale: keepingMultiScale ? multiScale?.detached() : nil)
    }

    /// The embedding of image `index` alone (B = 1).
    public func image(_ index: Int) -> ImageEmbedding {
        ImageEmbedding(features: features.narrowed(0, start: index, length: 1),
                       stageFeatures: stageFeatures.map { $0.narrowed(0, start: index, length: 1) },
                       multiScale: multiScale?.narrowed(0, start: index, length: 1))
    }
}

/// A promptable segmentation model with separate encode and decode entry points (SAM, SyncSAM, LiteMedSAM).
public protocol PromptableSegmenter: AnyObject {
    /// Every parameter and buffer under its checkpoint name.
    var store: ParameterStore { get }
    /// Square input side in pixels.
    var inputSize: Int { get }
    /// Side of the low-res logits and of mask prompts.
    var maskSize: Int { get }
    /// images [B, 3, S, S], normalised -> embedding.
    func embed(_ images: Tensor, trace: ForwardTrace?) -> ImageEmbedding
    /// N prompts (image-major over the embedding's B images) -> low-res logits [N, K, 4G, 4G].
    /// `multimaskOutput` asks SAM-style decoders for their 3 masks (ignored by single-output decoders).
    func decode(_ embedding: ImageEmbedding, prompts: Prompts, multimaskOutput: Bool, trace: ForwardTrace?)
        -> MaskPrediction
}

extension PromptableSegmenter {
    /// Loads a checkpoint by name into the model (strict unless `options` relax it).
    @discardableResult
    public func load(from source: TensorSource, options: LoadOptions = LoadOptions()) throws -> LoadReport {
        try store.load(from: source, options: options)
    }
}

/// Intermediate tensors recorded by a forward pass under the fixture names (`vit.embed`, `cnn.stem`,
/// `cnn.layer1`, `fusion.0`, `stage.0`, `encoder.features`, `prompt.sparse`, `decoder.tokens`, ...), to locate
/// where a parity mismatch starts. Pass one to `embed` / `decode`; nil records nothing.
public final class ForwardTrace {
    public private(set) var tensors: [String: Tensor] = [:]
    public init() {}
    public func record(_ name: String, _ tensor: Tensor) { tensors[name] = tensor }
    public subscript(name: String) -> Tensor? { tensors[name] }
}
