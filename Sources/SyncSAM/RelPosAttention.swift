import Foundation
import SyncNN
import SyncTensor

/// Multi-head self-attention over a BHWC grid with SAM's decomposed relative positions (SPEC 1.4).
/// Port of `Attention` and `add_decomposed_rel_pos` in `segment_anything/modeling/image_encoder.py`.
///
/// Parameters: `qkv` Linear C -> 3C (rows [q · k · v], head h = rows h·d ..< (h+1)·d inside each), `proj` C -> C,
/// `rel_pos_h`, `rel_pos_w` [2·S − 1, d] for the grid side S it was built for (window or global grid); other
/// sizes are served by linear interpolation of the tables (`RelativePosition.gathered`).
public final class RelPosAttention {
    public let qkv: Linear
    public let proj: Linear
    public let relPosH: Tensor
    public let relPosW: Tensor
    public let numHeads: Int
    public let headDim: Int
    public let scale: Float

    /// - Parameters:
    ///   - dim: channels C. - numHeads: heads (C / heads = head dim).
    ///   - inputSize: grid side the relative tables are sized for (window side, or the token grid for global blocks).
    public init(_ vb: VarBuilder, dim: Int, numHeads: Int, inputSize: Int) {
        self.numHeads = numHeads
        headDim = dim / numHeads
        scale = 1 / Float(headDim).squareRoot()
        qkv = Linear(vb["qkv"], inFeatures: dim, outFeatures: 3 * dim)
        proj = Linear(vb["proj"], inFeatures: dim, outFeatures: dim)
        relPosH = vb.parameter("rel_pos_h", [2 * inputSize - 1, headDim], .zeros)
        relPosW = vb.parameter("rel_pos_w", [2 * inputSize - 1, headDim], .zeros)
    }

    /// x [B, H, W, C] -> [B, H, W, C]. Uses a fused kernel when no tape is recorded, composable ops otherwise.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (h, w) = (x.shape[1], x.shape[2])
        let (rh, rw) = tables(h, w)
        let qkvOut = qkv(x)
        let heads = needsTape(qkvOut, rh, rw) ? tapedAttention(qkvOut, rh: rh, rw: rw, shape: x.shape)
                                              : fusedAttention(qkvOut, rh: rh, rw: rw, shape: x.shape)
        return proj(heads)
    }

    /// Windowed attention over a BHWC grid (SPEC 1.5) without materialising the padding as tokens:
    /// x [B, H, W, C] (after norm1) -> [B, H, W, C]. Padded tokens are zero after norm1, so their q/k/v are the
    /// qkv biases; they stay in every softmax as keys/values, but only real tokens go through `qkv` and `proj`, and
    /// query rows made of padding only are skipped. Exactly equal to partition -> attention -> unpartition.
    public func windowed(_ x: Tensor, window: Int) -> Tensor {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let parameters = [qkv.weight, relPosH, relPosW] + (qkv.bias.map { [$0] } ?? [])
        if GradMode.isEnabled && (x.requiresGrad || parameters.contains { $0.requiresGrad }) {
            let windows = self(WindowPartition.partition(x, window: window))
            return WindowPartition.unpartition(windows, window: window, height: h, width: w)
        }
        let (rh, rw) = tables(window, window)
        let qkvOut = qkv(x)
        let nh = WindowPartition.paddedSize(h, window: window) / window
        let nw = WindowPartition.paddedSize(w, window: window) / window
        let ld = 3 * c, count = b * nh * nw
        // Windows of qkv rows: real tokens copied, padding filled with the qkv bias (q/k/v of a zero token).
        let windows = Tensor(zeros: [count, window, window, ld], zeroed: false)
        let bias = qkv.bias.map { UnsafePointer($0.data) }
        let src = qkvOut.data, dst = windows.data
        var rows = [Int](repeating: 0, count: count)
        for img in 0..<b { for wy in 0..<nh { for wx in 0..<nw {
            let item = (img * nh + wy) * nw + wx
            rows[item] = min(window, h - wy * window)
            for r in 0..<window { for col in 0..<window {
                let y = wy * window + r, xx = wx * window + col
                let to = dst + ((item * window + r) * window + col) * ld
                if y < h && xx < w { to.update(from: src + ((img * h + y) * w + xx) * ld, count: ld) }
                else if let bias { to.update(from: bias, count: ld) }
                else { to.update(repeating: 0, count: ld) }
            } }
        } } }
        let heads = fusedAttention(windows, rh: rh, rw: rw, shape: [count, window, window, c], queryRows: rows)
        return proj(WindowPartition.unpartition(heads, window: window, height: h, width: w))
    }

    /// Relative-position tables for an h x w grid: [h, h, d] and [w, w, d].
    func tables(_ h: Int, _ w: Int) -> (Tensor, Tensor) {
        (RelativePosition.gathered(querySize: h, keySize: h, table: relPosH),
         RelativePosition.gathered(querySize: w, keySize: w, table: relPosW))
    }

    /// True when the attention must be recorded on the tape.
    func needsTape(_ qkvOut: Tensor, _ rh: Tensor, _ rw: Tensor) -> Bool {
        GradMode.isEnabled && (qkvOut.requiresGrad || rh.requiresGrad || rw.requiresGrad)
    }

    /// Composable (differentiable) path. qkv [B, H, W, 3C] -> attention output [B, H, W, C] before `proj`.
    func tapedAttention(_ qkvOut: Tensor, rh: Tensor, rw: Tensor, shape: [Int]) -> Tensor {
        let (b, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let bn = b * numHeads, hw = h * w, d = headDim
        let parts = qkvOut.reshaped([b, hw, 3, numHeads, d]).permuted([2, 0, 3, 1, 4]).reshaped([3, bn, hw, d])
        let q = parts.selected(0, 0), k = parts.selected(0, 1), v = parts.selected(0, 2)
        let scores = (q * scale).matmul(k, transposeOther: true)
        let grid = q.reshaped([bn, h, w, d])
        // rel_h[b, qh, qw, kh] = sum_c q[b, qh, qw, c] Rh[qh, kh, c]: one GEMM per query row qh.
        let relH = grid.permuted([1, 0, 2, 3]).reshaped([h, bn * w, d]).matmul(rh, transposeOther: true)
            .reshaped([h, bn, w, h]).permuted([1, 0, 2, 3])
        // rel_w[b, qh, qw, kw] = sum_c q[b, qh, qw, c] Rw[qw, kw, c]: one GEMM per query column qw.
        let relW = grid.permuted([2, 0, 1, 3]).reshaped([w, bn * h, d]).matmul(rw, transposeOther: true)
            .reshaped([w, bn, h, w]).permuted([1, 2, 0, 3])
        let biased = scores.reshaped([bn, h, w, h, w]) + relH.reshaped([bn, h, w, h, 1])
            + relW.reshaped([bn, h, w, 1, w])
        let probs = biased.reshaped([bn, hw, hw]).softmax()
        return probs.matmul(v).reshaped([b, numHeads, h, w, d]).permuted([0, 2, 3, 1, 4]).reshaped([b, h, w, c])
    }

    /// Inference path: per (image, head) one score GEMM read straight from the interleaved qkv rows, the relative
    /// terms from 2·S small GEMMs added by a tight loop, softmax in place, one GEMM with v written into the
    /// head's columns. No permute copies, no tape. qkv [B, H, W, 3C] -> [B, H, W, C]. With `queryRows`, only the
    /// first `queryRows[b]` grid rows of queries of item b are computed (the rest of the output is zero).
    func fusedAttention(_ qkvOut: Tensor, rh: Tensor, rw: Tensor, shape: [Int], queryRows: [Int]? = nil) -> Tensor {
        let (b, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let hw = h * w, d = headDim, heads = numHeads, ld = 3 * c
        let out = Tensor(zeros: [b, h, w, c], zeroed: queryRows != nil)
        let src = UncheckedSendableBox(UnsafePointer(qkvOut.data))
        let dst = UncheckedSendableBox(out.data)
        let tabH = UncheckedSendableBox(UnsafePointer(rh.data)), tabW = UncheckedSendableBox(UnsafePointer(rw.data))
        let scale = self.scale
        Parallel.forRange(b * heads, costPerItem: hw * hw * d * 2) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: hw * hw)
            let relH = UnsafeMutablePointer<Float>.allocate(capacity: hw * h)
            let relW = UnsafeMutablePointer<Float>.allocate(capacity: hw * w)
            defer { scores.deallocate(); relH.deallocate(); relW.deallocate() }
            for item in range {
                let img = item / heads, head = item % heads
                let qRows = queryRows?[img] ?? h, m = qRows * w
                let q = src.value + img * hw * ld + head * d
                let k = q + c, v = q + 2 * c
                BLAS.sgemm(transA: false, transB: true, m: m, n: hw, k: d, alpha: scale, a: q, lda: ld,
                           b: k, ldb: ld, c: scores, ldc: hw)
                // relH [H, W, Hk]: for query row qh, rows qh·W ..< (qh+1)·W of q times Rh[qh]^T.
                for qh in 0..<qRows {
                    BLAS.sgemm(transA: false, transB: true, m: w, n: h, k: d, a: q + qh * w * ld, lda: ld,
                               b: tabH.value + qh * h * d, ldb: d, c: relH + qh * w * h, ldc: h)
                }
                // relW [H, W, Wk]: for query column qw, rows qh·W + qw (stride W rows) times Rw[qw]^T.
                for qw in 0..<w {
                    BLAS.sgemm(transA: false, transB: true, m: qRows, n: w, k: d, a: q + qw * ld, lda: w * ld,
                               b: tabW.value + qw * w * d, ldb: d, c: relW + qw * w, ldc: w * w)
                }
                for t in 0..<m {
                    let row = scores + t * hw, rH = relH + t * h, rW = relW + t * w
                    for kh in 0..<h {
                        let a = rH[kh], seg = row + kh * w
                        for kw in 0..<w { seg[kw] += a + rW[kw] }
                    }
                    AttentionKernels.softmaxRow(row, count: hw)
                }
                BLAS.sgemm(transA: false, transB: false, m: m, n: d, k: hw, a: scores, lda: hw, b: v, ldb: ld,
                           c: dst.value + img * hw * c + head * d, ldc: c)
            }
        }
        return out
    }
}

/// Small inference kernels shared by the attention layers.
enum AttentionKernels {
    /// In-place max-subtracted softmax of one row.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for j in 0..<n where row[j] > m { m = row[j] }
        var s: Float = 0
        for j in 0..<n { let e = expf(row[j] - m); row[j] = e; s += e }
        let inv = 1 / s
        for j in 0..<n { row[j] *= inv }
    }
}
