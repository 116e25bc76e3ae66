/// Physical size of one pixel in millimetres. `x` is the distance between neighbouring columns, `y` the distance
/// between neighbouring rows (DICOM PixelSpacing lists them the other way round: row spacing `y` first).
public struct PixelSpacing: Sendable, Equatable, Hashable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A 2-D image of Float32 samples.
///
/// Layout: row-major, channels interleaved; sample `(row y, column x, channel c)` is
/// `pixels[(y * width + x) * channels + c]`. Row 0 is the top row (the first row stored in the file).
/// `channels` is 1 (grey) or 3 (RGB). Values keep the file's range (0...255 for 8-bit, 0...65535 for 16-bit,
/// stored or rescaled units for medical formats); nothing is normalised implicitly.
public struct Image2D: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    /// `width * height * channels` samples, see the type's layout note.
    public var pixels: [Float]
    /// Pixel size in mm where the source states it, else nil.
    public var spacing: PixelSpacing?

    /// Creates an image; `pixels.count` must be `width * height * channels` and channels 1 or 3.
    public init(width: Int, height: Int, channels: Int, pixels: [Float], spacing: PixelSpacing? = nil)
        throws(MedImageError)
    {
        guard width > 0, height > 0, channels == 1 || channels == 3 else {
            throw MedImageError(file: "<image>", kind: .invalidArgument,
                                "invalid image size \(width)x\(height)x\(channels) (channels must be 1 or 3)")
        }
        guard pixels.count == width * height * channels else {
            throw MedImageError(file: "<image>", kind: .invalidArgument,
                                "pixel count \(pixels.count) does not match \(width)x\(height)x\(channels)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
        self.spacing = spacing
    }

    /// Internal unchecked initialiser for code that has already validated the sizes.
    init(unchecked width: Int, _ height: Int, _ channels: Int, _ pixels: [Float], spacing: PixelSpacing? = nil) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
        self.spacing = spacing
    }

    /// A zero-filled image.
    public init(zeros width: Int, height: Int, channels: Int = 1) throws(MedImageError) {
        try self.init(width: width, height: height, channels: channels,
                      pixels: [Float](repeating: 0, count: max(0, width * height * channels)))
    }

    /// Sample at row `y`, column `x`, channel `c` (no bounds check beyond Swift's array check).
    @inlinable public subscript(y: Int, x: Int, c: Int = 0) -> Float {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// Smallest and largest sample over all channels; (0, 0) for an empty image.
    public var valueRange: (min: Float, max: Float) {
        pixels.withUnsafeBufferPointer { p in
            guard var lo = p.first else { return (0, 0) }
            var hi = lo
            for v in p {
                if v < lo { lo = v }
                if v > hi { hi = v }
            }
            return (lo, hi)
        }
    }

    /// The image with rows in reverse order (top becomes bottom).
    public func flippedVertically() -> Image2D {
        var out = pixels
        let rowLength = width * channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let s = (height - 1 - y) * rowLength
                    let d = y * rowLength
                    for i in 0..<rowLength { dst[d + i] = src[s + i] }
                }
            }
        }
        return Image2D(unchecked: width, height, channels, out, spacing: spacing)
    }

    /// Grey image (mean of R, G, B for colour input; a copy for grey input).
    public func toGrey() -> Image2D {
        if channels == 1 { return self }
        var out = [Float](repeating: 0, count: width * height)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    dst[i] = (src[3 * i] + src[3 * i + 1] + src[3 * i + 2]) / 3
                }
            }
        }
        return Image2D(unchecked: width, height, 1, out, spacing: spacing)
    }
}
