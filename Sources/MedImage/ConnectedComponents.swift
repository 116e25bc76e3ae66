/// One connected component of a binary mask.
public struct MaskComponent: Sendable, Equatable {
    /// Label in the label image (1-based, in raster order of each component's first pixel, as skimage `label`).
    public var label: Int
    public var area: Int
    /// Box with **exclusive** maxima, as skimage `regionprops.bbox` and SAM-Med2D use:
    /// `x1 = last column + 1`, `y1 = last row + 1`.
    public var box: PixelBox
}

/// 8-connected component labelling (two-pass union-find).
public enum ConnectedComponents {
    /// Labels the foreground of `mask` with 8-connectivity.
    /// - Returns: `labels[y * width + x]` (0 background, 1...n components) and the components in label order.
    public static func label(_ mask: BinaryMask) -> (labels: [Int32], components: [MaskComponent]) {
        let w = mask.width, h = mask.height
        var labels = [Int32](repeating: 0, count: w * h)
        var parent: [Int32] = [0]
        func find(_ x: Int32) -> Int32 {
            var r = x
            while parent[Int(r)] != r { r = parent[Int(r)] }
            var c = x
            while parent[Int(c)] != r {
                let next = parent[Int(c)]
                parent[Int(c)] = r
                c = next
            }
            return r
        }
        func union(_ a: Int32, _ b: Int32) {
            let ra = find(a), rb = find(b)
            if ra < rb { parent[Int(rb)] = ra } else if rb < ra { parent[Int(ra)] = rb }
        }
        mask.values.withUnsafeBufferPointer { m in
            for y in 0..<h {
                for x in 0..<w where m[y * w + x] != 0 {
                    var current: Int32 = 0
                    func merge(_ l: Int32) {
                        if l == 0 { return }
                        if current == 0 { current = l } else if l != current { union(current, l) }
                    }
                    // Previously visited neighbours: W, NW, N, NE.
                    if x > 0 { merge(labels[y * w + x - 1]) }
                    if y > 0 {
                        let r = (y - 1) * w
                        if x > 0 { merge(labels[r + x - 1]) }
                        merge(labels[r + x])
                        if x + 1 < w { merge(labels[r + x + 1]) }
                    }
                    if current == 0 {
                        current = Int32(parent.count)
                        parent.append(current)
                    }
                    labels[y * w + x] = current
                }
            }
        }
        // Second pass: resolve roots and renumber in raster order of first appearance.
        var renumber = [Int32](repeating: 0, count: parent.count)
        var components: [MaskComponent] = []
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                guard labels[i] != 0 else { continue }
                let root = Int(find(labels[i]))
                if renumber[root] == 0 {
                    components.append(MaskComponent(label: components.count + 1, area: 0,
                                                    box: PixelBox(x0: x, y0: y, x1: x + 1, y1: y + 1)))
                    renumber[root] = Int32(components.count)
                }
                let id = Int(renumber[root])
                labels[i] = Int32(id)
                var c = components[id - 1]
                c.area += 1
                c.box.x0 = min(c.box.x0, x)
                c.box.y0 = min(c.box.y0, y)
                c.box.x1 = max(c.box.x1, x + 1)
                c.box.y1 = max(c.box.y1, y + 1)
                components[id - 1] = c
            }
        }
        return (labels, components)
    }

    /// The largest component (the first in label order on ties, as a stable sort by area would pick);
    /// nil for an empty mask.
    public static func largest(_ mask: BinaryMask) -> MaskComponent? {
        var best: MaskComponent?
        for c in label(mask).components where c.area > (best?.area ?? 0) { best = c }
        return best
    }

    /// SAM-Med2D's box prompt: the largest 8-connected component's box `(x0, y0, x1, y1)` with exclusive
    /// maxima (`regionprops.bbox`); nil for an empty mask.
    public static func largestComponentBox(_ mask: BinaryMask) -> PixelBox? { largest(mask)?.box }
}
