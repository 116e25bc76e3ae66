import Foundation
import SyncNN
import SyncTensor

/// Inference paths of `RelPosAttention` (no tape): the windowed attention that never materialises padded tokens,
/// and the fused per-head attention kernel on BLAS (SPEC 1.4, 1.5).
extension RelPosAttention {
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
                // Head-major items: each worker's contiguous chunk holds every window (windows cut by the padding have
                // few query rows, so window-major chunks left one worker idle for most of the call).
                let img = item % b, head = item / b
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
        let m = VectorMath.max(row, n)
        for j in 0..<n { row[j] = VectorMath.exp(row[j] - m) }
        let inv = 1 / VectorMath.sum(row, n)
        for j in 0..<n { row[j] *= inv }
    }
}
