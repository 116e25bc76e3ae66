/// Prompts for one object, in ORIGINAL image pixel coordinates (x = column, y = row, pixel centres at +0.5
/// as in SAM, which adds the shift itself). Any mix of a box, positive/negative clicks and the previous
/// low-resolution logits of the same object (the next round of an interactive session).
public struct ObjectPrompt: Sendable, Codable, Equatable {
    /// Axis-aligned box `x0, y0, x1, y1`.
    public struct Box: Sendable, Codable, Equatable {
        public var x0: Double, y0: Double, x1: Double, y1: Double
        public init(x0: Double, y0: Double, x1: Double, y1: Double) { self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1 }
    }
    /// A click: label 1 = foreground (positive), 0 = background (negative).
    public struct Point: Sendable, Codable, Equatable {
        public var x: Double, y: Double, label: Int
        public init(x: Double, y: Double, label: Int = 1) { self.x = x; self.y = y; self.label = label }
    }

    public var box: Box?
    public var points: [Point]
    /// Label value written for this object in label maps (1, 2, ... by default).
    public var label: Int?

    public init(box: Box? = nil, points: [Point] = [], label: Int? = nil) {
        self.box = box
        self.points = points
        self.label = label
    }

    /// Checks the prompt against an image of `width` x `height`: at least one prompt, box inside the image with
    /// positive area, points inside the image with labels 0 or 1.
    public func validate(width: Int, height: Int) throws(PromptError) {
        if box == nil && points.isEmpty { throw .empty }
        let w = Double(width), h = Double(height)
        if let b = box {
            guard [b.x0, b.y0, b.x1, b.y1].allSatisfy({ $0.isFinite }) else { throw .boxOutside(b, width: width, height: height) }
            if b.x1 <= b.x0 || b.y1 <= b.y0 { throw .emptyBox(b) }
            if b.x0 < 0 || b.y0 < 0 || b.x1 > w || b.y1 > h { throw .boxOutside(b, width: width, height: height) }
        }
        for p in points {
            if p.label != 0 && p.label != 1 { throw .badLabel(p.label) }
            if !(p.x >= 0 && p.y >= 0 && p.x < w && p.y < h) { throw .pointOutside(p, width: width, height: height) }
        }
    }
}

/// Invalid prompts; each description is one line.
public enum PromptError: Error, CustomStringConvertible, Equatable {
    case empty
    case emptyBox(ObjectPrompt.Box)
    case boxOutside(ObjectPrompt.Box, width: Int, height: Int)
    case pointOutside(ObjectPrompt.Point, width: Int, height: Int)
    case badLabel(Int)

    public var description: String {
        switch self {
        case .empty: return "an object needs a box or at least one point"
        case .emptyBox(let b): return "box \(fmt(b)) has zero area (need x0 < x1 and y0 < y1)"
        case .boxOutside(let b, let w, let h): return "box \(fmt(b)) lies outside the \(w)x\(h) image"
        case .pointOutside(let p, let w, let h): return "point (\(p.x), \(p.y)) lies outside the \(w)x\(h) image"
        case .badLabel(let l): return "point label \(l) is not 0 (background) or 1 (foreground)"
        }
    }

    private func fmt(_ b: ObjectPrompt.Box) -> String { "\(b.x0),\(b.y0),\(b.x1),\(b.y1)" }
}
