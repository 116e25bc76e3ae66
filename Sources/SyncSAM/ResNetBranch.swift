import SyncNN
import SyncTensor

/// A torchvision residual block: `BasicBlock` (two 3x3 convs) or `Bottleneck` v1.5 (1x1, 3x3 with the stride,
/// 1x1 ×4), each conv followed by BatchNorm, ReLU after the residual sum (SPEC 5.2).
/// Port of `BasicBlock` and `Bottleneck` in `torchvision/models/resnet.py` (pytorch/vision).
public final class ResidualBlock {
    public let convs: [Conv2d]
    public let norms: [BatchNorm2d]
    /// `downsample.0` (1x1 conv with the stride) and `downsample.1` (BN) when shape changes.
    public let downsample: (conv: Conv2d, norm: BatchNorm2d)?

    /// - Parameters: inChannels: block input; planes: base width; stride: 1 or 2.
    public init(_ vb: VarBuilder, block: ResNetConfig.Block, inChannels: Int, planes: Int, stride: Int) {
        let out = planes * block.expansion
        // (in, out, kernel, stride) per conv, registered conv_i then bn_i as torchvision's state dict orders them.
        let specs: [(Int, Int, Int, Int)] = block == .basic
            ? [(inChannels, planes, 3, stride), (planes, planes, 3, 1)]
            : [(inChannels, planes, 1, 1), (planes, planes, 3, stride), (planes, out, 1, 1)]
        var convs: [Conv2d] = [], norms: [BatchNorm2d] = []
        for (i, s) in specs.enumerated() {
            convs.append(Conv2d(vb["conv\(i + 1)"], inChannels: s.0, outChannels: s.1, kernelSize: s.2, stride: s.3,
                                padding: s.2 / 2, bias: false))
            norms.append(BatchNorm2d(vb["bn\(i + 1)"], channels: s.1))
        }
        self.convs = convs
        self.norms = norms
        if stride != 1 || inChannels != out {
            downsample = (Conv2d(vb["downsample"][0], inChannels: inChannels, outChannels: out, kernelSize: 1,
                                 stride: stride, bias: false),
                          BatchNorm2d(vb["downsample"][1], channels: out))
        } else {
            downsample = nil
        }
    }

    /// x [B, C_in, H, W] -> [B, C_out, H / stride, W / stride].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y = x
        for i in convs.indices {
            y = norms[i](convs[i](y))
            if i < convs.count - 1 { y = y.relu() }
        }
        let identity = downsample.map { $0.norm($0.conv(x)) } ?? x
        return (y + identity).relu()
    }
}

/// torchvision ResNet without `avgpool` / `fc` (SPEC 5.2): stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool) and
/// layer1...layer4 (strides 1, 2, 2, 2). Parameter names are torchvision's (`conv1`, `bn1`, `layerL.b.*`).
/// Port of `ResNet` in `torchvision/models/resnet.py`, as `ResNetTrunk` in `reference/syncsam_ref.py`.
public final class ResNetTrunk {
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    /// layer1...layer4, each a list of blocks.
    public let layers: [[ResidualBlock]]
    public let config: ResNetConfig

    public init(_ vb: VarBuilder, config: ResNetConfig) {
        self.config = config
        let stem = config.widths[0]
        conv1 = Conv2d(vb["conv1"], inChannels: 3, outChannels: stem, kernelSize: 7, stride: 2, padding: 3, bias: false)
        bn1 = BatchNorm2d(vb["bn1"], channels: stem)
        var inChannels = stem
        var built: [[ResidualBlock]] = []
        for (l, (count, planes)) in zip(config.layers, config.widths).enumerated() {
            var blocks: [ResidualBlock] = []
            for b in 0..<count {
                blocks.append(ResidualBlock(vb["layer\(l + 1)"][b], block: config.block, inChannels: inChannels,
                                            planes: planes, stride: b == 0 && l > 0 ? 2 : 1))
                inChannels = planes * config.block.expansion
            }
            built.append(blocks)
        }
        layers = built
    }

    /// images [B, 3, S, S] -> [B, widths[0], S/4, S/4].
    public func stem(_ x: Tensor) -> Tensor {
        bn1(conv1(x)).relu().maxPool2d(kernel: 3, stride: 2, padding: 1)
    }

    /// Layer `index` (0-based): [B, C, H, W] -> [B, C_index, H', W'].
    public func layer(_ index: Int, _ x: Tensor) -> Tensor {
        layers[index].reduce(x) { $1($0) }
    }
}
