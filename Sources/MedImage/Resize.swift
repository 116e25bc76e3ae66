/// Resampling filters.
public enum ResizeFilter: Sendable, Equatable {
    /// PyTorch `F.interpolate(mode="bilinear", align_corners=False)` without antialiasing.
    case bilinear
    /// PyTorch `F.interpolate(mode="bilinear", align_corners=False, antialias=True)` (LiteMedSAM's
    /// preprocessing; equal to PIL's bilinear `resize` on float data).
    case bilinearAntialiased
    /// PyTorch `mode="nearest"`: source index `floor(dst * in / out)` (for label masks).
    case nearest
}

/// Image resizing with separable passes over precomputed weights (horizontal pass, then vertical pass, the order
/// PyTorch's separable CPU kernel uses).
public enum Resize {
    /// Resizes `image` to `width` x `height` with `filter`. Channels are resampled independently; the pixel
    /// spacing is scaled to the new grid.
    public static func resize(_ image: Image2D, width: Int, height: Int, filter: ResizeFilter)
        throws(MedImageError) -> Image2D
    {
        guard width > 0, height > 0 else {
            throw MedImageError(file: "<image>", kind: .invalidArgument, "invalid target size \(width)x\(height)")
        }
        let wx: ResampleWeights
        let wy: ResampleWeights
        switch filter {
        case .bilinear:
            wx = .bilinear(input: image.width, output: width)
            wy = .bilinear(input: image.height, output: height)
        case .bilinearAntialiased:
            wx = .antialiasedBilinear(input: image.width, output: width)
            wy = .antialiasedBilinear(input: image.height, output: height)
        case .nearest:
            wx = .nearest(input: image.width, output: width)
            wy = .nearest(input: image.height, output: height)
        }
        let c = image.channels
        // Horizontal pass: (height x image.width) -> (height_in x width).
        var mid = [Float](repeating: 0, count: image.height * width * c)
        if width == image.width {
            // Same size: PyTorch skips the pass; copying is exact for all filters.
            mid = image.pixels
        } else {
            horizontal(image.pixels, rows: image.height, inWidth: image.width, channels: c, weights: wx, into: &mid)
        }
        var out = [Float](repeating: 0, count: height * width * c)
        if height == image.height {
            out = mid
        } else {
            vertical(mid, rowLength: width * c, weights: wy, into: &out)
        }
        let spacing = image.spacing.map {
            PixelSpacing(x: $0.x * Double(image.width) / Double(width), y: $0.y * Double(image.height) / Double(height))
        }
        return Image2D(unchecked: width, height, c, out, spacing: spacing)
    }

    private static func horizontal(_ src: [Float], rows: Int, inWidth: Int, channels c: Int, weights w: ResampleWeights,
                                   into dst: inout [Float])
    {
        let outWidth = w.outputSize
        let taps = w.taps
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                w.weights.withUnsafeBufferPointer { wt in
                    w.start.withUnsafeBufferPointer { st in
                        w.count.withUnsafeBufferPointer { ct in
                            for y in 0..<rows {
                                let srow = y * inWidth * c
                                let drow = y * outWidth * c
                                for o in 0..<outWidth {
                                    let first = st[o]
                                    let n = ct[o]
                                    let wb = o * taps
                                    for ch in 0..<c {
                                        var acc: Float = 0
                                        for k in 0..<n { acc += s[srow + (first + k) * c + ch] * wt[wb + k] }
                                        d[drow + o * c + ch] = acc
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func vertical(_ src: [Float], rowLength: Int, weights w: ResampleWeights, into dst: inout [Float]) {
        let taps = w.taps
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                w.weights.withUnsafeBufferPointer { wt in
                    for o in 0..<w.outputSize {
                        let first = w.start[o]
                        let n = w.count[o]
                        let drow = o * rowLength
                        for i in 0..<rowLength { d[drow + i] = 0 }
                        for k in 0..<n {
                            let weight = wt[o * taps + k]
                            let srow = (first + k) * rowLength
                            for i in 0..<rowLength { d[drow + i] += s[srow + i] * weight }
                        }
                    }
                }
            }
        }
    }

    /// SAM / LiteMedSAM target size for `ResizeLongestSide`: `scale = target / max(h, w)`,
    /// `(Int(h * scale + 0.5), Int(w * scale + 0.5))`.
    public static func longestSideSize(width: Int, height: Int, target: Int) -> (width: Int, height: Int, scale: Double) {
        let scale = Double(target) / Double(max(width, height))
        return (Int(Double(width) * scale + 0.5), Int(Double(height) * scale + 0.5), scale)
    }

    /// Resizes so that the longer side becomes `target` (LiteMedSAM: 256 with `.bilinearAntialiased`).
    /// - Returns: the resized image and the scale factor (new / old) to apply to prompt coordinates.
    public static func longestSide(_ image: Image2D, target: Int, filter: ResizeFilter = .bilinearAntialiased)
        throws(MedImageError) -> (image: Image2D, scale: Double)
    {
        let size = longestSideSize(width: image.width, height: image.height, target: target)
        return (try resize(image, width: size.width, height: size.height, filter: filter), size.scale)
    }

    /// Pads bottom and right with `value` to `width` x `height` (the image is kept at the top-left corner).
    public static func padBottomRight(_ image: Image2D, width: Int, height: Int, value: Float = 0)
        throws(MedImageError) -> Image2D
    {
        guard width >= image.width, height >= image.height else {
            throw MedImageError(file: "<image>", kind: .invalidArgument,
                                "cannot pad \(image.width)x\(image.height) to smaller \(width)x\(height)")
        }
        let c = image.channels
        var out = [Float](repeating: value, count: width * height * c)
        image.pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                let rowLength = image.width * c
                for y in 0..<image.height {
                    for i in 0..<rowLength { d[y * width * c + i] = s[y * rowLength + i] }
                }
            }
        }
        return Image2D(unchecked: width, height, c, out, spacing: image.spacing)
    }
}
