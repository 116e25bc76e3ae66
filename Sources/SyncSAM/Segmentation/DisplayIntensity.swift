import Foundation
import MedImage

/// How one input's raw values (HU, MR signal, 16-bit counts, 8-bit display values) become the 0...255 display
/// values that the model and the overlay see, resolved once per input (per volume for 3-D, so every slice of a
/// volume uses the same mapping).
///
/// Defaults (`SegmentationInput.load`): CT -> soft-tissue window; MR and other grey modalities -> 0.5 / 99.5
/// percentiles of the non-zero values (MedSAM's rule); 8-bit PNG/JPEG and colour images -> as is; 16-bit PNG ->
/// percentiles. MONOCHROME1 DICOM is inverted after the mapping.
public struct DisplayIntensity: Sendable, Equatable, CustomStringConvertible {
    public enum Rule: Sendable, Equatable {
        /// Values already are 0...255 display values: clamp only.
        case asIs
        /// A CT window in the values' units (HU).
        case window(IntensityWindow)
        /// Percentile clipping (`low`, `high` in 0...100) of the non-zero values; exact zeros stay 0.
        case percentile(low: Double, high: Double)
    }

    public var rule: Rule
    /// Raw value mapped to 0 (`asIs`: 0).
    public var lower: Double
    /// Raw value mapped to 255 (`asIs`: 255).
    public var upper: Double
    /// Display 255 - v (DICOM MONOCHROME1).
    public var inverted: Bool

    public init(rule: Rule, lower: Double, upper: Double, inverted: Bool = false) {
        self.rule = rule
        self.lower = lower
        self.upper = upper
        self.inverted = inverted
    }

    /// Values shown unchanged (0...255 clamped).
    public static let asIs = DisplayIntensity(rule: .asIs, lower: 0, upper: 255)

    /// A window: `[level - width/2, level + width/2]` -> 0...255.
    public static func window(_ w: IntensityWindow, inverted: Bool = false) -> DisplayIntensity {
        DisplayIntensity(rule: .window(w), lower: w.lower, upper: w.upper, inverted: inverted)
    }

    /// Percentile clipping with the bounds taken from `values` (NumPy linear interpolation, non-zero values only).
    /// All-zero input maps everything to 0.
    public static func percentile(of values: [Float], low: Double = 0.5, high: Double = 99.5,
                                  inverted: Bool = false) -> DisplayIntensity
    {
        let p = Intensity.percentiles(of: values, [low, high], nonZeroOnly: true) ?? [0, 0]
        return DisplayIntensity(rule: .percentile(low: low, high: high), lower: p[0], upper: p[1], inverted: inverted)
    }

    /// The display image: grey replicated to RGB, integer values 0...255 (truncated as a uint8 cast), same size and
    /// spacing as `raw`.
    public func apply(_ raw: Image2D) -> Image2D {
        var mapped: Image2D
        switch rule {
        case .asIs: mapped = raw
        case .window, .percentile: mapped = Intensity.rescale(raw, lower: lower, upper: upper)
        }
        if case .percentile = rule {
            raw.pixels.withUnsafeBufferPointer { src in
                mapped.pixels.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<src.count where src[i] == 0 { dst[i] = 0 }
                }
            }
        }
        var display = ModelInput.rgb8(mapped)
        if inverted {
            display.pixels.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count { p[i] = 255 - p[i] }
            }
        }
        return display
    }

    /// One line for logs and summary.json, e.g. `window level 40 width 400`.
    public var description: String {
        let suffix = inverted ? ", inverted (MONOCHROME1)" : ""
        switch rule {
        case .asIs: return "as stored (0-255)" + suffix
        case .window(let w): return "window level \(Self.format(w.level)) width \(Self.format(w.width))" + suffix
        case .percentile(let lo, let hi):
            return "percentile \(Self.format(lo))-\(Self.format(hi)) of non-zero values (\(Self.format(lower)) to \(Self.format(upper)))"
                + suffix
        }
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.4g", v)
    }

    /// Parses a `--window` value: `soft` (also `soft-tissue`), `lung`, `bone`, `brain`, or `LEVEL,WIDTH` with a
    /// positive width (`-600,1500`).
    public static func parseWindow(_ text: String) throws(SegmentationInputError) -> IntensityWindow {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch t {
        case "soft", "soft-tissue", "softtissue": return .softTissue
        case "lung": return .lung
        case "bone": return .bone
        case "brain": return .brain
        default: break
        }
        let parts = t.split(separator: ",", omittingEmptySubsequences: false)
            .map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let level = parts[0], let width = parts[1], level.isFinite, width.isFinite, width > 0
        else { throw .badWindow(text) }
        return IntensityWindow(level: level, width: width)
    }
}
