import Foundation
import MedImage
import XCTest

@testable import SyncSAM

final class SegmentationOutputTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = try SegmentationTestData.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    private func listing(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    private func mask(width: Int = 20, height: Int = 10, _ inside: (Int, Int) -> Bool) throws -> BinaryMask {
        var v = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width where inside(x, y) { v[y * width + x] = 1 } }
        return try BinaryMask(width: width, height: height, values: v)
    }

    /// A 20x10 RGB display image with distinct values.
    private func displayImage() throws -> Image2D {
        try Image2D(width: 20, height: 10, channels: 3, pixels: (0..<600).map { Float(($0 * 7) % 200 + 20) })
    }

    private func twoObjects() throws -> [ObjectPrediction] {
        let a = try mask { x, y in (2...7).contains(x) && (1...4).contains(y) }  // 24 px
        let b = try mask { x, y in (6...12).contains(x) && (3...8).contains(y) && !(x == 12 && y == 8) }  // 41 px
        return [ObjectPrediction(label: 1, mask: a, score: 0.875), ObjectPrediction(label: 2, mask: b)]
    }

    private func readSummary(_ dir: URL) throws -> SegmentationSummary {
        try JSONDecoder().decode(SegmentationSummary.self, from: Data(contentsOf: dir.appendingPathComponent("summary.json")))
    }

    func testTwoObjectsWriteFixedNamesLabelsAndSummary() throws {
        let out = scratch.appendingPathComponent("out")
        let predictions = try twoObjects()
        let prompts = [ObjectPrompt(box: .init(x0: 1, y0: 0, x1: 9, y1: 6), label: 1),
                       ObjectPrompt(points: [.init(x: 9, y: 6), .init(x: 17, y: 1, label: 0)], label: 2)]
        let display = try displayImage()
        let info = SegmentationRunInfo(inputPath: "/data/case.png", format: .png, modelName: "syncsam-34",
                                       intensity: "as stored (0-255)", timings: ["encode": 1.5, "decode": 0.25])
        let written = try SegmentationOutputWriter(directory: out).writeImage(
            display: display, predictions: predictions, prompts: prompts, spacing: PixelSpacing(x: 0.5, y: 0.25),
            info: info)

        XCTAssertEqual(listing(out), ["labels.png", "mask_1.png", "mask_2.png", "overlay.png", "summary.json"])
        XCTAssertEqual(listing(scratch), ["out"])  // no staging folder left
        for p in predictions {
            let png = try PNGCodec.read(out.appendingPathComponent("mask_\(p.label).png"))
            XCTAssertEqual(png.pixels, p.mask.values.map { $0 == 1 ? 255 : 0 })
        }
        // Label map: object 2 wins where the masks overlap (columns 6-7, rows 3-4).
        let labels = try PNGCodec.read(out.appendingPathComponent("labels.png"))
        XCTAssertEqual([labels.width, labels.height, labels.channels], [20, 10, 1])
        for y in 0..<10 {
            for x in 0..<20 {
                let i = y * 20 + x
                let expected: Float = predictions[1].mask.values[i] == 1 ? 2 : (predictions[0].mask.values[i] == 1 ? 1 : 0)
                XCTAssertEqual(labels.pixels[i], expected, "(\(x), \(y))")
            }
        }
        XCTAssertEqual(labels.pixels.filter { $0 == 1 }.count, 20)

        let summary = try readSummary(out)
        XCTAssertEqual(summary, written)
        XCTAssertEqual(summary.input, "/data/case.png")
        XCTAssertEqual(summary.kind, "image")
        XCTAssertEqual(summary.size, [20, 10])
        XCTAssertEqual(summary.spacingMM, [0.5, 0.25])
        XCTAssertEqual(summary.model, "syncsam-34")
        XCTAssertEqual(summary.timingsSeconds, ["encode": 1.5, "decode": 0.25])
        XCTAssertEqual(summary.files, ["mask_1.png", "mask_2.png", "labels.png", "overlay.png", "summary.json"])
        let objects = try XCTUnwrap(summary.objects)
        XCTAssertEqual(objects.map(\.label), [1, 2])
        XCTAssertEqual(objects.map(\.file), ["mask_1.png", "mask_2.png"])
        XCTAssertEqual(objects.map(\.areaPixels), [24, 41])
        XCTAssertEqual(objects.map(\.areaMM2), [3.0, 5.125])
        XCTAssertEqual(objects.map(\.box), [[2, 1, 8, 5], [6, 3, 13, 9]])
        XCTAssertEqual(objects.map(\.score), [0.875, nil])
        for (o, p) in zip(objects, predictions) {
            XCTAssertEqual(o.rle.size, [10, 20])
            let decoded = try COCORLE(height: o.rle.size[0], width: o.rle.size[1], compressed: o.rle.counts).mask()
            XCTAssertEqual(decoded, p.mask)
        }
        // The JSON keys are the documented snake_case names.
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any]
        let first = try XCTUnwrap((raw?["objects"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(first.keys), ["label", "file", "area_px", "area_mm2", "box", "score", "rle"])
        XCTAssertNotNil(raw?["spacing_mm"])
        XCTAssertNotNil(raw?["timings_s"])

        // Overlay: background untouched, the outline of object 1 in its colour, the box outline in yellow.
        let overlay = try PNGCodec.read(out.appendingPathComponent("overlay.png"))
        XCTAssertEqual([overlay.width, overlay.height, overlay.channels], [20, 10, 3])
        let background = (9 * 20 + 0) * 3
        XCTAssertEqual(Array(overlay.pixels[background..<(background + 3)]), Array(display.pixels[background..<(background + 3)]))
        let c1 = SegmentationOutputWriter.colour(label: 1)
        let outline = (4 * 20 + 4) * 3  // (4, 4): bottom row of mask 1, not covered by mask 2 or the box
        XCTAssertEqual(Array(overlay.pixels[outline..<(outline + 3)]), [Float(c1.r), Float(c1.g), Float(c1.b)])
        let inside = (2 * 20 + 4) * 3  // (4, 2): inside mask 1, blended 55 % image, 45 % colour
        for c in 0..<3 {
            let colour = Float([c1.r, c1.g, c1.b][c])
            XCTAssertEqual(overlay.pixels[inside + c], (display.pixels[inside + c] * 0.55 + colour * 0.45).rounded(),
                           accuracy: 1)
        }
        let corner = (0 * 20 + 1) * 3  // the box's top-left corner (1, 0)
        XCTAssertEqual(Array(overlay.pixels[corner..<(corner + 3)]), [255, 255, 0])
    }

    func testOneObjectWritesMaskPNGAndNoLabelMap() throws {
        let out = scratch.appendingPathComponent("single")
        let prediction = try twoObjects()[0]
        let summary = try SegmentationOutputWriter(directory: out).writeImage(
            display: try displayImage(), predictions: [prediction], info: SegmentationRunInfo(inputPath: "x.png"))
        XCTAssertEqual(listing(out), ["mask.png", "overlay.png", "summary.json"])
        XCTAssertEqual(summary.objects?.map(\.file), ["mask.png"])
        XCTAssertNil(summary.spacingMM)
        XCTAssertNil(summary.objects?[0].areaMM2)
        XCTAssertNil(summary.timingsSeconds)
        XCTAssertEqual(try PNGCodec.read(out.appendingPathComponent("mask.png")).pixels,
                       prediction.mask.values.map { $0 == 1 ? 255 : 0 })
    }

    func testAFailureMidwayLeavesNothingBehind() throws {
        var predictions = try twoObjects()
        predictions[1].score = .nan  // summary.json, written last, cannot hold it
        let out = scratch.appendingPathComponent("nested/out")
        XCTAssertThrowsError(try SegmentationOutputWriter(directory: out).writeImage(
            display: try displayImage(), predictions: predictions, info: SegmentationRunInfo(inputPath: "x.png"))) { error in
            XCTAssertEqual("\(error)", "cannot write summary.json: cannot encode non-finite value nan")
        }
        XCTAssertEqual(listing(scratch), [])  // neither out, nor its new parent, nor a staging folder

        // An unwritable target: the parent is a file.
        let file = scratch.appendingPathComponent("file.txt")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try SegmentationOutputWriter(directory: file.appendingPathComponent("out")).writeImage(
            display: try displayImage(), predictions: try twoObjects(), info: SegmentationRunInfo(inputPath: "x.png"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("output folder \(file.path)/out: cannot create output folder"), "\(error)")
        }
        XCTAssertThrowsError(try SegmentationOutputWriter(directory: file).writeImage(
            display: try displayImage(), predictions: try twoObjects(), info: SegmentationRunInfo(inputPath: "x.png"))) { error in
            XCTAssertEqual("\(error)", "output folder \(file.path): exists and is not a folder")
        }
        XCTAssertEqual(listing(scratch), ["file.txt"])

        // Invalid predictions are refused before anything is written.
        var clash = try twoObjects()
        clash[1].label = 1
        XCTAssertThrowsError(try SegmentationOutputWriter(directory: scratch.appendingPathComponent("o")).writeImage(
            display: try displayImage(), predictions: clash, info: SegmentationRunInfo(inputPath: "x.png"))) { error in
            XCTAssertEqual("\(error)", "cannot write outputs: label 1 is used by two objects")
        }
        XCTAssertEqual(listing(scratch), ["file.txt"])
    }

    func testAnExistingFolderIsReplacedWhollyOrNotAtAll() throws {
        let out = scratch.appendingPathComponent("out")
        let writer = SegmentationOutputWriter(directory: out)
        let one = try twoObjects()[0]
        try writer.writeImage(display: try displayImage(), predictions: [one], info: SegmentationRunInfo(inputPath: "first.png"))
        try Data("keep me".utf8).write(to: out.appendingPathComponent("notes.txt"))
        let before = try listing(out).map { try Data(contentsOf: out.appendingPathComponent($0)) }

        var failing = try twoObjects()
        failing[0].score = .infinity
        XCTAssertThrowsError(try writer.writeImage(display: try displayImage(), predictions: failing,
                                                   info: SegmentationRunInfo(inputPath: "second.png")))
        XCTAssertEqual(listing(out), ["mask.png", "notes.txt", "overlay.png", "summary.json"])
        XCTAssertEqual(try listing(out).map { try Data(contentsOf: out.appendingPathComponent($0)) }, before)
        XCTAssertEqual(listing(scratch), ["out"])

        // A successful run replaces the previous outputs (the stale mask.png goes) and keeps other files.
        try writer.writeImage(display: try displayImage(), predictions: try twoObjects(),
                              info: SegmentationRunInfo(inputPath: "third.png"))
        XCTAssertEqual(listing(out), ["labels.png", "mask_1.png", "mask_2.png", "notes.txt", "overlay.png", "summary.json"])
        XCTAssertEqual(try readSummary(out).input, "third.png")
        XCTAssertEqual(listing(scratch), ["out"])
        XCTAssertTrue(SegmentationOutputWriter.isOutputFileName("mask_12.png"))
        XCTAssertFalse(SegmentationOutputWriter.isOutputFileName("mask_a.png"))
        XCTAssertFalse(SegmentationOutputWriter.isOutputFileName("notes.txt"))
    }

    func testVolumeOutputsAndSummary() throws {
        var labels = try Volume(nx: 6, ny: 5, nz: 4, voxels: [Float](repeating: 0, count: 120), spacing: SIMD3(2, 2, 3),
                                affine: Matrix4(rowMajor: [2, 0, 0, 10, 0, 2, 0, -20, 0, 0, 3, 30, 0, 0, 0, 1]))
        for (x, y, z) in [(1, 1, 1), (2, 1, 1), (1, 2, 2), (2, 2, 2), (3, 2, 2)] { labels[x, y, z] = 1 }
        labels[4, 4, 2] = 2
        let key = try BinaryMask(labels: labels.slice(.z, index: 2), equalTo: 1)
        let result = PropagationResult(labels: labels, axis: .z, keySlice: 2, objects: [
            PropagatedObject(label: 1, keySliceMask: key, sliceRange: 1...2, voxelCount: 5),
            PropagatedObject(label: 2, keySliceMask: try BinaryMask(labels: labels.slice(.z, index: 2), equalTo: 2),
                             sliceRange: 2...2, voxelCount: 1),
        ])
        let out = scratch.appendingPathComponent("vol")
        let display = DisplayIntensity.asIs.apply(try Image2D(zeros: 6, height: 5))
        let summary = try SegmentationOutputWriter(directory: out).writeVolume(
            result, keySliceDisplay: display, prompts: [ObjectPrompt(box: .init(x0: 1, y0: 2, x1: 4, y1: 3))],
            qformCode: 1, sformCode: 2, info: SegmentationRunInfo(inputPath: "ct.nii.gz", format: .nifti))
        XCTAssertEqual(listing(out), ["labels.nii.gz", "overlay.png", "summary.json"])
        XCTAssertEqual(try readSummary(out), summary)
        XCTAssertEqual(summary.kind, "volume")
        XCTAssertEqual(summary.size, [6, 5, 4])
        XCTAssertEqual(summary.spacingMM, [2, 2, 3])
        XCTAssertEqual(summary.axis, "z")
        XCTAssertEqual(summary.keySlice, 2)
        XCTAssertNil(summary.objects)
        XCTAssertEqual(summary.labels, [
            .init(label: 1, voxels: 5, volumeMM3: 60, sliceRange: [1, 2]),
            .init(label: 2, voxels: 1, volumeMM3: 12, sliceRange: [2, 2]),
        ])
        let back = try NIfTI.read(out.appendingPathComponent("labels.nii.gz"))
        XCTAssertEqual(back.volume.voxels, labels.voxels)
        XCTAssertEqual(back.volume.affine, labels.affine)
        XCTAssertEqual([back.header.qformCode, back.header.sformCode], [1, 2])
        let overlay = try PNGCodec.read(out.appendingPathComponent("overlay.png"))
        XCTAssertEqual([overlay.width, overlay.height], [6, 5])
        let c2 = SegmentationOutputWriter.colour(label: 2)
        XCTAssertEqual(Array(overlay.pixels[((4 * 6 + 4) * 3)..<((4 * 6 + 4) * 3 + 3)]), [Float(c2.r), Float(c2.g), Float(c2.b)])
        XCTAssertEqual(Array(overlay.pixels[((2 * 6 + 2) * 3)..<((2 * 6 + 2) * 3 + 3)]), [255, 255, 0])  // box outline
    }

    func testVolumeFailureMidwayLeavesNothingBehind() throws {
        // 32768 columns fit a PNG overlay but not NIfTI-1 (dimensions <= 32767): labels.nii.gz fails after
        // overlay.png was written.
        let wide = try Volume(nx: 32768, ny: 1, nz: 2, voxels: [Float](repeating: 0, count: 65536), spacing: SIMD3(1, 1, 1),
                              affine: .identity)
        let empty = try BinaryMask(width: 32768, height: 1, values: [UInt8](repeating: 0, count: 32768))
        let result = PropagationResult(labels: wide, axis: .z, keySlice: 0,
                                       objects: [PropagatedObject(label: 1, keySliceMask: empty, sliceRange: nil, voxelCount: 0)])
        let out = scratch.appendingPathComponent("vol")
        XCTAssertThrowsError(try SegmentationOutputWriter(directory: out).writeVolume(
            result, keySliceDisplay: DisplayIntensity.asIs.apply(try Image2D(zeros: 32768, height: 1)),
            info: SegmentationRunInfo(inputPath: "wide.nii"))) { error in
            XCTAssertEqual("\(error)", "cannot write labels.nii.gz: volume too large for NIfTI-1 (dimension > 32767)")
        }
        XCTAssertEqual(listing(scratch), [])
    }

    /// Load, propagate with a fake segmenter, write, read back: the label file keeps the source's grid.
    private func roundTrip(_ input: SegmentationInput, keySlice: Int, box: ObjectPrompt.Box, threshold: Float)
        throws -> (result: PropagationResult, back: NIfTIImage)
    {
        let volume = try XCTUnwrap(input.volume)
        let prompt = ObjectPrompt(box: box, label: 1)
        let result = try VolumePropagation(volume: volume, display: input.display)
            .run(keySlice: keySlice, objects: [prompt], segmenter: thresholdInsideBox(threshold))
        XCTAssertGreaterThan(result.objects[0].voxelCount, 100)
        let out = scratch.appendingPathComponent("rt-\(input.url.lastPathComponent)")
        try SegmentationOutputWriter(directory: out).writeVolume(
            result, keySliceDisplay: try input.displaySlice(.z, index: keySlice), prompts: [prompt],
            qformCode: input.qformCode, sformCode: input.sformCode, info: SegmentationRunInfo(input: input))
        let back = try NIfTI.read(out.appendingPathComponent("labels.nii.gz"))
        XCTAssertEqual(back.volume.voxels, result.labels.voxels)
        XCTAssertEqual([back.volume.nx, back.volume.ny, back.volume.nz], [volume.nx, volume.ny, volume.nz])
        let summary = try readSummary(out)
        XCTAssertEqual(summary.labels?.first?.voxels, result.objects[0].voxelCount)
        XCTAssertEqual(summary.intensity, "window level 40 width 400")
        return (result, back)
    }

    func testLabelVolumeKeepsTheNIfTIGeometry() throws {
        let url = try SegmentationTestData.reader("nifti/example_ct_sm.nii.gz")
        let input = try SegmentationInput.load(url)
        let source = try NIfTI.read(url)
        // Bright (> 240 HU) structures inside the middle of slice 15.
        let (_, back) = try roundTrip(input, keySlice: 15, box: .init(x0: 20, y0: 20, x1: 100, y1: 80), threshold: 254)
        XCTAssertEqual(back.header.affine, source.header.affine)  // both float32 sforms: exact
        XCTAssertEqual([back.header.qformCode, back.header.sformCode], [0, 2])
        XCTAssertEqual(back.volume.spacing, source.volume.spacing)
    }

    func testLabelVolumeKeepsTheDICOMSeriesGeometry() throws {
        let input = try SegmentationInput.load(try SegmentationTestData.reader("dicom/ct_series_totalseg"))
        let volume = try XCTUnwrap(input.volume)
        let (_, back) = try roundTrip(input, keySlice: 10, box: .init(x0: 150, y0: 150, x1: 350, y1: 350), threshold: 254)
        XCTAssertLessThan(back.volume.affine.maxAbsDifference(volume.affine), 1e-4)
        XCTAssertEqual([back.header.qformCode, back.header.sformCode], [1, 1])
        let origin = back.volume.originLPS
        XCTAssertEqual(origin.x, -249.51171875, accuracy: 1e-4)
        XCTAssertEqual(origin.y, -437.51171875, accuracy: 1e-4)
        XCTAssertEqual(origin.z, -804.5, accuracy: 1e-4)
        XCTAssertEqual(back.volume.spacing.z, 2, accuracy: 1e-6)
    }
}
