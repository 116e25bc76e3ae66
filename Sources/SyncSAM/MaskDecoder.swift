import SyncNN
import SyncTensor

/// Two stride-2 transposed convolutions with LayerNorm2d + GELU between (×4 upsampling):
/// `{0: ConvT(in→mid, 2, 2), 1: LN2d(mid), 2: GELU, 3: ConvT(mid→out, 2, 2)[, 4: GELU]}`.
/// SAM's `output_upscaling` (final GELU) and SAM-HQ's `embedding_encoder` / `compress_vit_feat` (none).
public final class UpsamplingStack {
    public let conv1: ConvTranspose2d
    public let norm: LayerNorm2d
    public let conv2: ConvTranspose2d
    public let finalGELU: Bool

    public init(_ vb: VarBuilder, inChannels: Int, midChannels: Int, outChannels: Int, finalGELU: Bool) {
        conv1 = ConvTranspose2d(vb[0], inChannels: inChannels, outChannels: midChannels, kernelSize: 2, stride: 2)
        norm = LayerNorm2d(vb[1], channels: midChannels)
        conv2 = ConvTranspose2d(vb[3], inChannels: midChannels, outChannels: outChannels, kernelSize: 2, stride: 2)
        self.finalGELU = finalGELU
    }

    /// x [B, in, h, w] -> [B, out, 4h, 4w].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = conv2(norm(conv1(x)).gelu())
        return finalGELU ? y.gelu() : y
    }
}

/// What a decoder returns for N prompts.
public struct MaskPrediction {
    /// [N, K, 4G, 4G] low-resolution mask logits (K = 1 for the Med token, 1 or 3 for SAM's selection).
    public var lowResLogits: Tensor
    /// [N, K] predicted IoU (SAM's decoder only).
    public var iouPredictions: Tensor?
}

/// SAM's mask decoder (SPEC 3.4): IoU token + mask tokens through the two-way transformer, hypernetwork MLPs
/// over the upscaled image embedding, IoU head, multimask selection.
/// Port of `MaskDecoder` in `segment_anything/modeling/mask_decoder.py`.
///
/// Configurable for SAM, SAM-Med2D and LiteMedSAM: transformer width/depth/heads/MLP, number of multimask
/// outputs, IoU head depth and width. Checkpoint names (prefix `mask_decoder.`): `transformer.*`, `iou_token`,
/// `mask_tokens`, `output_upscaling.{0,1,3}`, `output_hypernetworks_mlps.N.layers.*`, `iou_prediction_head.layers.*`.
public final class MaskDecoder {
    public let transformerDim: Int
    public let numMultimaskOutputs: Int
    public let transformer: TwoWayTransformer
    public let iouToken: Embedding
    public let maskTokens: Embedding
    public let outputUpscaling: UpsamplingStack
    public let outputHypernetworksMLPs: [MLP]
    public let iouPredictionHead: MLP

    public var numMaskTokens: Int { numMultimaskOutputs + 1 }

    public init(_ vb: VarBuilder, transformerDim: Int, transformerDepth: Int, numHeads: Int, mlpDim: Int,
                numMultimaskOutputs: Int = 3, iouHeadDepth: Int = 3, iouHeadHiddenDim: Int = 256) {
        self.transformerDim = transformerDim
        self.numMultimaskOutputs = numMultimaskOutputs
        let d = transformerDim, tokens = numMultimaskOutputs + 1
        transformer = TwoWayTransformer(vb["transformer"], depth: transformerDepth, embeddingDim: d,
                                        numHeads: numHeads, mlpDim: mlpDim)
        iouToken = Embedding(vb["iou_token"], count: 1, dim: d)
        maskTokens = Embedding(vb["mask_tokens"], count: tokens, dim: d)
        outputUpscaling = UpsamplingStack(vb["output_upscaling"], inChannels: d, midChannels: d / 4,
                                          outChannels: d / 8, finalGELU: true)
        outputHypernetworksMLPs = (0..<tokens).map {
            MLP(vb["output_hypernetworks_mlps"][$0], inputDim: d, hiddenDim: d, outputDim: d / 8, numLayers: 3)
        }
        iouPredictionHead = MLP(vb["iou_prediction_head"], inputDim: d, hiddenDim: iouHeadHiddenDim,
                                outputDim: tokens, numLayers: iouHeadDepth)
    }

    /// From a model configuration (`decoder` and `prompt` sections).
    public convenience init(_ vb: VarBuilder, config: SyncSAMConfig) {
        let d = config.prompt.embedDim, dec = config.decoder
        self.init(vb, transformerDim: d, transformerDepth: dec.transformerDepth, numHeads: dec.numHeads,
                  mlpDim: dec.mlpDim, numMultimaskOutputs: dec.numMultimaskOutputs ?? 3,
                  iouHeadDepth: dec.iouHeadDepth ?? 3, iouHeadHiddenDim: dec.iouHeadHiddenDim ?? d)
    }

    /// All mask tokens (`predict_masks`).
    /// - Parameters:
    ///   - imageEmbeddings: [B, D, h, w]; each is repeated for its N / B prompts (image-major).
    ///   - imagePE: dense PE [1, D, h, w]. - sparse: [N, T, D]. - dense: [N, D, h, w].
    /// - Returns: masks [N, K+1, 4h, 4w] and IoU predictions [N, K+1].
    public func predictMasks(imageEmbeddings: Tensor, imagePE: Tensor, sparse: Tensor, dense: Tensor)
        -> (masks: Tensor, iou: Tensor) {
        if !GradMode.isEnabled {
            return inferenceMasks(imageEmbeddings: imageEmbeddings, imagePE: imagePE, sparse: sparse, dense: dense,
                                  maskTokens: 0..<numMaskTokens)
        }
        let n = sparse.shape[0], d = transformerDim, k = numMaskTokens
        let (h, w) = (imageEmbeddings.shape[2], imageEmbeddings.shape[3])
        precondition(n % imageEmbeddings.shape[0] == 0, "\(n) prompts for \(imageEmbeddings.shape[0]) images")
        let output = Tensor.concat([iouToken.weight, maskTokens.weight], dim: 0).unsqueezed(0).expanded(to: [n, k + 1, d])
        let tokens = sparse.shape[1] == 0 ? output : Tensor.concat([output, sparse], dim: 1)
        let src = imageEmbeddings.repeatInterleaved(n / imageEmbeddings.shape[0], dim: 0) + dense
        let (hs, keys) = transformer(image: src, imagePE: imagePE, tokens: tokens)
        let upscaled = outputUpscaling(keys.permuted([0, 2, 1]).reshaped([n, d, h, w]))
        let weights = Tensor.stack((0..<k).map { outputHypernetworksMLPs[$0](hs.selected(1, $0 + 1)) }, dim: 1)
        let masks = weights.matmul(upscaled.reshaped([n, d / 8, 16 * h * w])).reshaped([n, k, 4 * h, 4 * w])
        let iou = iouPredictionHead(hs.selected(1, 0))
        return (masks, iou)
    }

    /// SAM's `forward`: tokens 1...K when `multimaskOutput`, else token 0.
    public func callAsFunction(imageEmbeddings: Tensor, imagePE: Tensor, sparse: Tensor, dense: Tensor,
                               multimaskOutput: Bool) -> MaskPrediction {
        let start = multimaskOutput ? 1 : 0, count = multimaskOutput ? numMultimaskOutputs : 1
        if !GradMode.isEnabled {
            let (masks, iou) = inferenceMasks(imageEmbeddings: imageEmbeddings, imagePE: imagePE, sparse: sparse,
                                              dense: dense, maskTokens: start..<(start + count))
            return MaskPrediction(lowResLogits: masks, iouPredictions: iou.narrowed(1, start: start, length: count))
        }
        let (masks, iou) = predictMasks(imageEmbeddings: imageEmbeddings, imagePE: imagePE, sparse: sparse, dense: dense)
        return MaskPrediction(lowResLogits: masks.narrowed(1, start: start, length: count),
                              iouPredictions: iou.narrowed(1, start: start, length: count))
    }
}

extension MaskDecoder {
    /// Inference (no tape) of `predictMasks` for the mask tokens `maskTokens` only, prompt by prompt through
    /// `TwoWayTransformer.forEachPrompt`: masks [N, maskTokens.count, 4h, 4w] and IoU predictions [N, K+1].
    func inferenceMasks(imageEmbeddings: Tensor, imagePE: Tensor, sparse: Tensor, dense: Tensor,
                        maskTokens: Range<Int>) -> (masks: Tensor, iou: Tensor) {
        let n = sparse.shape[0], d = transformerDim, k = numMaskTokens, r = maskTokens.count
        let (h, w) = (imageEmbeddings.shape[2], imageEmbeddings.shape[3])
        precondition(n % imageEmbeddings.shape[0] == 0, "\(n) prompts for \(imageEmbeddings.shape[0]) images")
        let output = Tensor.concat([iouToken.weight, self.maskTokens.weight], dim: 0).unsqueezed(0).expanded(to: [n, k + 1, d])
        let tokens = sparse.shape[1] == 0 ? output : Tensor.concat([output, sparse], dim: 1)
        let masks = Tensor(zeros: [n, r, 4 * h, 4 * w], zeroed: false)
        let iou = Tensor(zeros: [n, k], zeroed: false)
        transformer.forEachPrompt(image: imageEmbeddings, imagePE: imagePE, dense: dense, tokens: tokens,
                                  outputRows: 0..<(maskTokens.upperBound + 1)) { i, hs, keys in
            let upscaled = outputUpscaling.subPixelForward(keys)          // [16hw, D/8]
            let weights = Tensor.concat(maskTokens.map {
                outputHypernetworksMLPs[$0](hs.narrowed(0, start: $0 + 1, length: 1))
            }, dim: 0)
            let perMask = UpsamplingStack.rasterized(upscaled.matmul(weights, transposeOther: true), h: h, w: w)
            masks.narrowed(0, start: i, length: 1).assign(perMask)
            iou.narrowed(0, start: i, length: 1).assign(iouPredictionHead(hs.narrowed(0, start: 0, length: 1)))
        }
        return (masks, iou)
    }
}

extension MaskPrediction {
    /// SAM-Med2D's selection: per prompt, the mask with the highest predicted IoU -> [N, 1, h, w] and [N, 1].
    public func bestByIoU() -> MaskPrediction {
        guard let iou = iouPredictions, iou.shape[1] > 1 else { return self }
        let n = iou.shape[0], k = iou.shape[1]
        let scores = iou.toArray()
        let picks = (0..<n).map { i in (0..<k).max { scores[i * k + $0] < scores[i * k + $1] }! }
        let flat = lowResLogits.reshaped([n * k] + Array(lowResLogits.shape[2...]))
        let rows = picks.enumerated().map { $0.offset * k + $0.element }
        let logits = flat.indexSelect(rows).unsqueezed(1)
        let bestIoU = iou.reshaped([n * k]).indexSelect(rows).reshaped([n, 1])
        return MaskPrediction(lowResLogits: logits, iouPredictions: bestIoU)
    }
}
