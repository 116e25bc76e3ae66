import Foundation

/// An 8-bit RGB colour.
public struct RGB8: Sendable, Equatable, Hashable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    public static let green = RGB8(0, 255, 0)
    public static let red = RGB8(255, 0, 0)
    /// Distinct colours for successive masks.
    public static let palette: [RGB8] = [
        RGB8(30, 144, 255), RGB8(255, 165, 0), RGB8(50, 205, 50), RGB8(220, 20, 60), RGB8(148, 103, 189),
        RGB8(255, 215, 0), RGB8(0, 206, 209), RGB8(255, 105, 180), RGB8(139, 69, 19), RGB8(128, 128, 0),
    ]
}

/// A point prompt in pixel coordinates (x = column, y = row).
public struct PointPrompt: Sendable, Equatable {
    public var x: Double
    public var y: Double
    /// true = foreground (drawn green), false = background (drawn red).
    public var positive: Bool
    public init(x: Double, y: Double, positive: Bool) {
        self.x = x
        self.y = y
        self.positive = positive
    }
}

/// Renders segmentation results over an image for viewing.
public enum Overlay {
    /// Draws translucent masks with 1-pixel outlines, box prompts as rectangles and point prompts as small filled
    /// circles (green positive, red negative) over `image`.
    /// - Parameters:
    ///   - image: display values 0...255 (grey or RGB; window medical data first).
    ///   - masks: masks of the image's size with their colours (`RGB8.palette` when nil).
    ///   - alpha: mask fill opacity in 0...1; outlines (mask pixels with a 4-neighbour outside the mask) are opaque.
    ///   - boxes: rectangles with inclusive corners `(x0, y0)`-`(x1, y1)`, drawn in yellow unless `boxColour`.
    ///   - pointRadius: circle radius in pixels.
    /// - Returns: interleaved RGB bytes, `width * height * 3`.
    public static func render(_ image: Image2D, masks: [(mask: BinaryMask, colour: RGB8?)] = [], alpha: Float = 0.45,
                              boxes: [PixelBox] = [], points: [PointPrompt] = [], boxColour: RGB8 = RGB8(255, 255, 0),
                              pointRadius: Int = 3) throws(MedImageError) -> [UInt8]
    {
        let w = image.width, h = image.height
        for m in masks where m.mask.width != w || m.mask.height != h {
            throw MedImageError(file: "<overlay>", kind: .invalidArgument,
                                "mask \(m.mask.width)x\(m.mask.height) does not match image \(w)x\(h)")
        }
        var rgb = [Float](repeating: 0, count: w * h * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for i in 0..<(w * h) {
                for c in 0..<3 {
                    let v = src[i * image.channels + (image.channels == 3 ? c : 0)]
                    rgb[i * 3 + c] = min(max(v, 0), 255)
                }
            }
        }
        let a = min(max(alpha, 0), 1)
        for (index, item) in masks.enumerated() {
            let colour = item.colour ?? RGB8.palette[index % RGB8.palette.count]
            let col: [Float] = [Float(colour.r), Float(colour.g), Float(colour.b)]
            item.mask.values.withUnsafeBufferPointer { m in
                rgb.withUnsafeMutableBufferPointer { out in
                    for y in 0..<h {
                        for x in 0..<w where m[y * w + x] != 0 {
                            let edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || m[y * w + x - 1] == 0
                                || m[y * w + x + 1] == 0 || m[(y - 1) * w + x] == 0 || m[(y + 1) * w + x] == 0
                            let i = (y * w + x) * 3
                            for c in 0..<3 { out[i + c] = edge ? col[c] : out[i + c] * (1 - a) + col[c] * a }
                        }
                    }
                }
            }
        }
        func put(_ x: Int, _ y: Int, _ colour: RGB8) {
            guard x >= 0, y >= 0, x < w, y < h else { return }
            let i = (y * w + x) * 3
            rgb[i] = Float(colour.r)
            rgb[i + 1] = Float(colour.g)
            rgb[i + 2] = Float(colour.b)
        }
        for b in boxes {
            let (x0, x1) = (min(b.x0, b.x1), max(b.x0, b.x1))
            let (y0, y1) = (min(b.y0, b.y1), max(b.y0, b.y1))
            for x in max(x0, 0)...max(min(x1, w - 1), max(x0, 0)) {
                put(x, y0, boxColour)
                put(x, y1, boxColour)
            }
            for y in max(y0, 0)...max(min(y1, h - 1), max(y0, 0)) {
                put(x0, y, boxColour)
                put(x1, y, boxColour)
            }
        }
        let r = max(pointRadius, 0)
        for p in points {
            let cx = Int(p.x.rounded()), cy = Int(p.y.rounded())
            for dy in -r...r {
                for dx in -r...r where dx * dx + dy * dy <= r * r { put(cx + dx, cy + dy, p.positive ? .green : .red) }
            }
        }
        return rgb.map { UInt8($0.rounded()) }
    }

    /// Renders (see `render`) and writes an RGB PNG atomically.
    public static func write(_ image: Image2D, masks: [(mask: BinaryMask, colour: RGB8?)] = [], alpha: Float = 0.45,
                             boxes: [PixelBox] = [], points: [PointPrompt] = [], to url: URL) throws(MedImageError)
    {
        let bytes = try render(image, masks: masks, alpha: alpha, boxes: boxes, points: points)
        try PNGCodec.writeRGB8(bytes, width: image.width, height: image.height, to: url)
    }
}
