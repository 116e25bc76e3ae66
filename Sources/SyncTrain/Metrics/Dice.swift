import MedImage

/// Overlap metrics of binary masks at original resolution (SPEC 7.1, SAM-Med2D `metrics.py`).
///
/// `DSC = (2|P∩G| + 1e-7) / (|P| + |G| + 1e-7)`, `IoU = (|P∩G| + 1e-7) / (|P∪G| + 1e-7)`.
/// Empty masks follow from the smoothing: both empty gives 1, exactly one empty gives ~0 (1e-7 / (n + 1e-7)).
public enum OverlapMetrics {
    public static let smooth = 1e-7

    /// |P∩G|, |P|, |G|.
    public static func counts(_ prediction: BinaryMask, _ target: BinaryMask) -> (intersection: Int, prediction: Int, target: Int) {
        precondition(prediction.width == target.width && prediction.height == target.height,
                     "metric on \(prediction.width)x\(prediction.height) vs \(target.width)x\(target.height)")
        var inter = 0, p = 0, g = 0
        prediction.values.withUnsafeBufferPointer { a in
            target.values.withUnsafeBufferPointer { b in
                for i in 0..<a.count {
                    let x = Int(a[i]), y = Int(b[i])
                    inter += x & y; p += x; g += y
                }
            }
        }
        return (inter, p, g)
    }

    /// Dice similarity coefficient.
    public static func dice(_ prediction: BinaryMask, _ target: BinaryMask) -> Double {
        let c = counts(prediction, target)
        return (2 * Double(c.intersection) + smooth) / (Double(c.prediction + c.target) + smooth)
    }

    /// Intersection over union.
    public static func iou(_ prediction: BinaryMask, _ target: BinaryMask) -> Double {
        let c = counts(prediction, target)
        return (Double(c.intersection) + smooth) / (Double(c.prediction + c.target - c.intersection) + smooth)
    }
}
