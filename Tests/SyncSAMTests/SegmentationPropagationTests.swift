import Foundation
import MedImage
import XCTest

@testable import SyncSAM

/// A fake 2-D segmenter: foreground = pixels wholly inside the prompt box whose display value exceeds `threshold`.
func thresholdInsideBox(_ threshold: Float = 127) -> SliceSegmenter {
    { image, prompt in
        var values = [UInt8](repeating: 0, count: image.width * image.height)
        if let b = prompt.box {
            let x0 = max(Int(b.x0.rounded(.up)), 0), x1 = min(Int(b.x1.rounded(.down)), image.width)
            let y0 = max(Int(b.y0.rounded(.up)), 0), y1 = min(Int(b.y1.rounded(.down)), image.height)
            for y in y0..<max(y1, y0) {
                for x in x0..<max(x1, x0) where image[y, x, 0] > threshold { values[y * image.width + x] = 1 }
            }
        }
        return try BinaryMask(width: image.width, height: image.height, values: values)
    }
}

final class SegmentationPropagationTests: XCTestCase {
    /// 100 inside the balls, 0 elsewhere; `labelled` holds the ball index + 1 per voxel (later balls win).
    private func balls(_ centres: [(Double, Double, Double, Double)], nx: Int = 40, ny: Int = 36, nz: Int = 30)
        throws -> (volume: Volume, labelled: [Float])
    {
        var voxels = [Float](repeating: 0, count: nx * ny * nz)
        var labelled = voxels
        for z in 0..<nz {
            for y in 0..<ny {
                for x in 0..<nx {
                    for (k, c) in centres.enumerated() {
                        let d = (Double(x) - c.0) * (Double(x) - c.0) + (Double(y) - c.1) * (Double(y) - c.1)
                            + (Double(z) - c.2) * (Double(z) - c.2)
                        if d <= c.3 * c.3 {
                            voxels[x + nx * (y + ny * z)] = 100
                            labelled[x + nx * (y + ny * z)] = Float(k + 1)
                        }
                    }
                }
            }
        }
        let volume = try Volume(nx: nx, ny: ny, nz: nz, voxels: voxels, spacing: SIMD3(1, 1, 1), affine: .identity)
        return (volume, labelled)
    }

    private let display = DisplayIntensity.window(IntensityWindow(level: 50, width: 100))

    func testSphereIsPropagatedOverExactlyItsSlices() throws {
        let (volume, expected) = try balls([(20, 17, 14, 8)])
        var visited: [Int] = []
        var reports: [PropagationProgress] = []
        let segmenter = thresholdInsideBox()
        let propagation = VolumePropagation(volume: volume, display: display,
                                            options: PropagationOptions(axis: .z, boxPadding: 2, minimumArea: 1))
        // The disc of slice 14 spans columns 12...28 and rows 9...25.
        let prompt = ObjectPrompt(box: .init(x0: 12, y0: 9, x1: 29, y1: 26), label: 1)
        let result = try propagation.run(keySlice: 14, objects: [prompt], segmenter: { image, prompt in
            let mask = try segmenter(image, prompt)
            visited.append(mask.area)
            return mask
        }, progress: { reports.append($0) })

        XCTAssertEqual(result.labels.voxels, expected)
        XCTAssertEqual([result.labels.nx, result.labels.ny, result.labels.nz], [40, 36, 30])
        XCTAssertEqual(result.labels.affine, volume.affine)
        XCTAssertEqual(result.objects.count, 1)
        XCTAssertEqual(result.objects[0].sliceRange, 6...22)
        XCTAssertEqual(result.objects[0].voxelCount, expected.filter { $0 == 1 }.count)
        XCTAssertEqual(result.objects[0].keySliceMask.area, try volume.slice(.z, index: 14).pixels.filter { $0 > 0 }.count)
        // Key slice, 15...22, the empty slice 23 that stops it, 13...6 and the empty slice 5: 19 calls.
        XCTAssertEqual(visited.count, 19)
        XCTAssertEqual(visited.filter { $0 == 0 }.count, 2)
        XCTAssertEqual(reports.map(\.slice), [14] + Array(15...23) + Array((5...13).reversed()))
        XCTAssertEqual(reports.map(\.processed), Array(1...19))
        // Before anything stopped every slice could still be visited; at the end nothing remains.
        XCTAssertEqual(reports[0].total, 30)
        XCTAssertEqual(reports.last?.remaining, 0)
        XCTAssertEqual(reports[9].remaining, 14)  // upwards stopped at 23: slices 0...13 below remain
        XCTAssertTrue(zip(reports, reports.dropFirst()).allSatisfy { $0.elapsed <= $1.elapsed })
    }

    func testMinimumAreaEndsPropagationEarlier() throws {
        let (volume, sphere) = try balls([(20, 17, 14, 8)])
        let options = PropagationOptions(axis: .z, boxPadding: 2, minimumArea: 50)
        let result = try VolumePropagation(volume: volume, display: display, options: options)
            .run(keySlice: 14, objects: [ObjectPrompt(box: .init(x0: 12, y0: 9, x1: 29, y1: 26))],
                 segmenter: thresholdInsideBox())
        // Slices whose disc has at least 50 pixels, counted on the synthetic volume itself (89 at |dz| = 6, 45 at 7).
        let kept = (0..<30).filter { z in (0..<(40 * 36)).filter { sphere[z * 40 * 36 + $0] > 0 }.count >= 50 }
        XCTAssertEqual(kept, Array(8...20))
        XCTAssertEqual(result.objects[0].sliceRange, 8...20)
        var expected = sphere
        for z in 0..<30 where !kept.contains(z) {
            for i in 0..<(40 * 36) { expected[z * 40 * 36 + i] = 0 }
        }
        XCTAssertEqual(result.labels.voxels, expected)
        XCTAssertEqual(result.objects[0].label, 1)  // default label
    }

    func testPropagationAlongXGivesTheSameBall() throws {
        let (volume, sphere) = try balls([(20, 17, 14, 8)])
        // Slice x = 20 is ny = 36 wide (column = y) and nz = 30 high (row = z); the disc is centred at (17, 14).
        let result = try VolumePropagation(volume: volume, display: display,
                                           options: PropagationOptions(axis: .x, boxPadding: 2, minimumArea: 1))
            .run(keySlice: 20, objects: [ObjectPrompt(box: .init(x0: 9, y0: 6, x1: 26, y1: 23), label: 4)],
                 segmenter: thresholdInsideBox())
        XCTAssertEqual(result.labels.voxels, sphere.map { $0 * 4 })
        XCTAssertEqual(result.objects[0].sliceRange, 12...28)
        XCTAssertEqual(result.axis, .x)
    }

    func testTwoObjectsKeepTheirLabelsAndRanges() throws {
        let (volume, expected) = try balls([(10, 10, 12, 5), (28, 24, 16, 6)])
        let prompts = [ObjectPrompt(box: .init(x0: 4, y0: 4, x1: 17, y1: 17)),
                       ObjectPrompt(box: .init(x0: 20, y0: 16, x1: 37, y1: 33))]
        var progressCount = 0
        let result = try VolumePropagation(volume: volume, display: display,
                                           options: PropagationOptions(boxPadding: 2, minimumArea: 1))
            .run(keySlice: 14, objects: prompts, segmenter: thresholdInsideBox(), progress: { _ in progressCount += 1 })
        XCTAssertEqual(result.labels.voxels, expected)
        XCTAssertEqual(result.objects.map(\.label), [1, 2])
        XCTAssertEqual(result.objects.map(\.sliceRange), [7...17, 10...22])
        XCTAssertEqual(result.objects.map(\.voxelCount), [1, 2].map { l in expected.filter { $0 == Float(l) }.count })
        // Upwards 15...23 (A ends at 18, B at 23), downwards 13...6 (B ends at 9, A at 6), plus the key slice.
        XCTAssertEqual(progressCount, 1 + 9 + 8)
    }

    func testBoxPaddingFollowsAGrowingStructure() throws {
        // A cone along z: disc radius 2 + z around (20, 20).
        let n = 40, nz = 10
        var voxels = [Float](repeating: 0, count: n * n * nz)
        for z in 0..<nz {
            for y in 0..<n {
                for x in 0..<n where (x - 20) * (x - 20) + (y - 20) * (y - 20) <= (2 + z) * (2 + z) {
                    voxels[x + n * (y + n * z)] = 100
                }
            }
        }
        let volume = try Volume(nx: n, ny: n, nz: nz, voxels: voxels, spacing: SIMD3(1, 1, 1), affine: .identity)
        let key = ObjectPrompt(box: .init(x0: 16, y0: 16, x1: 25, y1: 25))  // the radius-4 disc of slice 2
        func run(padding: Int) throws -> Volume {
            try VolumePropagation(volume: volume, display: display,
                                  options: PropagationOptions(boxPadding: padding, minimumArea: 1))
                .run(keySlice: 2, objects: [key], segmenter: thresholdInsideBox()).labels
        }
        XCTAssertEqual(try run(padding: 2).voxels, voxels.map { $0 > 0 ? 1 : 0 })
        // Without padding every later slice is clipped to the key slice's box 16...24.
        let clipped = try run(padding: 0)
        let top = try clipped.slice(.z, index: 9)
        var expectedTop = 0
        for y in 16...24 {
            for x in 16...24 where (x - 20) * (x - 20) + (y - 20) * (y - 20) <= 121 { expectedTop += 1 }
        }
        XCTAssertEqual(top.pixels.filter { $0 == 1 }.count, expectedTop)
        XCTAssertEqual(expectedTop, 81)
        XCTAssertEqual(VolumePropagation.propagationBox(from: BinaryMask(try volume.slice(.z, index: 9)), padding: 3),
                       ObjectPrompt.Box(x0: 6, y0: 6, x1: 35, y1: 35))
    }

    func testSegmenterErrorsAndBadMasksStopTheRun() throws {
        let (volume, _) = try balls([(20, 17, 14, 8)])
        struct ModelFailed: Error {}
        let propagation = VolumePropagation(volume: volume, display: display)
        XCTAssertThrowsError(try propagation.run(keySlice: 14, objects: [ObjectPrompt(box: .init(x0: 12, y0: 9, x1: 29, y1: 26))],
                                                 segmenter: { _, _ in throw ModelFailed() })) { error in
            XCTAssertTrue(error is ModelFailed)
        }
        XCTAssertThrowsError(try propagation.run(keySlice: 14, objects: [ObjectPrompt(box: .init(x0: 12, y0: 9, x1: 29, y1: 26))],
                                                 segmenter: { _, _ in try BinaryMask(width: 2, height: 2, values: [1, 1, 1, 1]) })) { error in
            XCTAssertEqual("\(error)", "segmenter returned a 2x2 mask for a 40x36 slice")
        }
        XCTAssertThrowsError(try propagation.run(keySlice: 30, objects: [], segmenter: thresholdInsideBox())) { error in
            XCTAssertEqual("\(error)", "key slice 30 is outside the volume (0...29 along z)")
        }
    }

    func testProgressBarText() {
        let p = PropagationProgress(slice: 5, processed: 6, remaining: 18, elapsed: 3.0)
        XCTAssertEqual(p.total, 24)
        XCTAssertEqual(p.estimatedRemaining, 9)
        XCTAssertEqual(p.bar(width: 12), "[###---------] 6/24 slices, 3s elapsed, ETA 9s")
        XCTAssertEqual(PropagationProgress(slice: 0, processed: 30, remaining: 0, elapsed: 185).bar(width: 4),
                       "[####] 30/30 slices, 3m05s elapsed, ETA 0s")
        XCTAssertEqual(PropagationProgress.duration(3720), "1h02m")
    }
}
