import Foundation
import SyncNN
import SyncTensor

/// Inference path of the two-way transformer (SPEC 3.1-3.3, no tape), one prompt at a time over 2-D tensors:
/// image tokens [HW, D], prompt tokens [T, D].
///
/// The image side attends through only T prompt tokens, so its attention runs in factored form through them
/// instead of projecting all HW image tokens (exact up to float rounding; T·H << internal width):
/// - token-to-image: head h scores `(q_h Wk_h) X^T` (the key bias adds a per-row constant, which softmax
///   ignores) and output `(P_h Y) Wv_h^T + bv_h` (softmax rows sum to 1): two [H·T, HW] x [HW, D] GEMMs instead
///   of projecting X and Y to [HW, D/2].
/// - image-to-token: scores `X (k_h Wq_h)^T + k_h·bq_h` and output `P (V Wo^T per head) + bo`: two [HW, D] x
///   [D, H·T] GEMMs instead of the query and output projections.
/// When many prompts share an image side (no mask prompt), layer 0's image projections are computed once
/// (`ImageSide`) and every prompt reads them.
extension TwoWayTransformer {
    /// What one image contributes to every prompt on it: src tokens, src + PE, and optionally layer 0's image
    /// projections (token-to-image K, V and image-to-token Q, [HW, D/rate] each).
    struct ImageSide {
        let keys: Tensor
        let keysPE: Tensor
        let projections: (k: Tensor, v: Tensor, q: Tensor)?
    }

    /// src [HW, D], pe [HW, D] -> the shared image side, with layer 0's projections when `project`.
    func imageSide(src: Tensor, pe: Tensor, project: Bool) -> ImageSide {
        let keysPE = src + pe
        guard project, let first = layers.first else { return ImageSide(keys: src, keysPE: keysPE, projections: nil) }
        let t2i = first.crossAttnTokenToImage, i2t = first.crossAttnImageToToken
        return ImageSide(keys: src, keysPE: keysPE,
                         projections: (t2i.kProj(keysPE), t2i.vProj(src), i2t.qProj(keysPE)))
    }

    /// One prompt: tokens [T, D] over an image side -> (tokens `outputRows` of the final queries, image [HW, D]).
    func inference(side: ImageSide, pe: Tensor, tokens: Tensor, outputRows: Range<Int>) -> (queries: Tensor, keys: Tensor) {
        var queries = tokens, keys = side.keys, keysPE = side.keysPE
        for (index, layer) in layers.enumerated() {
            (queries, keys) = layer.inference(queries: queries, keys: keys, keysPE: keysPE, tokenPE: tokens,
                                              projections: index == 0 ? side.projections : nil)
            keysPE = keys + pe
        }
        let rows = outputRows
        let q = queries.narrowed(0, start: rows.lowerBound, length: rows.count)
        let qPE = q + tokens.narrowed(0, start: rows.lowerBound, length: rows.count)
        let attn = finalAttnTokenToImage.tokenToImage(queries: qPE, keysPE: keysPE, keys: keys)
        return (normFinalAttn(q + attn), keys)
    }
}

extension TwoWayAttentionBlock {
    /// The block on one prompt: queries [T, D], keys [HW, D], keysPE = keys + dense PE, tokenPE [T, D].
    func inference(queries: Tensor, keys: Tensor, keysPE: Tensor, tokenPE: Tensor,
                   projections: (k: Tensor, v: Tensor, q: Tensor)?) -> (Tensor, Tensor) {
        let t = queries.shape[0], d = queries.shape[1]
        let q3 = queries.reshaped([1, t, d])
        var q: Tensor
        if skipFirstLayerPE {
            q = selfAttn(q: q3, k: q3, v: q3).reshaped([t, d])
        } else {
            let qp = (queries + tokenPE).reshaped([1, t, d])
            q = queries + selfAttn(q: qp, k: qp, v: q3).reshaped([t, d])
        }
        q = norm1(q)
        let t2i = projections.map {
            crossAttnTokenToImage.tokenToImage(queries: q + tokenPE, projectedKeys: $0.k, projectedValues: $0.v)
        } ?? crossAttnTokenToImage.tokenToImage(queries: q + tokenPE, keysPE: keysPE, keys: keys)
        q = norm2(q + t2i)
        q = norm3(q + mlp(q))
        let kTok = q + tokenPE
        let image = projections.map {
            crossAttnImageToToken.imageToToken(projectedQueries: $0.q, keys: kTok, values: q, residual: keys)
        } ?? crossAttnImageToToken.imageToToken(queries: keysPE, keys: kTok, values: q, residual: keys)
        return (q, norm4(image))
    }
}

extension DecoderAttention {
    var headDim: Int { internalDim / numHeads }
    var scale: Float { 1 / Float(headDim).squareRoot() }

    /// Token-to-image attention in factored form: queries [T, D], keysPE [HW, D] (keys input), keys [HW, D]
    /// (values input) -> [T, D].
    func tokenToImage(queries: Tensor, keysPE: Tensor, keys: Tensor) -> Tensor {
        let t = queries.shape[0], dim = keys.shape[1], dh = headDim, heads = numHeads
        let qp = qProj(queries)
        let a = headProducts(qp, kProj.weight, alpha: scale)              // [H·T, D]
        let probs = a.matmul(keysPE, transposeOther: true)                // [H·T, HW]
        probs.softmaxInPlace()
        let mixed = probs.matmul(keys)                                    // [H·T, D]
        let out = Tensor(zeros: [t, internalDim], zeroed: false)
        for h in 0..<heads {
            BLAS.sgemm(transA: false, transB: true, m: t, n: dh, k: dim, a: mixed.data + h * t * dim, lda: dim,
                       b: vProj.weight.data + h * dh * dim, ldb: dim, c: out.data + h * dh, ldc: internalDim)
        }
        return outProj(vProj.bias.map { out + $0 } ?? out)
    }

    /// Token-to-image attention over projected image keys/values K, V [HW, D/rate]: queries [T, D] -> [T, D].
    func tokenToImage(queries: Tensor, projectedKeys k: Tensor, projectedValues v: Tensor) -> Tensor {
        let t = queries.shape[0], hw = k.shape[0], dh = headDim, width = internalDim
        let qp = qProj(queries)
        let probs = Tensor(zeros: [numHeads * t, hw], zeroed: false)
        for h in 0..<numHeads {
            BLAS.sgemm(transA: false, transB: true, m: t, n: hw, k: dh, alpha: scale, a: qp.data + h * dh, lda: width,
                       b: k.data + h * dh, ldb: width, c: probs.data + h * t * hw, ldc: hw)
        }
        probs.softmaxInPlace()
        let out = Tensor(zeros: [t, width], zeroed: false)
        for h in 0..<numHeads {
            BLAS.sgemm(transA: false, transB: false, m: t, n: dh, k: hw, a: probs.data + h * t * hw, lda: hw,
                       b: v.data + h * dh, ldb: width, c: out.data + h * dh, ldc: width)
        }
        return outProj(out)
    }

    /// Image-to-token attention in factored form: image queries [HW, D], token keys/values [T, D] ->
    /// `residual + attention` [HW, D].
    func imageToToken(queries: Tensor, keys: Tensor, values: Tensor, residual: Tensor) -> Tensor {
        let t = keys.shape[0], hw = queries.shape[0], dim = queries.shape[1], dh = headDim, width = internalDim
        let kp = kProj(keys)
        let b = headProducts(kp, qProj.weight, alpha: scale)              // [H·T, D]
        let cols = numHeads * t
        // Query-bias term k_h · bq_h · scale per column, the initial value of every score row.
        var rowInit = [Float](repeating: 0, count: cols)
        if let bq = qProj.bias {
            for h in 0..<numHeads { for j in 0..<t {
                var s: Float = 0
                for c in 0..<dh { s += kp.data[j * width + h * dh + c] * bq.data[h * dh + c] }
                rowInit[h * t + j] = s * scale
            } }
        }
        let probs = Tensor(zeros: [hw, cols], zeroed: false)
        rowInit.withUnsafeBufferPointer { src in
            for r in 0..<hw { (probs.data + r * cols).update(from: src.baseAddress!, count: cols) }
        }
        BLAS.sgemm(transA: false, transB: true, m: hw, n: cols, k: dim, a: queries.data, lda: dim, b: b.data, ldb: dim,
                   beta: 1, c: probs.data, ldc: cols)
        return mixTokens(probs, values: values, tokens: t, residual: residual)
    }

    /// Image-to-token attention over projected image queries Q [HW, D/rate] -> `residual + attention` [HW, D].
    func imageToToken(projectedQueries q: Tensor, keys: Tensor, values: Tensor, residual: Tensor) -> Tensor {
        let t = keys.shape[0], hw = q.shape[0], dh = headDim, width = internalDim, cols = numHeads * t
        let kp = kProj(keys)
        let probs = Tensor(zeros: [hw, cols], zeroed: false)
        for h in 0..<numHeads {
            BLAS.sgemm(transA: false, transB: true, m: hw, n: t, k: dh, alpha: scale, a: q.data + h * dh, lda: width,
                       b: kp.data + h * dh, ldb: width, c: probs.data + h * t, ldc: cols)
        }
        return mixTokens(probs, values: values, tokens: t, residual: residual)
    }

    /// Softmax over each head's T scores of every row of `scores` [HW, H·T], then `residual + P (V_h Wo_h^T) + bo`.
    private func mixTokens(_ scores: Tensor, values: Tensor, tokens t: Int, residual: Tensor) -> Tensor {
        let hw = scores.shape[0], cols = numHeads * t, dh = headDim, width = internalDim
        let dim = outProj.weight.shape[0], heads = numHeads
        let s = scores.data
        Parallel.forRange(hw, costPerItem: cols * 8) { range in
            for r in range { for h in 0..<heads { AttentionKernels.softmaxRow(s + r * cols + h * t, count: t) } }
        }
        let v = vProj(values)                                             // [T, D/rate]
        // mixT [D, H·T]: head h columns = Wo_h V_h^T.
        let mixT = Tensor(zeros: [dim, cols], zeroed: false)
        for h in 0..<heads {
            BLAS.sgemm(transA: false, transB: true, m: dim, n: t, k: dh, a: outProj.weight.data + h * dh, lda: width,
                       b: v.data + h * dh, ldb: width, c: mixT.data + h * t, ldc: cols)
        }
        let out = outProj.bias.map { residual + $0 } ?? residual.clone()
        BLAS.sgemm(transA: false, transB: true, m: hw, n: dim, k: cols, a: scores.data, lda: cols, b: mixT.data,
                   ldb: cols, beta: 1, c: out.data, ldc: dim)
        return out
    }

    /// Per head `alpha · x_h W_h` for x [T, D/rate] and a projection weight W [D/rate, D] (head h: rows h·d ..<
    /// (h+1)·d) -> [H·T, D], head-major.
    private func headProducts(_ x: Tensor, _ w: Tensor, alpha: Float) -> Tensor {
        let t = x.shape[0], dh = headDim, dim = w.shape[1]
        let out = Tensor(zeros: [numHeads * t, dim], zeroed: false)
        for h in 0..<numHeads {
            BLAS.sgemm(transA: false, transB: false, m: t, n: dim, k: dh, alpha: alpha, a: x.data + h * dh,
                       lda: internalDim, b: w.data + h * dh * dim, ldb: dim, c: out.data + h * t * dim, ldc: dim)
        }
        return out
    }
}

extension TwoWayTransformer {
    /// The inference pass of every prompt, one at a time (memory stays at one prompt's tensors):
    /// image [B, D, h, w] (prompt n on image n / (N / B)), imagePE [1, D, h, w], dense [N, D, h, w],
    /// tokens [N, T, D]. Calls `body(n, queries rows outputRows [R, D], image tokens [HW, D])` per prompt.
    /// Prompts of one image whose dense embeddings are equal (no mask prompt) share its image side.
    func forEachPrompt(image: Tensor, imagePE: Tensor, dense: Tensor, tokens: Tensor, outputRows: Range<Int>,
                       _ body: (Int, Tensor, Tensor) -> Void) {
        let n = tokens.shape[0], t = tokens.shape[1], dim = tokens.shape[2]
        let (d, h, w) = (image.shape[1], image.shape[2], image.shape[3])
        let hw = h * w, perImage = n / image.shape[0]
        let pe = imagePE.reshaped([d, hw]).transposed()
        let denseCount = d * hw
        func sameDense(_ i: Int, _ j: Int) -> Bool {
            memcmp(dense.data + i * denseCount, dense.data + j * denseCount, denseCount * MemoryLayout<Float>.stride) == 0
        }
        var side: ImageSide? = nil, shared = false
        for i in 0..<n {
            let img = i / perImage, first = img * perImage
            if i == first { shared = (first + 1..<first + perImage).allSatisfy { sameDense($0, first) } }
            if i == first || !shared {
                let src = (image.narrowed(0, start: img, length: 1) + dense.narrowed(0, start: i, length: 1))
                    .reshaped([d, hw]).transposed()
                side = imageSide(src: src, pe: pe, project: shared && perImage >= 3)
            }
            let tok = tokens.narrowed(0, start: i, length: 1).reshaped([t, dim])
            let (queries, keys) = inference(side: side!, pe: pe, tokens: tok, outputRows: outputRows)
            body(i, queries, keys)
        }
    }
}

extension UpsamplingStack {
    /// Inference on image tokens [HW, in] of an h x w grid -> [16·HW, out] in sub-pixel order: row
    /// `(p·4 + s1)·4 + s2` is output pixel (4y + 2·ky1 + ky2, 4x + 2·kx1 + kx2) of grid point p = y·w + x, with
    /// s = ky·2 + kx. Both stride-2 2x2 transposed convolutions are then per-pixel GEMMs with the bias folded in
    /// (no transposes, no col2im) and LayerNorm2d a LayerNorm over contiguous rows. `rasterized` restores NCHW.
    func subPixelForward(_ tokens: Tensor) -> Tensor {
        let mid = conv1.weight.shape[1], out = conv2.weight.shape[1]
        precondition(conv1.stride == 2 && conv1.weight.shape[2] == 2 && conv1.padding == 0
                     && conv2.stride == 2 && conv2.weight.shape[2] == 2 && conv2.padding == 0,
                     "sub-pixel upscaling needs 2x2 stride-2 transposed convolutions")
        var y = tokens.linear(weight: Self.perPixelWeight(conv1.weight), bias: conv1.bias.map(Self.perPixelBias))
        y = y.reshaped([y.count / mid, mid]).layerNorm(weight: norm.weight, bias: norm.bias, eps: norm.eps).gelu()
        y = y.linear(weight: Self.perPixelWeight(conv2.weight), bias: conv2.bias.map(Self.perPixelBias))
        y = y.reshaped([y.count / out, out])
        return finalGELU ? y.gelu() : y
    }

    /// ConvTranspose2d weight [in, out, 2, 2] -> Linear weight [(ky, kx, out), in].
    static func perPixelWeight(_ w: Tensor) -> Tensor {
        w.permuted([2, 3, 1, 0]).reshaped([w.shape[1] * w.shape[2] * w.shape[3], w.shape[0]])
    }

    /// Bias [out] -> [(ky, kx, out)].
    static func perPixelBias(_ b: Tensor) -> Tensor { Tensor.concat([b, b, b, b], dim: 0) }

    /// Sub-pixel rows [16·h·w, C] (see `subPixelForward`) -> NCHW [1, C, 4h, 4w].
    static func rasterized(_ x: Tensor, h: Int, w: Int) -> Tensor {
        let c = x.shape[1], side = 4 * w, plane = 16 * h * w
        let out = Tensor(zeros: [1, c, 4 * h, 4 * w], zeroed: false)
        let src = x.data, dst = out.data
        Parallel.forRange(h, costPerItem: 16 * w * c) { rows in
            for y in rows { for xx in 0..<w { for s1 in 0..<4 { for s2 in 0..<4 {
                let row = ((y * w + xx) * 4 + s1) * 4 + s2
                let oy = 4 * y + 2 * (s1 / 2) + s2 / 2, ox = 4 * xx + 2 * (s1 % 2) + s2 % 2
                let from = src + row * c, to = dst + oy * side + ox
                for ch in 0..<c { to[ch * plane] = from[ch] }
            } } } }
        }
        return out
    }
}
