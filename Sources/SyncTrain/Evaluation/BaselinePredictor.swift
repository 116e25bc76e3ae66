import MedImage

/// A region in original-image pixel coordinates with continuous edges: pixel (x, y) covers [x, x+1) x [y, y+1),
/// so the tight box of pixels x0...x1 (inclusive) is the region [x0, x1 + 1).
public struct PixelRegion: Codable, Sendable, Equatable {
    public var x0: Double, y0: Double, x1: Double, y1: Double
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1
    }
}

/// Prompt-only predictors that every table carries as the floor a model must beat: they see the evaluation box
/// and nothing else (box mode only; undefined for point prompts).
public enum BaselinePredictor: String, Codable, Sendable, CaseIterable {
    /// The ellipse inscribed in the box: pixels whose centre (x + 0.5, y + 0.5) satisfies
    /// ((px - cx) / a)^2 + ((py - cy) / b)^2 <= 1 with centre and semi-axes of the region.
    case ellipse = "ellipse-in-box"
    /// The filled box: pixels whose centre lies inside the region.
    case filledBox = "filled-box"

    /// The baseline's mask at `width` x `height` for `region`.
    public func mask(region r: PixelRegion, width: Int, height: Int) -> BinaryMask {
        var values = [UInt8](repeating: 0, count: width * height)
        let cx = (r.x0 + r.x1) / 2, cy = (r.y0 + r.y1) / 2
        let a = (r.x1 - r.x0) / 2, b = (r.y1 - r.y0) / 2
        guard a > 0, b > 0 else { return BinaryMask.empty(width: width, height: height) }
        // Rows and columns whose centres can lie inside the region.
        let top = max(0, Int((r.y0 - 0.5).rounded(.up))), bottom = min(height - 1, Int((r.y1 - 0.5).rounded(.down)))
        let left = max(0, Int((r.x0 - 0.5).rounded(.up))), right = min(width - 1, Int((r.x1 - 0.5).rounded(.down)))
        guard top <= bottom, left <= right else { return BinaryMask.empty(width: width, height: height) }
        let rows = top...bottom, cols = left...right
        for y in rows {
            let dy = (Double(y) + 0.5 - cy) / b
            for x in cols {
                switch self {
                case .filledBox:
                    values[y * width + x] = 1
                case .ellipse:
                    let dx = (Double(x) + 0.5 - cx) / a
                    if dx * dx + dy * dy <= 1 { values[y * width + x] = 1 }
                }
            }
        }
        return BinaryMask(validWidth: width, height: height, values: values)
    }
}
