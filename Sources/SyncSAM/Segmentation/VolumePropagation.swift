import Foundation
import MedImage

/// Segments one object on one 2-D display slice: `(RGB slice with values 0...255, prompt in its pixel
/// coordinates) -> mask of the slice's size`. The CLI plugs in the model predictor; tests use a fake.
public typealias SliceSegmenter = (Image2D, ObjectPrompt) throws -> BinaryMask

/// Settings of slice-by-slice propagation.
public struct PropagationOptions: Sendable, Equatable {
    /// The axis perpendicular to the slices (z = axial slices of a DICOM series or a typical NIfTI).
    public var axis: VolumeAxis
    /// Pixels added on every side of the previous slice's mask box to make the next slice's box prompt, so a
    /// structure that grows from slice to slice is not clipped.
    public var boxPadding: Int
    /// A propagated mask with fewer pixels ends propagation in that direction and is not written. The key slice's
    /// mask is always written.
    public var minimumArea: Int

    public init(axis: VolumeAxis = .z, boxPadding: Int = 3, minimumArea: Int = 10) {
        self.axis = axis
        self.boxPadding = boxPadding
        self.minimumArea = minimumArea
    }
}

/// Where a running propagation stands, reported after every slice.
public struct PropagationProgress: Sendable, Equatable {
    /// The slice just segmented.
    public var slice: Int
    /// Slices segmented so far (the key slice included).
    public var processed: Int
    /// Upper bound on the slices still to visit (propagation may stop earlier where objects end).
    public var remaining: Int
    /// Seconds since the propagation started.
    public var elapsed: Double

    public init(slice: Int, processed: Int, remaining: Int, elapsed: Double) {
        self.slice = slice
        self.processed = processed
        self.remaining = remaining
        self.elapsed = elapsed
    }

    public var total: Int { processed + remaining }

    /// Estimated seconds left (mean time per slice so far times `remaining`); nil before the first slice.
    public var estimatedRemaining: Double? {
        processed > 0 ? elapsed / Double(processed) * Double(remaining) : nil
    }

    /// A one-line bar for a terminal, e.g. `[######------] 12/24 slices, 3s elapsed, ETA 3s`.
    public func bar(width: Int = 24) -> String {
        let w = max(width, 1)
        let filled = total > 0 ? min(w, processed * w / total) : w
        var line = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: w - filled) + "] "
        line += "\(processed)/\(total) slices, \(Self.duration(elapsed)) elapsed"
        if let eta = estimatedRemaining { line += ", ETA \(Self.duration(eta))" }
        return line
    }

    /// `42s` below a minute, `3m05s` below an hour, else `1h02m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + String(format: "%02ds", s % 60) }
        return "\(s / 3600)h" + String(format: "%02dm", (s % 3600) / 60)
    }
}

/// One object's outcome in a propagated volume.
public struct PropagatedObject: Sendable, Equatable {
    public var label: Int
    /// The mask on the key slice (the slice's size).
    public var keySliceMask: BinaryMask
    /// First and last slice (along the axis) where the object's mask was written; nil when it was empty.
    public var sliceRange: ClosedRange<Int>?
    /// Voxels carrying `label` in the final label volume (later objects take precedence where masks overlap).
    public var voxelCount: Int
}

/// A label volume on the source grid (same size, spacing and affine) and per-object statistics.
public struct PropagationResult: Sendable {
    public var labels: Volume
    public var axis: VolumeAxis
    public var keySlice: Int
    public var objects: [PropagatedObject]
}

/// Segments a volume slice by slice from prompts on one key slice.
///
/// The key slice is segmented with each object's prompt; propagation then walks to the neighbouring slices,
/// first towards higher indices, then towards lower ones. On each slice an object's prompt is the box of its
/// mask on the previous slice (`propagationBox`, padded by `boxPadding`); an object stops in a direction when its
/// mask vanishes or falls under `minimumArea`. All objects of one slice are segmented one after the other with the
/// same display image (a predictor can keep the image embedding between those calls), and every slice is
/// displayed with the volume-wide mapping `display`. Where masks overlap, later objects win.
public struct VolumePropagation: Sendable {
    public let volume: Volume
    public let display: DisplayIntensity
    public var options: PropagationOptions

    public init(volume: Volume, display: DisplayIntensity, options: PropagationOptions = PropagationOptions()) {
        self.volume = volume
        self.display = display
        self.options = options
    }

    /// Runs the propagation.
    /// - Parameters:
    ///   - keySlice: index along `options.axis` where `objects` are given.
    ///   - objects: prompts in key-slice pixel coordinates; labels default to 1, 2, ... in order.
    ///   - segmenter: the 2-D segmenter; its errors are rethrown.
    ///   - progress: called after every slice.
    public func run(keySlice: Int, objects: [ObjectPrompt], segmenter: SliceSegmenter,
                    progress: ((PropagationProgress) -> Void)? = nil) throws -> PropagationResult
    {
        let axis = options.axis
        let count = Self.extent(of: volume, along: axis)
        let size = Self.sliceSize(of: volume, along: axis)
        guard keySlice >= 0, keySlice < count else {
            throw SegmentationInputError.invalidRequest(
                "key slice \(keySlice) is outside the volume (0...\(count - 1) along \(axis.axisName))")
        }
        let labelValues = objects.enumerated().map { $0.element.label ?? $0.offset + 1 }
        var labels = volume.makeLabelVolume()
        var ranges = [ClosedRange<Int>?](repeating: nil, count: objects.count)
        let start = ContinuousClock.now
        var processed = 0

        func segmentSlice(_ index: Int, prompts: [ObjectPrompt?]) throws -> [BinaryMask?] {
            let image = try Self.displaySlice(of: volume, axis: axis, index: index, display: display)
            var masks = [BinaryMask?](repeating: nil, count: prompts.count)
            var labelMap = [Float](repeating: 0, count: size.width * size.height)
            for (k, prompt) in prompts.enumerated() {
                guard let prompt else { continue }
                let mask = try segmenter(image, prompt)
                guard mask.width == size.width, mask.height == size.height else {
                    throw SegmentationInputError.invalidRequest(
                        "segmenter returned a \(mask.width)x\(mask.height) mask for a \(size.width)x\(size.height) slice")
                }
                masks[k] = mask
            }
            for (k, mask) in masks.enumerated() {
                guard let mask else { continue }
                // Propagated masks under the minimum area are dropped; the key slice keeps whatever it got.
                if index != keySlice && mask.area < options.minimumArea { continue }
                var any = false
                let value = Float(labelValues[k])
                mask.values.withUnsafeBufferPointer { m in
                    for i in 0..<m.count where m[i] != 0 {
                        labelMap[i] = value
                        any = true
                    }
                }
                if any { ranges[k] = ranges[k].map { min($0.lowerBound, index)...max($0.upperBound, index) } ?? index...index }
            }
            let labelImage = try Image2D(width: size.width, height: size.height, channels: 1, pixels: labelMap)
            try labels.setSlice(axis, index: index, from: labelImage)
            return masks
        }

        func report(_ index: Int, remaining: Int) {
            processed += 1
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            progress?(PropagationProgress(slice: index, processed: processed, remaining: remaining, elapsed: seconds))
        }

        let keyMasks = try segmentSlice(keySlice, prompts: objects.map { Optional($0) })
        let keyBoxes = keyMasks.map { mask -> ObjectPrompt.Box? in
            guard let mask, mask.area >= options.minimumArea else { return nil }
            return Self.propagationBox(from: mask, padding: options.boxPadding)
        }
        let anyActive = keyBoxes.contains { $0 != nil }
        report(keySlice, remaining: anyActive ? count - 1 : 0)

        // Upwards, then downwards; `remaining` counts the unvisited slices of directions still running.
        for direction in [1, -1] {
            var boxes = keyBoxes
            var index = keySlice + direction
            while index >= 0, index < count, boxes.contains(where: { $0 != nil }) {
                let prompts = boxes.enumerated().map { k, box in box.map { ObjectPrompt(box: $0, label: labelValues[k]) } }
                let masks = try segmentSlice(index, prompts: prompts)
                for k in boxes.indices where boxes[k] != nil {
                    if let mask = masks[k], mask.area >= options.minimumArea {
                        boxes[k] = Self.propagationBox(from: mask, padding: options.boxPadding)
                    } else {
                        boxes[k] = nil
                    }
                }
                let stillRunning = boxes.contains { $0 != nil }
                let here = direction > 0 ? (stillRunning ? count - 1 - index : 0) : (stillRunning ? index : 0)
                let other = direction > 0 && anyActive ? keySlice : 0
                report(index, remaining: here + other)
                index += direction
            }
        }

        var counts = [Int](repeating: 0, count: SegmentationPrompts.maximumLabel + 2)
        labels.voxels.withUnsafeBufferPointer { p in
            for v in p where v > 0 { counts[min(Int(v), counts.count - 1)] += 1 }
        }
        let results = zip(objects.indices, keyMasks.compactMap { $0 }).map { k, mask in
            PropagatedObject(label: labelValues[k], keySliceMask: mask, sliceRange: ranges[k],
                             voxelCount: (0..<counts.count).contains(labelValues[k]) ? counts[labelValues[k]] : 0)
        }
        return PropagationResult(labels: labels, axis: axis, keySlice: keySlice, objects: results)
    }

    /// The box prompt derived from a mask: its foreground box as pixel edges (`x1` = last column + 1), grown by
    /// `padding` on every side and clipped to the slice; nil for an empty mask.
    public static func propagationBox(from mask: BinaryMask, padding: Int) -> ObjectPrompt.Box? {
        guard let b = mask.boundingBox else { return nil }
        let p = max(padding, 0)
        return ObjectPrompt.Box(x0: Double(max(b.x0 - p, 0)), y0: Double(max(b.y0 - p, 0)),
                                x1: Double(min(b.x1 + 1 + p, mask.width)), y1: Double(min(b.y1 + 1 + p, mask.height)))
    }

    /// Number of slices along `axis`.
    public static func extent(of volume: Volume, along axis: VolumeAxis) -> Int {
        switch axis {
        case .x: return volume.nx
        case .y: return volume.ny
        case .z: return volume.nz
        }
    }

    /// Width and height of a slice along `axis` (as `Volume.slice` lays it out).
    public static func sliceSize(of volume: Volume, along axis: VolumeAxis) -> (width: Int, height: Int) {
        switch axis {
        case .x: return (volume.ny, volume.nz)
        case .y: return (volume.nx, volume.nz)
        case .z: return (volume.nx, volume.ny)
        }
    }

    /// Display image (RGB 0...255) of one slice.
    public static func displaySlice(of volume: Volume, axis: VolumeAxis, index: Int, display: DisplayIntensity)
        throws(SegmentationInputError) -> Image2D
    {
        let count = extent(of: volume, along: axis)
        guard index >= 0, index < count else {
            throw .invalidRequest("slice \(index) is outside the volume (0...\(count - 1) along \(axis.axisName))")
        }
        let raw = try SegmentationInput.reading { () throws(MedImageError) in try volume.slice(axis, index: index) }
        return display.apply(raw)
    }
}
