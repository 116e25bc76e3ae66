import MedImage
import SyncTensor

/// What training, prompt simulation and metrics need on top of MedImage's `BinaryMask` (values 0/1, row-major;
/// prompt coordinates are (x, y) = (column, row)).
extension BinaryMask {
    /// A mask from values whose count is known to match (a programmer error otherwise).
    init(validWidth width: Int, height: Int, values: [UInt8]) {
        do { try self.init(width: width, height: height, values: values) } catch {
            preconditionFailure("\(error)")
        }
    }

    /// An all-background mask.
    public static func empty(width: Int, height: Int) -> BinaryMask {
        BinaryMask(validWidth: width, height: height, values: [UInt8](repeating: 0, count: width * height))
    }

    /// Foreground where `values` (a `[.., H, W]` tensor holding one plane) is above `threshold`
    /// (logits > 0, probabilities > 0.5, 0/1 targets > 0.5).
    public init(plane values: Tensor, threshold: Float) {
        precondition(values.rank >= 2 && values.count == values.shape[values.rank - 2] * values.shape[values.rank - 1],
                     "mask from tensor \(values.shape): needs exactly one plane")
        let src = values.data, n = values.count
        let bytes = [UInt8](unsafeUninitializedCapacity: n) { out, count in
            for i in 0..<n { out[i] = src[i] > threshold ? 1 : 0 }
            count = n
        }
        self.init(validWidth: values.shape[values.rank - 1], height: values.shape[values.rank - 2], values: bytes)
    }

    /// True when no pixel is foreground.
    public var isEmpty: Bool { !values.contains(1) }

    public subscript(y: Int, x: Int) -> Bool { values[y * width + x] != 0 }

    /// The mask as a `[1, 1, H, W]` tensor of 0/1 values.
    public func tensor() -> Tensor { Tensor(shape: [1, 1, height, width], values: values.map { Float($0) }) }

    /// Nearest-neighbour resize (PyTorch `mode="nearest"`: source index floor(dst * in / out)), SPEC 0's rule
    /// for masks.
    public func resizedNearest(width outW: Int, height outH: Int) -> BinaryMask {
        if outW == width && outH == height { return self }
        let ix = (0..<outW).map { min(Int(Float($0) * Float(width) / Float(outW)), width - 1) }
        var out = [UInt8](repeating: 0, count: outW * outH)
        for oy in 0..<outH {
            let sy = min(Int(Float(oy) * Float(height) / Float(outH)), height - 1)
            for ox in 0..<outW { out[oy * outW + ox] = values[sy * width + ix[ox]] }
        }
        return BinaryMask(validWidth: outW, height: outH, values: out)
    }

    /// Zero-pads at the bottom and right to `width x height` (both at least the current size).
    public func paddedBottomRight(width outW: Int, height outH: Int) -> BinaryMask {
        precondition(outW >= width && outH >= height, "pad \(width)x\(height) to \(outW)x\(outH)")
        var out = [UInt8](repeating: 0, count: outW * outH)
        for y in 0..<height { for x in 0..<width { out[y * outW + x] = values[y * width + x] } }
        return BinaryMask(validWidth: outW, height: outH, values: out)
    }
}
