import SyncNN
import SyncTensor

/// Inference path of TinyViT's windowed attention (no tape): `x + attn(windows(x))` without materialising the
/// padded grid, the window partition, the per-head q/k/v split or their reverses.
extension TinyViTAttention {
    /// x [B, R, R, C] tokens -> `x + attention` [B, R*R, C], exactly as pad -> partition -> attention -> reverse
    /// -> crop of `TinyViTBlock.windowedAttention` plus the residual. Real tokens go through `norm` and `qkv` in
    /// place; a padded token (zero before `norm`) has the constant qkv row `qkv(norm(0))`. Each worker gathers one
    /// window's qkv rows, runs every head's scores (read at the head's column offset, lda 3C), adds the position
    /// bias, softmaxes in place, multiplies by v into the head's output columns, and scatters the real rows back;
    /// `proj` and the residual then run once over the grid.
    func windowedInference(_ x: Tensor) -> Tensor {
        let (b, r, c) = (x.shape[0], x.shape[1], x.shape[3])
        let ws = window, n = ws * ws, d = keyDim, ld = 3 * c, heads = self.heads
        let nw = (r + ws - 1) / ws, windows = b * nw * nw
        let tokens = x.reshaped([b * r * r, c])
        let qkvOut = qkv(norm(tokens))                                    // [B*R*R, 3C]
        let padRow = qkv(norm(Tensor(zeros: [1, c])))                     // q/k/v of a padded token
        let bias = positionBias()                                         // [heads, N, N]
        let attn = Tensor(zeros: [b * r * r, c], zeroed: false)
        let src = qkvOut.data, pad = padRow.data, biasPtr = bias.data, dst = attn.data
        let scale = 1 / Float(d).squareRoot()
        Parallel.forRange(windows, costPerItem: heads * n * n * d * 4) { range in
            let win = UnsafeMutablePointer<Float>.allocate(capacity: n * ld)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
            let out = UnsafeMutablePointer<Float>.allocate(capacity: n * c)
            defer { win.deallocate(); scores.deallocate(); out.deallocate() }
            for item in range {
                let img = item / (nw * nw), wy = (item / nw) % nw, wx = item % nw
                for p in 0..<n {
                    let y = wy * ws + p / ws, xx = wx * ws + p % ws
                    let from = y < r && xx < r ? src + ((img * r + y) * r + xx) * ld : pad
                    (win + p * ld).update(from: from, count: ld)
                }
                for h in 0..<heads {
                    let q = win + h * 3 * d, k = q + d, v = q + 2 * d
                    (scores).update(from: biasPtr + h * n * n, count: n * n)
                    BLAS.sgemm(transA: false, transB: true, m: n, n: n, k: d, alpha: scale, a: q, lda: ld, b: k, ldb: ld,
                               beta: 1, c: scores, ldc: n)
                    for row in 0..<n { AttentionKernels.softmaxRow(scores + row * n, count: n) }
                    BLAS.sgemm(transA: false, transB: false, m: n, n: d, k: n, a: scores, lda: n, b: v, ldb: ld,
                               c: out + h * d, ldc: c)
                }
                for p in 0..<n {
                    let y = wy * ws + p / ws, xx = wx * ws + p % ws
                    if y < r && xx < r { (dst + ((img * r + y) * r + xx) * c).update(from: out + p * c, count: c) }
                }
            }
        }
        return tokens + proj(attn)
    }
}
