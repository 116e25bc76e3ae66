import MedImage
import SyncTensor

/// A binary mask: row-major `height x width` bytes, 1 = foreground, 0 = background.
///
/// The unit of training targets, prompt simulation and metrics (SPEC 6.2, 7). Row `y`, column `x` is
/// `pixels[y * width + x]`; prompt coordinates are (x, y) = (column, row).
public struct BinaryMask: Sendable, Equatable, Hashable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    /// A mask from 0/1 bytes (any non-zero byte counts as foreground and is stored as 1).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height,
                     "mask of \(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels.map { $0 == 0 ? 0 : 1 }
    }

    /// An empty (all background) mask.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height)
    }

    /// Foreground where channel 0 of `image` is above `threshold` (mask PNGs hold 0/255; torch-em uses `> 0`).
    public init(image: Image2D, threshold: Float = 0) {
        width = image.width
        height = image.height
        let c = image.channels
        pixels = [UInt8](unsafeUninitializedCapacity: image.width * image.height) { out, n in
            image.pixels.withUnsafeBufferPointer { src in
                for i in 0..<(image.width * image.height) { out[i] = src[i * c] > threshold ? 1 : 0 }
            }
            n = image.width * image.height
        }
    }

    /// Foreground where `values` (a `[.., H, W]` tensor holding one plane) is above `threshold`
    /// (logits > 0, probabilities > 0.5, 0/1 targets > 0.5).
    public init(plane values: Tensor, threshold: Float) {
        precondition(values.rank >= 2 && values.count == values.shape[values.rank - 2] * values.shape[values.rank - 1],
                     "mask from tensor \(values.shape): needs exactly one plane")
        height = values.shape[values.rank - 2]
        width = values.shape[values.rank - 1]
        let src = values.data
        pixels = [UInt8](unsafeUninitializedCapacity: values.count) { out, n in
            for i in 0..<values.count { out[i] = src[i] > threshold ? 1 : 0 }
            n = values.count
        }
    }

    @inlinable public subscript(y: Int, x: Int) -> Bool { pixels[y * width + x] != 0 }

    /// Number of foreground pixels.
    public var foregroundCount: Int { pixels.reduce(0) { $0 + Int($1) } }

    public var isEmpty: Bool { !pixels.contains(1) }

    /// The mask as a `[1, 1, H, W]` tensor of 0/1 values.
    public func tensor() -> Tensor {
        Tensor(shape: [1, 1, height, width], values: pixels.map { Float($0) })
    }

    /// Nearest-neighbour resize (PyTorch `mode="nearest"`: source index floor(dst * in / out)), the rule of
    /// SPEC 0 for masks.
    public func resizedNearest(width outW: Int, height outH: Int) -> BinaryMask {
        if outW == width && outH == height { return self }
        let ix = (0..<outW).map { min(Int(Float($0) * Float(width) / Float(outW)), width - 1) }
        var out = [UInt8](repeating: 0, count: outW * outH)
        for oy in 0..<outH {
            let sy = min(Int(Float(oy) * Float(height) / Float(outH)), height - 1)
            for ox in 0..<outW { out[oy * outW + ox] = pixels[sy * width + ix[ox]] }
        }
        return BinaryMask(width: outW, height: outH, pixels: out)
    }

    /// Zero-pads at the bottom and right to `width x height` (both at least the current size).
    public func paddedBottomRight(width outW: Int, height outH: Int) -> BinaryMask {
        precondition(outW >= width && outH >= height, "pad \(width)x\(height) to \(outW)x\(outH)")
        var out = [UInt8](repeating: 0, count: outW * outH)
        for y in 0..<height { for x in 0..<width { out[y * outW + x] = pixels[y * width + x] } }
        return BinaryMask(width: outW, height: outH, pixels: out)
    }

    /// The top-left `width x height` window (undoes `paddedBottomRight`).
    public func cropped(width outW: Int, height outH: Int) -> BinaryMask {
        precondition(outW <= width && outH <= height, "crop \(width)x\(height) to \(outW)x\(outH)")
        var out = [UInt8](repeating: 0, count: outW * outH)
        for y in 0..<outH { for x in 0..<outW { out[y * outW + x] = pixels[y * width + x] } }
        return BinaryMask(width: outW, height: outH, pixels: out)
    }
}

/// An axis-aligned pixel box with exclusive maxima (skimage `regionprops.bbox` convention): columns
/// `x0 ..< x1`, rows `y0 ..< y1`.
public struct PixelBox: Sendable, Equatable, Hashable, Codable {
    public var x0: Int, y0: Int, x1: Int, y1: Int
    public init(x0: Int, y0: Int, x1: Int, y1: Int) {
        self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1
    }
    public var width: Int { x1 - x0 }
    public var height: Int { y1 - y0 }
}
