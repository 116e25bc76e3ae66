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
}
