import Foundation
import MedImage
import SyncTestSupport
import XCTest

@testable import SyncSAM

/// Shared test data for the segmentation tests: `$SYNCSAM_SHARED`, else `../shared` beside the repository.
enum SegmentationTestData {
    static func shared() throws -> URL {
        let shared = try TestLocations.requireShared()
        guard FileManager.default.fileExists(atPath: shared.appendingPathComponent("data/readers").path) else {
            throw XCTSkip("\(shared.path)/data/readers not found; set SYNCSAM_SHARED")
        }
        return shared
    }

    static func reader(_ path: String) throws -> URL {
        try shared().appendingPathComponent("data/readers").appendingPathComponent(path)
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("syncsam-seg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// NumPy's default percentile (linear interpolation) of the non-zero values, written independently of MedImage.
    static func nonZeroPercentile(_ values: [Float], _ q: Double) -> Double {
        let sorted = values.filter { $0 != 0 }.map(Double.init).sorted()
        let rank = q / 100 * Double(sorted.count - 1)
        let lo = Int(rank.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - Double(lo))
    }
}

final class SegmentationInputTests: XCTestCase {
    /// Display value a window gives a raw value, computed exactly (uint8 truncation).
    private func windowed(_ v: Double, lower: Double, upper: Double) -> Double {
        if v <= lower { return 0 }
        if v >= upper { return 255 }
        return ((v - lower) / (upper - lower) * 255).rounded(.down)
    }

    /// Every display pixel is grey replicated to RGB and within one level of the exact windowed value (the exact
    /// bounds map to 0 and 255).
    private func assertWindowed(raw: Image2D, display: Image2D, lower: Double, upper: Double, keepZero: Bool = false,
                                file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertEqual(display.channels, 3, file: file, line: line)
        XCTAssertEqual(display.width, raw.width, file: file, line: line)
        XCTAssertEqual(display.height, raw.height, file: file, line: line)
        var worst = 0.0
        for i in 0..<(raw.width * raw.height) {
            let v = Double(raw.pixels[i])
            let expected = keepZero && v == 0 ? 0 : windowed(v, lower: lower, upper: upper)
            let d = display.pixels[3 * i]
            XCTAssertEqual(d, display.pixels[3 * i + 1], file: file, line: line)
            XCTAssertEqual(d, display.pixels[3 * i + 2], file: file, line: line)
            worst = max(worst, abs(Double(d) - expected))
            if v <= lower || v >= upper || (keepZero && v == 0) {
                XCTAssertEqual(Double(d), expected, "raw \(v) at \(i)", file: file, line: line)
            }
        }
        XCTAssertLessThanOrEqual(worst, 1, file: file, line: line)
    }

    func testDICOMSeriesIsACTVolumeShownWithTheSoftTissueWindow() throws {
        let input = try SegmentationInput.load(try SegmentationTestData.reader("dicom/ct_series_totalseg"))
        XCTAssertEqual(input.format, .dicomSeries)
        XCTAssertEqual(input.modality, "CT")
        let volume = try XCTUnwrap(input.volume)
        XCTAssertEqual([volume.nx, volume.ny, volume.nz], [512, 512, 20])
        XCTAssertEqual(volume.spacing.x, 0.9765625, accuracy: 1e-9)
        XCTAssertEqual(volume.spacing.y, 0.9765625, accuracy: 1e-9)
        XCTAssertEqual(volume.spacing.z, 2.0, accuracy: 1e-9)
        XCTAssertEqual(input.sliceCount(.z), 20)
        XCTAssertEqual(input.pixelSpacing, PixelSpacing(x: 0.9765625, y: 0.9765625))
        // First sorted slice at IPP (-249.51171875, -437.51171875, -804.5) LPS.
        let origin = volume.originLPS
        XCTAssertEqual(origin.x, -249.51171875, accuracy: 1e-6)
        XCTAssertEqual(origin.y, -437.51171875, accuracy: 1e-6)
        XCTAssertEqual(origin.z, -804.5, accuracy: 1e-6)
        XCTAssertEqual(input.display.rule, .window(.softTissue))
        XCTAssertEqual(input.display.description, "window level 40 width 400")

        // Real voxels at exactly -160, 40 and 240 HU display as 0, 127 and 255.
        for (hu, expected) in [(Float(-160), Float(0)), (40, 127), (240, 255)] {
            let index = try XCTUnwrap(volume.voxels.firstIndex(of: hu), "no voxel at \(hu) HU")
            let x = index % 512, y = (index / 512) % 512, z = index / (512 * 512)
            let display = try input.displaySlice(.z, index: z)
            XCTAssertEqual(display[y, x, 0], expected, "\(hu) HU")
        }
        let z = 10
        assertWindowed(raw: try volume.slice(.z, index: z), display: try input.displaySlice(.z, index: z),
                       lower: -160, upper: 240)
        XCTAssertThrowsError(try input.displaySlice(.z, index: 20)) { error in
            XCTAssertEqual("\(error)", "slice 20 is outside the volume (0...19 along z)")
        }
        XCTAssertThrowsError(try input.displayImage()) { error in
            XCTAssertEqual("\(error)", "ct_series_totalseg is a volume: choose a slice (axis and index)")
        }
    }

    func testSingleCTFileIsA2DImageInHU() throws {
        let input = try SegmentationInput.load(try SegmentationTestData.reader("dicom/CT_small.dcm"))
        XCTAssertEqual(input.format, .dicom)
        XCTAssertEqual(input.modality, "CT")
        XCTAssertFalse(input.isVolume)
        let image = try XCTUnwrap(input.image)
        XCTAssertEqual([image.width, image.height, image.channels], [128, 128, 1])
        XCTAssertEqual(input.pixelSpacing?.x ?? 0, 0.661468, accuracy: 1e-9)
        XCTAssertEqual(input.pixelSpacing?.y ?? 0, 0.661468, accuracy: 1e-9)
        XCTAssertEqual(input.display.rule, .window(.softTissue))
        assertWindowed(raw: image, display: try input.displayImage(), lower: -160, upper: 240)
    }

    func testCTNIfTIIsRecognisedByItsHUValues() throws {
        let url = try SegmentationTestData.reader("nifti/example_ct_sm.nii.gz")
        let input = try SegmentationInput.load(url)
        XCTAssertEqual(input.format, .nifti)
        XCTAssertEqual(input.modality, "CT")
        let volume = try XCTUnwrap(input.volume)
        XCTAssertEqual([volume.nx, volume.ny, volume.nz], [122, 101, 30])
        XCTAssertEqual(volume.spacing, SIMD3(3, 3, 3))
        XCTAssertEqual(volume.affine.translation.x, -177.95632934570312, accuracy: 1e-9)
        XCTAssertEqual([input.qformCode, input.sformCode], [0, 2])
        XCTAssertEqual(input.display.rule, .window(.softTissue))
        assertWindowed(raw: try volume.slice(.z, index: 15), display: try input.displaySlice(.z, index: 15),
                       lower: -160, upper: 240)
        // Slices along x are ny wide and nz high.
        let sagittal = try input.displaySlice(.x, index: 60)
        XCTAssertEqual([sagittal.width, sagittal.height], [101, 30])
    }

    func testMRNIfTIUsesPercentilesOfTheWholeVolume() throws {
        let input = try SegmentationInput.load(try SegmentationTestData.reader("nifti/anatomical.nii"))
        XCTAssertNil(input.modality)
        let volume = try XCTUnwrap(input.volume)
        XCTAssertEqual([volume.nx, volume.ny, volume.nz], [33, 41, 25])
        XCTAssertEqual(volume.spacing, SIMD3(2, 2, 2))
        XCTAssertEqual([input.qformCode, input.sformCode], [2, 2])
        XCTAssertEqual(input.display.rule, .percentile(low: 0.5, high: 99.5))
        let lower = SegmentationTestData.nonZeroPercentile(volume.voxels, 0.5)
        let upper = SegmentationTestData.nonZeroPercentile(volume.voxels, 99.5)
        XCTAssertEqual(input.display.lower, lower, accuracy: 1e-9)
        XCTAssertEqual(input.display.upper, upper, accuracy: 1e-9)
        XCTAssertLessThan(lower, upper)
        // Every slice uses the volume's bounds (an edge slice is not stretched to its own range); zeros stay 0.
        for z in [0, 12, 24] {
            assertWindowed(raw: try volume.slice(.z, index: z), display: try input.displaySlice(.z, index: z),
                           lower: lower, upper: upper, keepZero: true)
        }
    }

    func testSingleSliceNRRDIsA2DImageWithItsSpacing() throws {
        let input = try SegmentationInput.load(try SegmentationTestData.reader("nrrd/sonivate-anechoic_1-1.nrrd"))
        XCTAssertEqual(input.format, .nrrd)
        XCTAssertFalse(input.isVolume)
        let image = try XCTUnwrap(input.image)
        XCTAssertEqual([image.width, image.height], [512, 512])
        XCTAssertEqual(input.pixelSpacing?.x ?? 0, 0.07760155946016312, accuracy: 1e-12)
        XCTAssertEqual(input.pixelSpacing?.y ?? 0, 0.07760155946016312, accuracy: 1e-12)
        XCTAssertEqual(input.display.rule, .percentile(low: 0.5, high: 99.5))
        XCTAssertEqual(input.display.lower, SegmentationTestData.nonZeroPercentile(image.pixels, 0.5), accuracy: 1e-9)
        XCTAssertEqual(input.display.upper, SegmentationTestData.nonZeroPercentile(image.pixels, 99.5), accuracy: 1e-9)
        assertWindowed(raw: image, display: try input.displayImage(), lower: input.display.lower,
                       upper: input.display.upper, keepZero: true)
    }

    func testSixteenBitPNGKeepsItsRangeThroughPercentiles() throws {
        let input = try SegmentationInput.load(try SegmentationTestData.reader("png/totalseg_ct_sm_z15_HUplus32768.png"))
        XCTAssertEqual(input.format, .png)
        let image = try XCTUnwrap(input.image)
        XCTAssertEqual([image.width, image.height, image.channels], [122, 101, 1])
        XCTAssertEqual(image[50, 61], 32768)  // expected.json sample [50, 61]
        XCTAssertNil(input.pixelSpacing)
        XCTAssertEqual(input.display.rule, .percentile(low: 0.5, high: 99.5))
        let lower = SegmentationTestData.nonZeroPercentile(image.pixels, 0.5)
        let upper = SegmentationTestData.nonZeroPercentile(image.pixels, 99.5)
        XCTAssertEqual(input.display.lower, lower, accuracy: 1e-9)
        XCTAssertEqual(input.display.upper, upper, accuracy: 1e-9)
        // Inside the file's range 31723...33512: nothing was cut to 8 bits before the mapping.
        XCTAssertGreaterThan(lower, 31723)
        XCTAssertLessThan(upper, 33512)
        assertWindowed(raw: image, display: try input.displayImage(), lower: lower, upper: upper)
    }

    func testEightBitImagesAreShownAsStored() throws {
        let grey = try SegmentationInput.load(try SegmentationTestData.reader("png/BrainMidSagittalSlice_grey8.png"))
        XCTAssertEqual(grey.display, .asIs)
        let greyDisplay = try grey.displayImage()
        XCTAssertEqual([greyDisplay.width, greyDisplay.height, greyDisplay.channels], [217, 180, 3])
        XCTAssertEqual(greyDisplay.pixels, try XCTUnwrap(grey.image).pixels.flatMap { [$0, $0, $0] })
        XCTAssertEqual([greyDisplay[90, 108, 0], greyDisplay[29, 59, 1]], [37, 241])

        let colour = try SegmentationInput.load(try SegmentationTestData.reader("jpeg/retina.jpg"))
        XCTAssertEqual(colour.format, .jpeg)
        XCTAssertEqual(colour.display, .asIs)
        let rgb = try colour.displayImage()
        XCTAssertEqual([rgb.width, rgb.height, rgb.channels], [1411, 1411, 3])
        XCTAssertEqual(rgb.pixels, try XCTUnwrap(colour.image).pixels)
        for (c, v) in [Float(187), 46, 26].enumerated() { XCTAssertEqual(rgb[705, 705, c], v, accuracy: 20) }
    }

    func testMonochrome1IsInvertedForDisplay() throws {
        let input = try SegmentationInput.load(try SegmentationTestData.reader("dicom/RG1_UNCR.dcm"))
        XCTAssertEqual(input.modality, "CR")
        XCTAssertTrue(input.display.inverted)
        XCTAssertNil(input.pixelSpacing)  // PixelSpacing 0.000\0.000 is invalid
        let image = try XCTUnwrap(input.image)
        XCTAssertEqual([image.width, image.height], [1841, 1955])
        var upright = input.display
        upright.inverted = false
        let plain = upright.apply(image), shown = try input.displayImage()
        XCTAssertEqual(shown.pixels, plain.pixels.map { 255 - $0 })
        // The highest stored value (white in MONOCHROME2) shows black.
        let brightest = try XCTUnwrap(image.pixels.indices.max { image.pixels[$0] < image.pixels[$1] })
        XCTAssertEqual(shown.pixels[3 * brightest], 0)
    }

    func testExplicitWindowReplacesTheDefault() throws {
        let lung = try SegmentationInput.load(try SegmentationTestData.reader("dicom/CT_small.dcm"),
                                              window: DisplayIntensity.parseWindow("lung"))
        XCTAssertEqual(lung.display.rule, .window(.lung))
        XCTAssertEqual([lung.display.lower, lung.display.upper], [-1350, 150])
        assertWindowed(raw: try XCTUnwrap(lung.image), display: try lung.displayImage(), lower: -1350, upper: 150)

        let custom = try SegmentationInput.load(try SegmentationTestData.reader("nifti/anatomical.nii"),
                                                window: DisplayIntensity.parseWindow("300,200"))
        XCTAssertEqual([custom.display.lower, custom.display.upper], [200, 400])
    }

    func testWindowParsing() throws {
        XCTAssertEqual(try DisplayIntensity.parseWindow("soft"), IntensityWindow(level: 40, width: 400))
        XCTAssertEqual(try DisplayIntensity.parseWindow("lung"), IntensityWindow(level: -600, width: 1500))
        XCTAssertEqual(try DisplayIntensity.parseWindow("bone"), IntensityWindow(level: 400, width: 1800))
        XCTAssertEqual(try DisplayIntensity.parseWindow("Brain"), IntensityWindow(level: 40, width: 80))
        XCTAssertEqual(try DisplayIntensity.parseWindow("-600, 1500"), IntensityWindow(level: -600, width: 1500))
        for bad in ["liver", "40", "40,0", "40,-10", "40,abc", "40,400,1", "nan,400"] {
            XCTAssertThrowsError(try DisplayIntensity.parseWindow(bad)) { error in
                XCTAssertEqual("\(error)", "invalid --window \"\(bad)\": expected soft, lung, bone, brain or LEVEL,WIDTH with WIDTH > 0 (e.g. 40,400)")
            }
        }
    }

    func testErrorsAreOneLineAndNameTheProblem() throws {
        let dir = try SegmentationTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nothing.nii.gz")
        XCTAssertThrowsError(try SegmentationInput.load(missing)) { error in
            XCTAssertEqual("\(error)", "\(missing.path): no such file or folder")
        }
        let text = dir.appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: text)
        XCTAssertThrowsError(try SegmentationInput.load(text)) { error in
            XCTAssertEqual("\(error)", "\(text.path): unsupported input (unrecognised .txt file); expected PNG, JPEG, NIfTI (.nii/.nii.gz), NRRD (.nrrd), DICOM file or DICOM series folder")
        }
        let compressed = try SegmentationTestData.reader("dicom/compressed/JPEG2000_MR_small_jp2klossless.dcm")
        XCTAssertThrowsError(try SegmentationInput.load(compressed)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("JPEG2000_MR_small_jp2klossless.dcm: "), message)
            XCTAssertTrue(message.contains("1.2.840.10008.1.2.4.90"), message)
            XCTAssertFalse(message.contains("\n"))
        }
        XCTAssertThrowsError(try SegmentationInput.load(try SegmentationTestData.reader("broken/anatomical_truncated.nii"))) { error in
            XCTAssertEqual("\(error)", "anatomical_truncated.nii: truncated: expected 67650 bytes of voxel data after vox_offset 352, found 33825")
        }
        let image = try SegmentationInput.load(try SegmentationTestData.reader("png/BrainMidSagittalSlice_grey8.png"))
        XCTAssertThrowsError(try image.displaySlice(.z, index: 0)) { error in
            XCTAssertEqual("\(error)", "BrainMidSagittalSlice_grey8.png is a 2-D image: it has no slices")
        }
    }

    func testHUHeuristic() {
        XCTAssertTrue(SegmentationInput.looksLikeHU([-1024, 0, 400]))
        XCTAssertTrue(SegmentationInput.looksLikeHU([-3024, 12]))
        XCTAssertFalse(SegmentationInput.looksLikeHU([0, 1200]))  // MR
        XCTAssertFalse(SegmentationInput.looksLikeHU([-32768, -1000, 100]))  // signed phase data
        XCTAssertFalse(SegmentationInput.looksLikeHU([-20, 300]))
        XCTAssertFalse(SegmentationInput.looksLikeHU([]))
        // 1 value of 200 at -1000 HU is 0.5 % air; 1 of 201 is not.
        XCTAssertTrue(SegmentationInput.looksLikeHU([-1000] + [Float](repeating: 40, count: 199)))
        XCTAssertFalse(SegmentationInput.looksLikeHU([-1000] + [Float](repeating: 40, count: 200)))
    }

    func testBatchListsSupportedInputsWithUniqueStems() throws {
        let dir = try SegmentationTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let links: [(String, String)] = [
            ("a.png", "png/BrainMidSagittalSlice_grey8.png"), ("a.jpg", "jpeg/retina.jpg"),
            ("ct.nii.gz", "nifti/example_ct_sm.nii.gz"), ("series", "dicom/ct_series_totalseg"),
            (".hidden.png", "png/BrainMidSagittalSlice_grey8.png"), ("scan", "dicom/CT_small.dcm"),
        ]
        for (name, target) in links {
            try fm.createSymbolicLink(at: dir.appendingPathComponent(name),
                                      withDestinationURL: try SegmentationTestData.reader(target))
        }
        try Data("{}".utf8).write(to: dir.appendingPathComponent("prompts.json"))
        try fm.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: false)

        let items = try SegmentationBatch.items(in: dir)
        XCTAssertEqual(items.map(\.url.lastPathComponent), ["a.jpg", "a.png", "ct.nii.gz", "scan", "series"])
        XCTAssertEqual(items.map(\.format), [.jpeg, .png, .nifti, .dicom, .dicomSeries])
        XCTAssertEqual(items.map(\.stem), ["a_jpg", "a_png", "ct", "scan", "series"])
        let out = URL(fileURLWithPath: "/tmp/out")
        XCTAssertEqual(items[2].outputDirectory(in: out).path, "/tmp/out/ct")

        XCTAssertThrowsError(try SegmentationBatch.items(in: dir.appendingPathComponent("empty"))) { error in
            XCTAssertTrue("\(error)".hasSuffix("empty: no supported inputs (PNG, JPEG, NIfTI (.nii/.nii.gz), NRRD (.nrrd), DICOM file or DICOM series folder)"), "\(error)")
        }
    }
}
