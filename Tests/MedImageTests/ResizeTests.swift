import Foundation
import XCTest

@testable import MedImage

final class ResizeTests: XCTestCase {
    private func row(_ v: [Float]) throws -> Image2D { try Image2D(width: v.count, height: 1, channels: 1, pixels: v) }

    func testBilinearHandComputed() throws {
        // Downsample 4 -> 2: scale 2, src = 2(o + 0.5) - 0.5 = 0.5, 2.5.
        let down = try Resize.resize(try row([0, 10, 20, 30]), width: 2, height: 1, filter: .bilinear)
        XCTAssertEqual(down.pixels, [5, 25])
        // Upsample 2 -> 4: src = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (last index, no neighbour).
        let up = try Resize.resize(try row([0, 10]), width: 4, height: 1, filter: .bilinear)
        XCTAssertEqual(up.pixels, [0, 2.5, 7.5, 10])
        // 2-D: 2x2 -> 4x4, centre pixels are bilinear mixes of the four corners.
        let square = try Image2D(width: 2, height: 2, channels: 1, pixels: [0, 4, 8, 12])
        let big = try Resize.resize(square, width: 4, height: 4, filter: .bilinear)
        let a: Float = 0.75 * 0.25 * 4
        let b: Float = 0.25 * 0.75 * 8
        let c: Float = 0.25 * 0.25 * 12
        XCTAssertEqual(big[1, 1], a + b + c, accuracy: 1e-6)
        XCTAssertEqual(big[0, 0], 0)
        XCTAssertEqual(big[3, 3], 12)
    }

    func testAntialiasedBilinearHandComputed() throws {
        // 4 -> 2: scale 2, support 2, triangle of radius 2 input pixels around centres 1 and 3:
        // o=0 taps 0,1,2 weights 0.75,0.75,0.25 (/1.75); o=1 taps 1,2,3 weights 0.25,0.75,0.75 (/1.75).
        let down = try Resize.resize(try row([0, 10, 20, 30]), width: 2, height: 1, filter: .bilinearAntialiased)
        XCTAssertEqual(down.pixels[0], 12.5 / 1.75, accuracy: 1e-5)
        XCTAssertEqual(down.pixels[1], 40 / 1.75, accuracy: 1e-5)
        // Upsampling with antialias equals plain bilinear.
        let input = try row([3, 9, 1, 7, 5])
        let a = try Resize.resize(input, width: 12, height: 1, filter: .bilinearAntialiased)
        let b = try Resize.resize(input, width: 12, height: 1, filter: .bilinear)
        for i in 0..<12 { XCTAssertEqual(a.pixels[i], b.pixels[i], accuracy: 1e-5) }
        // Same size is the identity; a constant stays constant.
        XCTAssertEqual(try Resize.resize(input, width: 5, height: 1, filter: .bilinearAntialiased).pixels, input.pixels)
        let flat = try Image2D(width: 9, height: 7, channels: 3, pixels: [Float](repeating: 42, count: 189))
        let small = try Resize.resize(flat, width: 4, height: 3, filter: .bilinearAntialiased)
        for v in small.pixels { XCTAssertEqual(v, 42, accuracy: 1e-4) }
    }

    func testNearestUsesFloorOfScaledIndex() throws {
        let down = try Resize.resize(try row([0, 1, 2, 3]), width: 3, height: 1, filter: .nearest)
        XCTAssertEqual(down.pixels, [0, 1, 2])  // floor(0), floor(1.33), floor(2.67)
        let up = try Resize.resize(try row([0, 1, 2]), width: 5, height: 1, filter: .nearest)
        XCTAssertEqual(up.pixels, [0, 0, 1, 1, 2])  // floor(0, 0.6, 1.2, 1.8, 2.4)
        let twice = try Resize.resize(try row([4, 5]), width: 4, height: 1, filter: .nearest)
        XCTAssertEqual(twice.pixels, [4, 4, 5, 5])
    }

    func testLongestSideSizeAndPadding() throws {
        let s = Resize.longestSideSize(width: 117, height: 91, target: 256)
        XCTAssertEqual(s.width, 256)
        XCTAssertEqual(s.height, 199)
        let img = try Image2D(width: 2, height: 1, channels: 1, pixels: [1, 2])
        let padded = try Resize.padBottomRight(img, width: 3, height: 2)
        XCTAssertEqual(padded.pixels, [1, 2, 0, 0, 0, 0])
    }

    /// LiteMedSAM preprocessing reproduced end to end against the fixture `realN.input`:
    /// RGB PNG -> longest side 256 (bilinear, antialias) -> min-max to [0, 1] -> zero pad to 256x256.
    func testLiteMedSAMPreprocessingMatchesFixture() throws {
        let shared = try SharedData.require()
        let fixture = shared.appendingPathComponent("fixtures/litemedsam/real.io.safetensors")
        let meta = try JSONSerialization.jsonObject(
            with: Data(contentsOf: shared.appendingPathComponent("fixtures/litemedsam/real.json"))) as! [String: Any]
        let cases = meta["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let prefix = c["prefix"] as! String
            let image = try PNGCodec.read(
                shared.appendingPathComponent("data/samed2d_mini").appendingPathComponent(c["image"] as! String))
            let rgb = image.channels == 3 ? image : ModelInput.rgb8(image)
            let (resized, scale) = try Resize.longestSide(rgb, target: 256, filter: .bilinearAntialiased)
            XCTAssertEqual([resized.height, resized.width], ints(c["resized"]), prefix)
            XCTAssertEqual(scale, double(c["scale"])!, accuracy: 1e-12)
            let normalized = Intensity.minMaxNormalized(resized)
            let input = try Resize.padBottomRight(normalized, width: 256, height: 256)
            let (shape, expected) = try readSafetensorF32(fixture, key: "\(prefix).input")
            XCTAssertEqual(shape, [1, 3, 256, 256])
            var maxDiff: Float = 0
            for ch in 0..<3 {
                for y in 0..<256 {
                    for x in 0..<256 {
                        maxDiff = max(maxDiff, abs(input[y, x, ch] - expected[(ch * 256 + y) * 256 + x]))
                    }
                }
            }
            XCTAssertLessThan(maxDiff, 1e-4, "\(prefix): max |diff| \(maxDiff)")
        }
    }

    func testResize512SliceIsFast() throws {
        var pixels = [Float](repeating: 0, count: 512 * 512)
        for i in 0..<pixels.count { pixels[i] = Float(i % 977) }
        let img = try Image2D(width: 512, height: 512, channels: 1, pixels: pixels)
        let start = Date()
        for _ in 0..<3 { _ = try Resize.resize(img, width: 256, height: 256, filter: .bilinearAntialiased) }
        let elapsed = Date().timeIntervalSince(start) / 3
        // Debug builds are far slower than release; this only guards against accidental quadratic behaviour.
        XCTAssertLessThan(elapsed, 1.0)
    }
}
