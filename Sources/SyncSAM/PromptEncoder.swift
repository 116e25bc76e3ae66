import Foundation
import SyncNN
import SyncTensor

/// Prompts for a batch of N masks (image-major: with M masks per image, prompt n belongs to image n / M).
/// Coordinates are input pixels (x, y) of the model's square input, before SAM's +0.5 pixel-centre shift.
public struct Prompts {
    /// [N, P, 2] point coordinates (x, y).
    public var pointCoords: Tensor?
    /// [N, P] labels: 1 foreground, 0 background, −1 padding (not a point).
    public var pointLabels: Tensor?
    /// [N, 4] boxes (x0, y0, x1, y1).
    public var boxes: Tensor?
    /// [N, 1, 4G, 4G] mask prompts (probabilities or logits, as the caller's protocol says).
    public var maskInputs: Tensor?

    public init(pointCoords: Tensor? = nil, pointLabels: Tensor? = nil, boxes: Tensor? = nil, maskInputs: Tensor? = nil) {
        precondition((pointCoords == nil) == (pointLabels == nil), "point coordinates and labels come together")
        self.pointCoords = pointCoords
        self.pointLabels = pointLabels
        self.boxes = boxes
        self.maskInputs = maskInputs
    }

    /// Number of masks N (1 when there is no prompt at all).
    public var count: Int { pointCoords?.shape[0] ?? boxes?.shape[0] ?? maskInputs?.shape[0] ?? 1 }
}

/// SAM's prompt encoder (SPEC 2): random-Fourier positional encoding, point / box embeddings, mask downscaling.
/// Port of `PromptEncoder` and `PositionEmbeddingRandom` in `segment_anything/modeling/prompt_encoder.py`.
///
/// Checkpoint names (prefix `prompt_encoder.`): `pe_layer.positional_encoding_gaussian_matrix` [2, D/2] (buffer),
/// `point_embeddings.{0..3}.weight` [1, D], `not_a_point_embed.weight`, `mask_downscaling.{0,1,3,4,6}.*`,
/// `no_mask_embed.weight`.
public final class PromptEncoder {
    public let embedDim: Int
    /// Image embedding side E (token grid).
    public let imageEmbeddingSize: Int
    /// Input image side in pixels (point coordinates are normalised by it).
    public let inputImageSize: Int
    /// Mask prompt side 4E.
    public var maskInputSize: Int { 4 * imageEmbeddingSize }

    public let gaussianMatrix: Tensor
    public let pointEmbeddings: [Embedding]
    public let notAPointEmbed: Embedding
    public let maskConv1: Conv2d
    public let maskNorm1: LayerNorm2d
    public let maskConv2: Conv2d
    public let maskNorm2: LayerNorm2d
    public let maskConv3: Conv2d
    public let noMaskEmbed: Embedding

    private var densePECache: (key: [Float], pe: Tensor)?

    public init(_ vb: VarBuilder, embedDim: Int, imageEmbeddingSize: Int, inputImageSize: Int, maskInChans: Int) {
        self.embedDim = embedDim
        self.imageEmbeddingSize = imageEmbeddingSize
        self.inputImageSize = inputImageSize
        gaussianMatrix = vb["pe_layer"].buffer("positional_encoding_gaussian_matrix", [2, embedDim / 2], .normal(std: 1))
        pointEmbeddings = (0..<4).map { Embedding(vb["point_embeddings"][$0], count: 1, dim: embedDim) }
        notAPointEmbed = Embedding(vb["not_a_point_embed"], count: 1, dim: embedDim)
        let m = vb["mask_downscaling"]
        maskConv1 = Conv2d(m[0], inChannels: 1, outChannels: maskInChans / 4, kernelSize: 2, stride: 2)
        maskNorm1 = LayerNorm2d(m[1], channels: maskInChans / 4)
        maskConv2 = Conv2d(m[3], inChannels: maskInChans / 4, outChannels: maskInChans, kernelSize: 2, stride: 2)
        maskNorm2 = LayerNorm2d(m[4], channels: maskInChans)
        maskConv3 = Conv2d(m[6], inChannels: maskInChans, outChannels: embedDim, kernelSize: 1)
        noMaskEmbed = Embedding(vb["no_mask_embed"], count: 1, dim: embedDim)
    }

    /// Convenience from a model configuration.
    public convenience init(_ vb: VarBuilder, config: SyncSAMConfig) {
        self.init(vb, embedDim: config.prompt.embedDim, imageEmbeddingSize: config.gridSize,
                  inputImageSize: config.imageSize, maskInChans: config.prompt.maskInChans)
    }

    /// Random-Fourier encoding of normalised (x, y) pairs: `[sin(2π(2c−1)G), cos(2π(2c−1)G)]`, computed in
    /// double precision. coords: count pairs, row-major -> [count, D] values.
    func encode(normalized coords: [Double]) -> [Float] {
        let half = embedDim / 2, n = coords.count / 2
        let g = gaussianMatrix.toArray().map(Double.init)
        var out = [Float](repeating: 0, count: n * embedDim)
        for p in 0..<n {
            let x = 2 * coords[2 * p] - 1, y = 2 * coords[2 * p + 1] - 1
            for j in 0..<half {
                let u = 2 * Double.pi * (x * g[j] + y * g[half + j])
                out[p * embedDim + j] = Float(Foundation.sin(u))
                out[p * embedDim + half + j] = Float(Foundation.cos(u))
            }
        }
        return out
    }

    /// `get_dense_pe`: positional encoding of the token grid centres, [1, D, E, E]. Cached until the Gaussian
    /// matrix changes (for example by loading a checkpoint).
    public func denseImagePE() -> Tensor {
        let key = gaussianMatrix.toArray()
        if let cache = densePECache, cache.key == key { return cache.pe }
        let e = imageEmbeddingSize
        var coords = [Double](repeating: 0, count: e * e * 2)
        for i in 0..<e {
            for j in 0..<e {
                coords[(i * e + j) * 2] = (Double(j) + 0.5) / Double(e)
                coords[(i * e + j) * 2 + 1] = (Double(i) + 0.5) / Double(e)
            }
        }
        let pe = withNoGrad {
            Tensor(shape: [1, e, e, embedDim], values: encode(normalized: coords)).permuted([0, 3, 1, 2])
        }
        densePECache = (key, pe)
        return pe
    }

    /// Sparse and dense prompt embeddings: sparse [N, P(+1) + 2·[box], D] (points first, then box corners; a
    /// padding point is appended when points come without boxes), dense [N, D, E, E].
    public func callAsFunction(_ prompts: Prompts) -> (sparse: Tensor, dense: Tensor) {
        let n = prompts.count
        var parts: [Tensor] = []
        if let coords = prompts.pointCoords, let labels = prompts.pointLabels {
            parts.append(embedPoints(coords, labels: labels, pad: prompts.boxes == nil))
        }
        if let boxes = prompts.boxes { parts.append(embedBoxes(boxes)) }
        let sparse = parts.isEmpty ? Tensor(zeros: [n, 0, embedDim]) : parts.count == 1 ? parts[0]
            : Tensor.concat(parts, dim: 1)
        let dense: Tensor
        if let masks = prompts.maskInputs {
            let h1 = maskNorm1(maskConv1(masks)).gelu()
            dense = maskConv3(maskNorm2(maskConv2(h1)).gelu())
        } else {
            let e = imageEmbeddingSize
            dense = noMaskEmbed.weight.reshaped([1, embedDim, 1, 1]).expanded(to: [n, embedDim, e, e])
        }
        return (sparse, dense)
    }

    /// Points [N, P, 2] with labels [N, P] -> [N, P(+1), D].
    func embedPoints(_ coords: Tensor, labels: Tensor, pad: Bool) -> Tensor {
        let n = coords.shape[0], p = coords.shape[1], total = p + (pad ? 1 : 0)
        let xy = coords.toArray(), lab = labels.toArray()
        var normalized = [Double](repeating: 0, count: n * total * 2)
        var rows = [Int](repeating: 0, count: n * total)
        var isPoint = [Bool](repeating: false, count: n * total)
        let size = Double(inputImageSize)
        for b in 0..<n {
            for i in 0..<total {
                let slot = b * total + i
                let label = i < p ? Int(lab[b * p + i].rounded()) : -1
                if i < p {
                    normalized[2 * slot] = (Double(xy[(b * p + i) * 2]) + 0.5) / size
                    normalized[2 * slot + 1] = (Double(xy[(b * p + i) * 2 + 1]) + 0.5) / size
                }
                // Rows of the label table: 0 not-a-point, 1 background, 2 foreground, 3 nothing added.
                rows[slot] = label == -1 ? 0 : label == 0 ? 1 : label == 1 ? 2 : 3
                isPoint[slot] = label != -1
            }
        }
        var pe = encode(normalized: normalized)
        for slot in 0..<(n * total) where !isPoint[slot] {
            for j in 0..<embedDim { pe[slot * embedDim + j] = 0 }
        }
        let table = Tensor.concat([notAPointEmbed.weight, pointEmbeddings[0].weight, pointEmbeddings[1].weight,
                                   Tensor(zeros: [1, embedDim])], dim: 0)
        return Tensor(shape: [n, total, embedDim], values: pe) + table.indexSelect(rows).reshaped([n, total, embedDim])
    }

    /// Boxes [N, 4] -> two corner tokens [N, 2, D].
    func embedBoxes(_ boxes: Tensor) -> Tensor {
        let n = boxes.shape[0], size = Double(inputImageSize)
        let normalized = boxes.toArray().map { (Double($0) + 0.5) / size }
        let pe = Tensor(shape: [n, 2, embedDim], values: encode(normalized: normalized))
        let corners = Tensor.concat([pointEmbeddings[2].weight, pointEmbeddings[3].weight], dim: 0)
        return pe + corners
    }
}
