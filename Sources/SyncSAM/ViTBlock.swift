import SyncNN
import SyncTensor

/// SAM's `MLPBlock` (`lin1`, activation, `lin2`), used by the ViT blocks (GELU) and the two-way transformer (ReLU).
/// Port of `MLPBlock` in `segment_anything/modeling/common.py`.
public final class MLPBlock {
    public enum Activation: Sendable { case gelu, relu }
    public let lin1: Linear
    public let lin2: Linear
    public let activation: Activation

    public init(_ vb: VarBuilder, embeddingDim: Int, mlpDim: Int, activation: Activation) {
        lin1 = Linear(vb["lin1"], inFeatures: embeddingDim, outFeatures: mlpDim)
        lin2 = Linear(vb["lin2"], inFeatures: mlpDim, outFeatures: embeddingDim)
        self.activation = activation
    }

    /// x [..., D] -> [..., D].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let hidden = lin1(x)
        return lin2(activation == .gelu ? hidden.gelu() : hidden.relu())
    }
}

/// One pre-norm ViT block with windowed or global rel-pos attention (SPEC 1.3, 1.5).
/// Port of `Block` in `segment_anything/modeling/image_encoder.py`.
///
/// Windowed blocks (window > 0) zero-pad the grid after `norm1` to a multiple of the window and attend inside
/// each window; padded tokens are not masked (they take part in every softmax of their window).
public final class ViTBlock {
    public let norm1: LayerNorm
    public let attn: RelPosAttention
    public let norm2: LayerNorm
    public let mlp: MLPBlock
    /// Window side, or 0 for global attention.
    public let windowSize: Int

    /// - Parameters:
    ///   - windowSize: window side for windowed blocks, 0 for a global block.
    ///   - gridSize: token grid side (sizes the global block's relative tables).
    public init(_ vb: VarBuilder, dim: Int, numHeads: Int, mlpDim: Int, windowSize: Int, gridSize: Int) {
        norm1 = LayerNorm(vb["norm1"], dim: dim, eps: 1e-6)
        attn = RelPosAttention(vb["attn"], dim: dim, numHeads: numHeads,
                               inputSize: windowSize > 0 ? windowSize : gridSize)
        norm2 = LayerNorm(vb["norm2"], dim: dim, eps: 1e-6)
        mlp = MLPBlock(vb["mlp"], embeddingDim: dim, mlpDim: mlpDim, activation: .gelu)
        self.windowSize = windowSize
    }

    public var isGlobal: Bool { windowSize == 0 }

    /// x [B, H, W, C] -> [B, H, W, C].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y = norm1(x)
        y = windowSize > 0 ? attn.windowed(y, window: windowSize) : attn(y)
        let x1 = x + y
        return x1 + mlp(norm2(x1))
    }
}
