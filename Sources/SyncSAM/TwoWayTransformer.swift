import SyncNN
import SyncTensor

/// Decoder attention with an optional internal downsampling of the width (SPEC 3.1): q/k/v projections
/// D -> D / rate, heads over the internal width, scores / sqrt(head dim), softmax over keys, `out_proj` back to D.
/// Port of `Attention` in `segment_anything/modeling/transformer.py`.
public final class DecoderAttention {
    public let qProj: Linear, kProj: Linear, vProj: Linear, outProj: Linear
    public let numHeads: Int
    public let internalDim: Int

    public init(_ vb: VarBuilder, embeddingDim: Int, numHeads: Int, downsampleRate: Int = 1) {
        internalDim = embeddingDim / downsampleRate
        precondition(internalDim % numHeads == 0, "heads \(numHeads) must divide \(internalDim)")
        self.numHeads = numHeads
        qProj = Linear(vb["q_proj"], inFeatures: embeddingDim, outFeatures: internalDim)
        kProj = Linear(vb["k_proj"], inFeatures: embeddingDim, outFeatures: internalDim)
        vProj = Linear(vb["v_proj"], inFeatures: embeddingDim, outFeatures: internalDim)
        outProj = Linear(vb["out_proj"], inFeatures: internalDim, outFeatures: embeddingDim)
    }

    /// q [B, Nq, D], k [B, Nk, D], v [B, Nk, D] -> [B, Nq, D].
    public func callAsFunction(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        let b = q.shape[0], nq = q.shape[1], nk = k.shape[1]
        let d = internalDim / numHeads
        func heads(_ x: Tensor, _ n: Int) -> Tensor {
            numHeads == 1 ? x.reshaped([b, 1, n, d]) : x.reshaped([b, n, numHeads, d]).permuted([0, 2, 1, 3])
        }
        let qh = heads(qProj(q), nq), kh = heads(kProj(k), nk), vh = heads(vProj(v), nk)
        let scale = 1 / Float(d).squareRoot()
        let probs = (qh * scale).matmul(kh, transposeOther: true).softmax()
        var out = probs.matmul(vh)
        if numHeads > 1 { out = out.permuted([0, 2, 1, 3]) }
        return outProj(out.reshaped([b, nq, internalDim]))
    }
}

/// One two-way block (SPEC 3.2): token self-attention, token-to-image cross-attention, token MLP, image-to-token
/// cross-attention, each followed by a LayerNorm (eps 1e-5).
/// Port of `TwoWayAttentionBlock` in `segment_anything/modeling/transformer.py`.
public final class TwoWayAttentionBlock {
    public let selfAttn: DecoderAttention
    public let norm1: LayerNorm
    public let crossAttnTokenToImage: DecoderAttention
    public let norm2: LayerNorm
    public let mlp: MLPBlock
    public let norm3: LayerNorm
    public let norm4: LayerNorm
    public let crossAttnImageToToken: DecoderAttention
    public let skipFirstLayerPE: Bool

    public init(_ vb: VarBuilder, embeddingDim: Int, numHeads: Int, mlpDim: Int, downsampleRate: Int = 2,
                skipFirstLayerPE: Bool) {
        selfAttn = DecoderAttention(vb["self_attn"], embeddingDim: embeddingDim, numHeads: numHeads)
        norm1 = LayerNorm(vb["norm1"], dim: embeddingDim)
        crossAttnTokenToImage = DecoderAttention(vb["cross_attn_token_to_image"], embeddingDim: embeddingDim,
                                                 numHeads: numHeads, downsampleRate: downsampleRate)
        norm2 = LayerNorm(vb["norm2"], dim: embeddingDim)
        mlp = MLPBlock(vb["mlp"], embeddingDim: embeddingDim, mlpDim: mlpDim, activation: .relu)
        norm3 = LayerNorm(vb["norm3"], dim: embeddingDim)
        norm4 = LayerNorm(vb["norm4"], dim: embeddingDim)
        crossAttnImageToToken = DecoderAttention(vb["cross_attn_image_to_token"], embeddingDim: embeddingDim,
                                                 numHeads: numHeads, downsampleRate: downsampleRate)
        self.skipFirstLayerPE = skipFirstLayerPE
    }

    /// queries [B, T, D], keys [B, HW, D], queryPE = the original tokens, keyPE = dense PE [B, HW, D].
    public func callAsFunction(queries: Tensor, keys: Tensor, queryPE: Tensor, keyPE: Tensor) -> (Tensor, Tensor) {
        var q: Tensor
        if skipFirstLayerPE {
            q = selfAttn(q: queries, k: queries, v: queries)
        } else {
            let qp = queries + queryPE
            q = queries + selfAttn(q: qp, k: qp, v: queries)
        }
        q = norm1(q)
        let kp = keys + keyPE
        q = norm2(q + crossAttnTokenToImage(q: q + queryPE, k: kp, v: keys))
        q = norm3(q + mlp(q))
        let k = norm4(keys + crossAttnImageToToken(q: kp, k: q + queryPE, v: q))
        return (q, k)
    }
}

/// SAM's two-way transformer (SPEC 3.3). Port of `TwoWayTransformer` in `segment_anything/modeling/transformer.py`.
public final class TwoWayTransformer {
    public let layers: [TwoWayAttentionBlock]
    public let finalAttnTokenToImage: DecoderAttention
    public let normFinalAttn: LayerNorm

    public init(_ vb: VarBuilder, depth: Int, embeddingDim: Int, numHeads: Int, mlpDim: Int, downsampleRate: Int = 2) {
        layers = (0..<depth).map {
            TwoWayAttentionBlock(vb["layers"][$0], embeddingDim: embeddingDim, numHeads: numHeads, mlpDim: mlpDim,
                                 downsampleRate: downsampleRate, skipFirstLayerPE: $0 == 0)
        }
        finalAttnTokenToImage = DecoderAttention(vb["final_attn_token_to_image"], embeddingDim: embeddingDim,
                                                 numHeads: numHeads, downsampleRate: downsampleRate)
        normFinalAttn = LayerNorm(vb["norm_final_attn"], dim: embeddingDim)
    }

    /// image [B, D, h, w], imagePE [B or 1, D, h, w] (broadcast over the batch), tokens [B, T, D] ->
    /// (tokens [B, T, D], image [B, hw, D]).
    public func callAsFunction(image: Tensor, imagePE: Tensor, tokens: Tensor) -> (queries: Tensor, keys: Tensor) {
        var keys = image.flattened(from: 2).permuted([0, 2, 1])
        let keyPE = imagePE.flattened(from: 2).permuted([0, 2, 1])
        var queries = tokens
        for layer in layers {
            (queries, keys) = layer(queries: queries, keys: keys, queryPE: tokens, keyPE: keyPE)
        }
        let attn = finalAttnTokenToImage(q: queries + tokens, k: keys + keyPE, v: keys)
        return (normFinalAttn(queries + attn), keys)
    }
}
