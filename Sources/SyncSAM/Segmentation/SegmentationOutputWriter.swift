import Foundation
import MedImage

/// Writes the results of `syncsam segment` into `--out DIR` under fixed names, all or nothing.
///
/// 2-D image: `mask.png` (one object) or `mask_<label>.png` per object plus `labels.png` (several objects),
/// `overlay.png` (the display image with translucent, outlined masks, the box prompts and the clicks), and
/// `summary.json` (`SegmentationSummary`). Volume: `overlay.png` of the key slice, `labels.nii.gz` (uint8 label map
/// on the source grid: same size, affine and spacing), `summary.json`. Masks are 0/255 8-bit PNGs; `labels.png`
/// holds the label values (later objects win where masks overlap). Files are staged in a hidden sibling folder and
/// moved into place only when all of them were written (`StagedOutputDirectory`): on any error no output is left
/// behind and an existing folder keeps its previous outputs.
public struct SegmentationOutputWriter: Sendable {
    public static let singleMaskFile = "mask.png"
    public static let labelsFile = "labels.png"
    public static let overlayFile = "overlay.png"
    public static let summaryFile = "summary.json"
    public static let labelVolumeFile = "labels.nii.gz"

    /// The output folder.
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// `mask_<label>.png`.
    public static func maskFile(label: Int) -> String { "mask_\(label).png" }

    /// True for the names this writer produces (`mask.png`, `mask_<n>.png`, `labels.png`, `overlay.png`,
    /// `summary.json`, `labels.nii.gz`): the files a new run replaces in an existing folder.
    public static func isOutputFileName(_ name: String) -> Bool {
        if [singleMaskFile, labelsFile, overlayFile, summaryFile, labelVolumeFile].contains(name) { return true }
        guard name.hasPrefix("mask_"), name.hasSuffix(".png") else { return false }
        let digits = name.dropFirst(5).dropLast(4)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Colour of an object in overlays, by label.
    public static func colour(label: Int) -> RGB8 { RGB8.palette[(max(label, 1) - 1) % RGB8.palette.count] }

    // MARK: - 2-D

    /// Writes the outputs of a 2-D image.
    /// - Parameters:
    ///   - display: the display image the model saw (0...255, grey or RGB).
    ///   - predictions: one per object, masks at the image size, distinct labels in 1...255.
    ///   - prompts: drawn on the overlay (boxes and clicks, image pixel coordinates).
    ///   - spacing: pixel size for `area_mm2`; nil when unknown.
    /// - Returns: the summary written.
    @discardableResult
    public func writeImage(display: Image2D, predictions: [ObjectPrediction], prompts: [ObjectPrompt] = [],
                           spacing: PixelSpacing? = nil, info: SegmentationRunInfo)
        throws(SegmentationOutputError) -> SegmentationSummary
    {
        guard !predictions.isEmpty else { throw .invalid("no predictions to write") }
        try Self.checkLabels(predictions.map(\.label))
        for p in predictions where p.mask.width != display.width || p.mask.height != display.height {
            throw .invalid("mask of label \(p.label) is \(p.mask.width)x\(p.mask.height), image is \(display.width)x\(display.height)")
        }
        let single = predictions.count == 1
        var objects: [SegmentationSummary.Object] = []
        for p in predictions {
            let area = p.mask.area
            let rle = COCORLE(p.mask)
            objects.append(SegmentationSummary.Object(
                label: p.label, file: single ? Self.singleMaskFile : Self.maskFile(label: p.label), areaPixels: area,
                areaMM2: spacing.map { Double(area) * $0.x * $0.y },
                box: p.mask.boundingBox.map { [$0.x0, $0.y0, $0.x1 + 1, $0.y1 + 1] }, score: p.score,
                rle: SegmentationSummary.RLE(size: [rle.height, rle.width], counts: rle.compressedString)))
        }
        var files = objects.map(\.file)
        if !single { files.append(Self.labelsFile) }
        files += [Self.overlayFile, Self.summaryFile]
        var summary = SegmentationSummary(
            input: info.inputPath, format: info.format?.rawValue, kind: "image", size: [display.width, display.height],
            spacingMM: spacing.map { [$0.x, $0.y] }, model: info.modelName, intensity: info.intensity,
            timingsSeconds: info.timings.isEmpty ? nil : info.timings, objects: objects, files: files)
        summary.files = files

        try staged { stage throws(SegmentationOutputError) in
            for (p, o) in zip(predictions, objects) {
                try Self.writing(o.file) { () throws(MedImageError) in try p.mask.writePNG(to: stage.url(o.file)) }
            }
            if !single {
                var labelMap = [Float](repeating: 0, count: display.width * display.height)
                for p in predictions {
                    let value = Float(p.label)
                    p.mask.values.withUnsafeBufferPointer { m in
                        for i in 0..<m.count where m[i] != 0 { labelMap[i] = value }
                    }
                }
                try Self.writing(Self.labelsFile) { () throws(MedImageError) in
                    let image = try Image2D(width: display.width, height: display.height, channels: 1, pixels: labelMap)
                    try LabelMapPNG.write(image, to: stage.url(Self.labelsFile))
                }
            }
            try Self.writeOverlay(display, masks: predictions.map { ($0.mask, $0.label) }, prompts: prompts,
                                  to: stage.url(Self.overlayFile))
            try Self.writeSummary(summary, to: stage.url(Self.summaryFile))
            return files
        }
        return summary
    }

    // MARK: - Volume

    /// Writes the outputs of a propagated volume: the key slice's overlay, `labels.nii.gz` and the summary.
    /// - Parameters:
    ///   - keySliceDisplay: display image of `result.keySlice` (as given to the segmenter).
    ///   - prompts: the key-slice prompts, drawn on the overlay.
    ///   - qformCode, sformCode: NIfTI codes for the label file (`SegmentationInput.qformCode`/`sformCode`).
    @discardableResult
    public func writeVolume(_ result: PropagationResult, keySliceDisplay: Image2D, prompts: [ObjectPrompt] = [],
                            qformCode: Int = 1, sformCode: Int = 1, info: SegmentationRunInfo)
        throws(SegmentationOutputError) -> SegmentationSummary
    {
        try Self.checkLabels(result.objects.map(\.label))
        let labels = result.labels
        let keyLabels = try Self.writing("<key slice>") { () throws(MedImageError) in
            try labels.slice(result.axis, index: result.keySlice)
        }
        guard keyLabels.width == keySliceDisplay.width, keyLabels.height == keySliceDisplay.height else {
            throw .invalid("key slice display is \(keySliceDisplay.width)x\(keySliceDisplay.height), the volume's slice is \(keyLabels.width)x\(keyLabels.height)")
        }
        let voxelVolume = labels.spacing.x * labels.spacing.y * labels.spacing.z
        let stats = result.objects.map { o in
            SegmentationSummary.LabelStatistics(label: o.label, voxels: o.voxelCount,
                                                volumeMM3: Double(o.voxelCount) * voxelVolume,
                                                sliceRange: o.sliceRange.map { [$0.lowerBound, $0.upperBound] })
        }
        let files = [Self.overlayFile, Self.labelVolumeFile, Self.summaryFile]
        let summary = SegmentationSummary(
            input: info.inputPath, format: info.format?.rawValue, kind: "volume", size: [labels.nx, labels.ny, labels.nz],
            spacingMM: [labels.spacing.x, labels.spacing.y, labels.spacing.z], model: info.modelName,
            intensity: info.intensity, timingsSeconds: info.timings.isEmpty ? nil : info.timings,
            axis: result.axis.axisName, keySlice: result.keySlice, labels: stats, files: files)

        try staged { stage throws(SegmentationOutputError) in
            let masks = result.objects.map { (BinaryMask(labels: keyLabels, equalTo: Float($0.label)), $0.label) }
            try Self.writeOverlay(keySliceDisplay, masks: masks, prompts: prompts, to: stage.url(Self.overlayFile))
            try Self.writing(Self.labelVolumeFile) { () throws(MedImageError) in
                try NIfTI.writeLabelVolume(labels, to: stage.url(Self.labelVolumeFile), type: .uint8,
                                           qformCode: qformCode, sformCode: sformCode)
            }
            try Self.writeSummary(summary, to: stage.url(Self.summaryFile))
            return files
        }
        return summary
    }

    // MARK: - Helpers

    /// Runs `body` against a staging folder and commits the files it returns; discards everything on error.
    private func staged(_ body: (StagedOutputDirectory) throws(SegmentationOutputError) -> [String])
        throws(SegmentationOutputError)
    {
        let stage = try StagedOutputDirectory(target: directory)
        let files: [String]
        do { files = try body(stage) } catch {
            stage.discard()
            throw error
        }
        try stage.commit(files: files)
    }

    static func checkLabels(_ labels: [Int]) throws(SegmentationOutputError) {
        var seen = Set<Int>()
        for l in labels {
            guard (1...SegmentationPrompts.maximumLabel).contains(l) else {
                throw .invalid("label \(l) is outside 1...\(SegmentationPrompts.maximumLabel)")
            }
            guard seen.insert(l).inserted else { throw .invalid("label \(l) is used by two objects") }
        }
    }

    static func writing<T>(_ file: String, _ body: () throws(MedImageError) -> T) throws(SegmentationOutputError) -> T {
        do { return try body() } catch { throw .write(file: file, reason: error.message) }
    }

    static func writeOverlay(_ display: Image2D, masks: [(BinaryMask, Int)], prompts: [ObjectPrompt], to url: URL)
        throws(SegmentationOutputError)
    {
        var boxes: [PixelBox] = []
        var points: [PointPrompt] = []
        for p in prompts {
            if let b = p.box {
                let x0 = Int(b.x0.rounded(.down)), y0 = Int(b.y0.rounded(.down))
                boxes.append(PixelBox(x0: x0, y0: y0, x1: max(Int(b.x1.rounded(.up)) - 1, x0),
                                      y1: max(Int(b.y1.rounded(.up)) - 1, y0)))
            }
            points += p.points.map { PointPrompt(x: $0.x, y: $0.y, positive: $0.label == 1) }
        }
        try writing(overlayFile) { () throws(MedImageError) in
            try Overlay.write(display, masks: masks.map { (mask: $0.0, colour: Optional(colour(label: $0.1))) },
                              boxes: boxes, points: points, to: url)
        }
    }

    static func writeSummary(_ summary: SegmentationSummary, to url: URL) throws(SegmentationOutputError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(summary).write(to: url)
        } catch let error as EncodingError {
            if case .invalidValue(let value, _) = error {
                throw .write(file: summaryFile, reason: "cannot encode non-finite value \(value)")
            }
            throw .write(file: summaryFile, reason: "cannot encode")
        } catch {
            throw .write(file: summaryFile, reason: StagedOutputDirectory.reason(error))
        }
    }
}

/// Why outputs could not be written; each description is one line. Nothing was left behind.
public enum SegmentationOutputError: Error, CustomStringConvertible, Equatable {
    /// Predictions that cannot be written (size mismatch, bad or duplicate labels).
    case invalid(String)
    /// Writing one output file failed.
    case write(file: String, reason: String)
    /// The output folder could not be created or updated.
    case directory(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let message): return "cannot write outputs: \(message)"
        case .write(let file, let reason): return "cannot write \(file): \(reason)"
        case .directory(let path, let reason): return "output folder \(path): \(reason)"
        }
    }
}
