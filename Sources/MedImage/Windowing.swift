/// A display window: values in `[level - width/2, level + width/2]` map linearly to 0...255.
public struct IntensityWindow: Sendable, Equatable, Hashable {
    public var level: Double
    public var width: Double

    public init(level: Double, width: Double) {
        self.level = level
        self.width = width
    }

    /// CT soft tissue / abdomen: level 40, width 400 HU (the MedSAM and samed2d_mini default).
    public static let softTissue = IntensityWindow(level: 40, width: 400)
    /// CT lung: level -600, width 1500 HU.
    public static let lung = IntensityWindow(level: -600, width: 1500)
    /// CT bone: level 400, width 1800 HU.
    public static let bone = IntensityWindow(level: 400, width: 1800)
    /// CT brain: level 40, width 80 HU.
    public static let brain = IntensityWindow(level: 40, width: 80)

    /// Lower bound `level - width/2`.
    public var lower: Double { level - width / 2 }
    /// Upper bound `level + width/2`.
    public var upper: Double { level + width / 2 }
}

/// How Float values in 0...255 become bytes.
public enum ByteQuantization: Sendable, Equatable {
    /// Drop the fraction, as NumPy's `astype(np.uint8)` in MedSAM's preprocessing does.
    case truncate
    /// Round half away from zero.
    case round
}

/// Intensity mapping: windows, percentile clipping, min-max scaling, byte conversion.
/// All functions keep the image layout and return Float values; nothing here loses 16-bit range before the final
/// mapping to 0...255.
public enum Intensity {
    /// Maps `[lower, upper]` linearly to 0...255, clamping outside values: `(v - lower) / (upper - lower) * 255`.
    /// A non-positive range maps everything >= upper to 255 and the rest to 0.
    public static func rescale(_ image: Image2D, lower: Double, upper: Double) -> Image2D {
        var out = image
        let lo = Float(lower)
        let range = Float(upper - lower)
        let gain: Float = range > 0 ? 255 / range : 0
        out.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                let v = p[i]
                if range <= 0 {
                    p[i] = v >= Float(upper) ? 255 : 0
                } else {
                    let s = (v - lo) * gain
                    p[i] = s < 0 ? 0 : (s > 255 ? 255 : s)
                }
            }
        }
        return out
    }

    /// Applies a CT (or DICOM VOI) window: `rescale(lower: window.lower, upper: window.upper)`.
    /// Input values must already be in the window's units (HU for CT: apply RescaleSlope/Intercept first).
    public static func apply(_ window: IntensityWindow, to image: Image2D) -> Image2D {
        rescale(image, lower: window.lower, upper: window.upper)
    }

    /// Percentile with NumPy's default (`linear`) interpolation: rank `q/100 * (n-1)` in the sorted values.
    /// - Parameters:
    ///   - values: the samples; `nonZeroOnly` restricts them to values != 0 (MedSAM's rule for MR).
    ///   - percentiles: each in 0...100.
    /// - Returns: one value per requested percentile, or nil when no sample qualifies.
    public static func percentiles(of values: [Float], _ percentiles: [Double], nonZeroOnly: Bool = true)
        -> [Double]?
    {
        var selected: [Float]
        if nonZeroOnly {
            selected = []
            selected.reserveCapacity(values.count)
            values.withUnsafeBufferPointer { p in
                for v in p where v != 0 && !v.isNaN { selected.append(v) }
            }
        } else {
            selected = values.filter { !$0.isNaN }
        }
        guard !selected.isEmpty else { return nil }
        selected.sort()
        let n = selected.count
        return percentiles.map { q in
            let rank = min(max(q, 0), 100) / 100 * Double(n - 1)
            let lo = Int(rank.rounded(.down))
            let hi = min(lo + 1, n - 1)
            let frac = rank - Double(lo)
            let a = Double(selected[lo])
            let b = Double(selected[hi])
            return a + (b - a) * frac
        }
    }

    /// MedSAM's MR / non-CT normalisation: clip to the `low`/`high` percentiles (of the non-zero samples by
    /// default), map linearly to 0...255, and keep samples that were exactly 0 at 0.
    /// - Parameter statisticsFrom: samples to take the percentiles from (for example the whole volume); nil = the
    ///   image itself.
    public static func percentileNormalized(_ image: Image2D, low: Double = 0.5, high: Double = 99.5,
                                            nonZeroOnly: Bool = true, statisticsFrom: [Float]? = nil) -> Image2D
    {
        guard let p = percentiles(of: statisticsFrom ?? image.pixels, [low, high], nonZeroOnly: nonZeroOnly) else {
            return Image2D(unchecked: image.width, image.height, image.channels,
                           [Float](repeating: 0, count: image.pixels.count), spacing: image.spacing)
        }
        var out = rescale(image, lower: p[0], upper: p[1])
        if nonZeroOnly {
            image.pixels.withUnsafeBufferPointer { src in
                out.pixels.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<src.count where src[i] == 0 { dst[i] = 0 }
                }
            }
        }
        return out
    }

    /// Min-max scaling of all samples (all channels together) to `0...scale`; a constant image maps to 0.
    public static func minMaxNormalized(_ image: Image2D, scale: Float = 1) -> Image2D {
        let (lo, hi) = image.valueRange
        var out = image
        let range = hi - lo
        let gain: Float = range > 0 ? scale / range : 0
        out.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = (p[i] - lo) * gain }
        }
        return out
    }

    /// Converts 0...255 Float samples to bytes, clamping out-of-range values.
    public static func bytes(_ image: Image2D, quantization: ByteQuantization = .truncate) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count {
                    var v = src[i]
                    if quantization == .round { v = v.rounded(.toNearestOrAwayFromZero) }
                    dst[i] = v.isNaN || v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))
                }
            }
        }
        return out
    }
}
