import Foundation

/// A pixel rectangle. Which convention the maxima follow (inclusive last index, or exclusive last index + 1) is
/// stated by the function that returns it.
public struct PixelBox: Sendable, Equatable, Hashable {
    public var x0: Int
    public var y0: Int
    public var x1: Int
    public var y1: Int
    public init(x0: Int, y0: Int, x1: Int, y1: Int) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }
}

/// A 2-D binary mask: `values[y * width + x]` is 0 or 1, row 0 at the top.
public struct BinaryMask: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height` values, each 0 or 1.
    public var values: [UInt8]

    /// Creates a mask; any non-zero input value counts as foreground.
    public init(width: Int, height: Int, values: [UInt8]) throws(MedImageError) {
        guard width > 0, height > 0, values.count == width * height else {
            throw MedImageError(file: "<mask>", kind: .invalidArgument,
                                "mask of \(values.count) values does not match \(width)x\(height)")
        }
        self.width = width
        self.height = height
        self.values = values.map { $0 != 0 ? 1 : 0 }
    }

    /// Foreground where channel 0 of `image` is `> threshold` (0/255 PNG masks: threshold 0 or 127).
    public init(_ image: Image2D, threshold: Float = 0) {
        width = image.width
        height = image.height
        var v = [UInt8](repeating: 0, count: image.width * image.height)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<v.count where p[i * image.channels] > threshold { v[i] = 1 }
        }
        values = v
    }

    /// Foreground where `labels == label` (one structure of a label map).
    public init(labels: Image2D, equalTo label: Float) {
        width = labels.width
        height = labels.height
        var v = [UInt8](repeating: 0, count: labels.width * labels.height)
        labels.pixels.withUnsafeBufferPointer { p in
            for i in 0..<v.count where p[i * labels.channels] == label { v[i] = 1 }
        }
        values = v
    }

    /// Number of foreground pixels.
    public var area: Int { values.reduce(0) { $0 + Int($1) } }

    /// Tight box of all foreground pixels with **inclusive** maxima (`x1`, `y1` = last foreground column/row,
    /// as `xs.max()` in IMIS / LiteMedSAM); nil for an empty mask.
    public var boundingBox: PixelBox? {
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        values.withUnsafeBufferPointer { p in
            for y in 0..<height {
                for x in 0..<width where p[y * width + x] != 0 {
                    if x < minX { minX = x }
                    if x > maxX { maxX = x }
                    if y < minY { minY = y }
                    if y > maxY { maxY = y }
                }
            }
        }
        return maxX < 0 ? nil : PixelBox(x0: minX, y0: minY, x1: maxX, y1: maxY)
    }

    /// The mask as a one-channel image of 0 and `foreground` (255 for a viewable PNG).
    public func image(foreground: Float = 255) -> Image2D {
        Image2D(unchecked: width, height, 1, values.map { $0 != 0 ? foreground : 0 })
    }

    /// Writes the mask as an 8-bit grey PNG with values 0 and 255 (atomically).
    public func writePNG(to url: URL) throws(MedImageError) {
        try PNGCodec.writeGrey8(values.map { $0 != 0 ? 255 : 0 }, width: width, height: height, to: url)
    }
}

/// Label maps (integer class ids per pixel) as PNG.
public enum LabelMapPNG {
    /// Writes `labels` (one channel, integer values >= 0) as an 8-bit grey PNG when every label is <= 255, else
    /// as 16-bit grey (labels up to 65535); values are stored exactly, not scaled for display.
    public static func write(_ labels: Image2D, to url: URL) throws(MedImageError) {
        let name = MedImageError.label(for: url)
        guard labels.channels == 1 else {
            throw MedImageError(file: name, kind: .invalidArgument, "label map must have one channel")
        }
        var maxLabel: Float = 0
        for v in labels.pixels {
            guard v >= 0, v <= 65535, v == v.rounded() else {
                throw MedImageError(file: name, kind: .invalidArgument, "label value \(v) is not an integer in 0...65535")
            }
            maxLabel = max(maxLabel, v)
        }
        if maxLabel <= 255 {
            try PNGCodec.writeGrey8(labels.pixels.map { UInt8($0) }, width: labels.width, height: labels.height, to: url)
        } else {
            try PNGCodec.writeGrey16(labels.pixels.map { UInt16($0) }, width: labels.width, height: labels.height, to: url)
        }
    }
}
