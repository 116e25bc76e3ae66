import SyncTensor

/// `nn.Linear`: weight [out, in], bias [out]. Input [..., in] -> [..., out].
public final class Linear {
    public let weight: Tensor
    public let bias: Tensor?
    public init(_ vb: VarBuilder, inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        weight = vb.parameter("weight", [outFeatures, inFeatures], .uniformFanIn(inFeatures))
        self.bias = bias ? vb.parameter("bias", [outFeatures], .uniformFanIn(inFeatures)) : nil
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight: weight, bias: bias) }
}

/// `nn.Conv2d` (no groups/dilation): weight [O, C, k, k], bias [O]. Input [N, C, H, W].
public final class Conv2d {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int
    public init(_ vb: VarBuilder, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Int = 0, bias: Bool = true) {
        let fan = inChannels * kernelSize * kernelSize
        weight = vb.parameter("weight", [outChannels, inChannels, kernelSize, kernelSize], .uniformFanIn(fan))
        self.bias = bias ? vb.parameter("bias", [outChannels], .uniformFanIn(fan)) : nil
        self.stride = stride
        self.padding = padding
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding) }
}

/// `nn.ConvTranspose2d`: weight [C_in, C_out, k, k] (PyTorch layout), bias [C_out].
public final class ConvTranspose2d {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int
    public init(_ vb: VarBuilder, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int = 0, bias: Bool = true) {
        let fan = outChannels * kernelSize * kernelSize
        weight = vb.parameter("weight", [inChannels, outChannels, kernelSize, kernelSize], .uniformFanIn(fan))
        self.bias = bias ? vb.parameter("bias", [outChannels], .uniformFanIn(fan)) : nil
        self.stride = stride
        self.padding = padding
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.convTranspose2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// `nn.LayerNorm(C)` over the last dimension.
public final class LayerNorm {
    public let weight: Tensor, bias: Tensor
    public let eps: Float
    public init(_ vb: VarBuilder, dim: Int, eps: Float = 1e-5) {
        weight = vb.parameter("weight", [dim], .ones)
        bias = vb.parameter("bias", [dim], .zeros)
        self.eps = eps
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, eps: eps) }
}

/// SAM's `LayerNorm2d` (SPEC 1.7): normalises NCHW across channels at every pixel, eps 1e-6.
public final class LayerNorm2d {
    public let weight: Tensor, bias: Tensor
    public let eps: Float
    public init(_ vb: VarBuilder, channels: Int, eps: Float = 1e-6) {
        weight = vb.parameter("weight", [channels], .ones)
        bias = vb.parameter("bias", [channels], .zeros)
        self.eps = eps
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm2d(weight: weight, bias: bias, eps: eps) }
}

/// `nn.BatchNorm2d` with running statistics as buffers (`running_mean`, `running_var`, `num_batches_tracked`).
/// Uses batch statistics when the store is in training mode (momentum 0.1, unbiased running variance).
public final class BatchNorm2d {
    public let weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVar: Tensor, numBatchesTracked: Tensor
    public let eps: Float, momentum: Float
    let store: ParameterStore
    public init(_ vb: VarBuilder, channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        weight = vb.parameter("weight", [channels], .ones)
        bias = vb.parameter("bias", [channels], .zeros)
        runningMean = vb.buffer("running_mean", [channels], .zeros)
        runningVar = vb.buffer("running_var", [channels], .ones)
        numBatchesTracked = vb.buffer("num_batches_tracked", [], .zeros)
        self.eps = eps
        self.momentum = momentum
        store = vb.store
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let training = store.training
        if training { numBatchesTracked.data[0] += 1 }
        return x.batchNorm2d(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                             training: training, momentum: momentum, eps: eps)
    }
}

/// `nn.Embedding`: weight [num, dim]; rows looked up by index.
public final class Embedding {
    public let weight: Tensor
    public init(_ vb: VarBuilder, count: Int, dim: Int) { weight = vb.parameter("weight", [count, dim], .normal(std: 1)) }
    public func callAsFunction(_ indices: [Int]) -> Tensor { weight.indexSelect(indices) }
}

/// SAM's `MLP` (`layers.{0..n-1}` Linear with ReLU between, optional sigmoid output), used by the
/// hypernetworks, the IoU head and the Med-Output token MLP.
public final class MLP {
    public let layers: [Linear]
    public let sigmoidOutput: Bool
    public init(_ vb: VarBuilder, inputDim: Int, hiddenDim: Int, outputDim: Int, numLayers: Int, sigmoidOutput: Bool = false) {
        let dims = [inputDim] + Array(repeating: hiddenDim, count: numLayers - 1) + [outputDim]
        layers = (0..<numLayers).map { Linear(vb["layers"][$0], inFeatures: dims[$0], outFeatures: dims[$0 + 1]) }
        self.sigmoidOutput = sigmoidOutput
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (i, l) in layers.enumerated() {
            h = l(h)
            if i < layers.count - 1 { h = h.relu() }
        }
        return sigmoidOutput ? h.sigmoid() : h
    }
}
