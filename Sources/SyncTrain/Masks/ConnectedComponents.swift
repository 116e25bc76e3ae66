/// Connected components of a `BinaryMask` (8-connectivity, skimage `label(mask)` default for 2-D), and the
/// largest one as used for box prompts (SPEC 6.2 / 7.1, SAM-Med2D `get_boxes_from_mask`).
public struct ConnectedComponents: Sendable {
    /// Component id per pixel: 0 = background, 1...count in raster order of each component's first pixel.
    public let labels: [Int32]
    /// Pixel count of component `k` at index `k - 1`.
    public let areas: [Int]
    /// Exclusive-max bounding box of component `k` at index `k - 1`.
    public let boxes: [PixelBox]
    public let width: Int
    public let height: Int

    public var count: Int { areas.count }

    /// Labels the foreground of `mask` with a flood fill (explicit stack, no recursion).
    public init(_ mask: BinaryMask) {
        let w = mask.width, h = mask.height
        var labels = [Int32](repeating: 0, count: w * h)
        var areas: [Int] = [], boxes: [PixelBox] = []
        var stack: [Int] = []
        mask.pixels.withUnsafeBufferPointer { px in
            for start in 0..<(w * h) where px[start] != 0 && labels[start] == 0 {
                let id = Int32(areas.count + 1)
                var area = 0, box = PixelBox(x0: start % w, y0: start / w, x1: start % w + 1, y1: start / w + 1)
                labels[start] = id
                stack.append(start)
                while let i = stack.popLast() {
                    area += 1
                    let y = i / w, x = i % w
                    box.x0 = min(box.x0, x); box.x1 = max(box.x1, x + 1)
                    box.y0 = min(box.y0, y); box.y1 = max(box.y1, y + 1)
                    for dy in -1...1 {
                        let ny = y + dy
                        guard ny >= 0 && ny < h else { continue }
                        for dx in -1...1 where dx != 0 || dy != 0 {
                            let nx = x + dx
                            guard nx >= 0 && nx < w else { continue }
                            let j = ny * w + nx
                            if px[j] != 0 && labels[j] == 0 { labels[j] = id; stack.append(j) }
                        }
                    }
                }
                areas.append(area)
                boxes.append(box)
            }
        }
        self.labels = labels
        self.areas = areas
        self.boxes = boxes
        width = w
        height = h
    }

    /// Index (0-based) of the largest component; ties go to the lower label (a stable sort by area, as SAM-Med2D's
    /// `sorted(regions, key=area, reverse=True)`). Nil when the mask is empty.
    public var largestIndex: Int? {
        guard var best = areas.indices.first else { return nil }
        for k in areas.indices where areas[k] > areas[best] { best = k }
        return best
    }

    /// Bounding box of the largest component, nil for an empty mask.
    public var largestBox: PixelBox? { largestIndex.map { boxes[$0] } }

    /// The mask of component `index` (0-based).
    public func mask(of index: Int) -> BinaryMask {
        let id = Int32(index + 1)
        return BinaryMask(width: width, height: height, pixels: labels.map { $0 == id ? 1 : 0 })
    }
}
