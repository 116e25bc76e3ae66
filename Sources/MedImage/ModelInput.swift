/// How raw intensities become 0...255 before a model sees them.
public enum IntensityNormalization: Sendable, Equatable {
    /// Values are already display values in 0...255 (PNG/JPEG): only clamp.
    case none
    /// A CT / VOI window on values in the window's units (HU).
    case window(IntensityWindow)
    /// Clip to percentiles (`low`, `high` in 0...100), of the non-zero samples when `nonZeroOnly` (MedSAM for MR).
    case percentile(low: Double, high: Double, nonZeroOnly: Bool)
    /// Min-max of the image to 0...255.
    case minMax

    /// MedSAM's MR rule: 0.5 / 99.5 percentiles of the non-zero samples.
    public static let medSAMPercentile = IntensityNormalization.percentile(low: 0.5, high: 99.5, nonZeroOnly: true)
}

/// Turning arbitrary images into the 8-bit RGB that the SAM-family models take.
public enum ModelInput {
    /// Normalises intensities to 0...255, quantises to whole numbers (as a uint8 image would hold) and replicates
    /// grey to three channels. Colour input keeps its channels.
    /// - Returns: a 3-channel `Image2D` whose samples are integers in 0...255, same width, height and spacing.
    public static func rgb8(_ image: Image2D, normalization: IntensityNormalization = .none,
                            quantization: ByteQuantization = .truncate) -> Image2D
    {
        let bytes = rgb8Bytes(image, normalization: normalization, quantization: quantization)
        var out = [Float](repeating: 0, count: bytes.count)
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count { dst[i] = Float(src[i]) }
            }
        }
        return Image2D(unchecked: image.width, image.height, 3, out, spacing: image.spacing)
    }

    /// Same as `rgb8(_:normalization:quantization:)` but as interleaved RGB bytes (`width * height * 3`).
    public static func rgb8Bytes(_ image: Image2D, normalization: IntensityNormalization = .none,
                                 quantization: ByteQuantization = .truncate) -> [UInt8]
    {
        let normalized: Image2D
        switch normalization {
        case .none: normalized = image
        case .window(let w): normalized = Intensity.apply(w, to: image)
        case .percentile(let lo, let hi, let nonZero):
            normalized = Intensity.percentileNormalized(image, low: lo, high: hi, nonZeroOnly: nonZero)
        case .minMax: normalized = Intensity.minMaxNormalized(image, scale: 255)
        }
        let bytes = Intensity.bytes(normalized, quantization: quantization)
        if image.channels == 3 { return bytes }
        var rgb = [UInt8](repeating: 0, count: bytes.count * 3)
        bytes.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count {
                    dst[3 * i] = src[i]
                    dst[3 * i + 1] = src[i]
                    dst[3 * i + 2] = src[i]
                }
            }
        }
        return rgb
    }
}
