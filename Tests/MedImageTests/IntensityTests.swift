import XCTest

@testable import MedImage

final class IntensityTests: XCTestCase {
    func testCTWindowHandCases() throws {
        let img = try Image2D(width: 5, height: 1, channels: 1, pixels: [-1000, -160, 40, 100, 240])
        let w = Intensity.apply(.softTissue, to: img)
        XCTAssertEqual(w.pixels, [0, 0, 127.5, 165.75, 255])
        XCTAssertEqual(IntensityWindow.lung.lower, -1350)
        XCTAssertEqual(IntensityWindow.lung.upper, 150)
        XCTAssertEqual(IntensityWindow.bone.lower, -500)
        XCTAssertEqual(IntensityWindow.brain.upper, 80)
        XCTAssertEqual(Intensity.bytes(w, quantization: .truncate), [0, 0, 127, 165, 255])
        XCTAssertEqual(Intensity.bytes(w, quantization: .round), [0, 0, 128, 166, 255])
        let custom = Intensity.apply(IntensityWindow(level: 0, width: 2), to: img)
        XCTAssertEqual(custom.pixels, [0, 0, 255, 255, 255])
    }

    func testPercentilesLikeNumPy() throws {
        let values: [Float] = [0, 0, 0] + (1...100).map(Float.init)
        let p = Intensity.percentiles(of: values, [0.5, 50, 99.5])!
        XCTAssertEqual(p[0], 1.495, accuracy: 1e-9)  // rank 0.005 * 99 = 0.495
        XCTAssertEqual(p[1], 50.5, accuracy: 1e-9)
        XCTAssertEqual(p[2], 99.505, accuracy: 1e-9)
        let withZeros = Intensity.percentiles(of: values, [0], nonZeroOnly: false)!
        XCTAssertEqual(withZeros[0], 0)
        XCTAssertNil(Intensity.percentiles(of: [0, 0], [50]))
    }

    func testPercentileNormalisationKeepsZeroAndUses16BitRange() throws {
        var values: [Float] = [0]
        for i in 1...1000 { values.append(Float(i * 60)) }  // up to 60000: beyond 8 bits; p0.5 = 359.7, p99.5 = 59700.3
        let img = try Image2D(width: values.count, height: 1, channels: 1, pixels: values)
        let out = Intensity.percentileNormalized(img)
        XCTAssertEqual(out.pixels[0], 0)
        XCTAssertEqual(out.pixels[1], 0)  // 60 is below the 0.5th percentile (359.7): clipped to 0
        XCTAssertEqual(out.pixels[1000], 255)  // above the 99.5th -> 255
        XCTAssertEqual(out.pixels[500], Float((30000 - 359.7) / (59700.3 - 359.7) * 255), accuracy: 0.01)
    }

    func testModelInputReplicatesGreyAndKeepsColour() throws {
        let grey = try Image2D(width: 2, height: 1, channels: 1, pixels: [-160, 240])
        let rgb = ModelInput.rgb8(grey, normalization: .window(.softTissue))
        XCTAssertEqual(rgb.channels, 3)
        XCTAssertEqual(rgb.pixels, [0, 0, 0, 255, 255, 255])
        let colour = try Image2D(width: 1, height: 1, channels: 3, pixels: [300, 12.7, -4])
        XCTAssertEqual(ModelInput.rgb8Bytes(colour), [255, 12, 0])
        let mm = ModelInput.rgb8(try Image2D(width: 3, height: 1, channels: 1, pixels: [10, 20, 30]),
                                 normalization: .minMax, quantization: .round)
        XCTAssertEqual(mm.pixels, [0, 0, 0, 128, 128, 128, 255, 255, 255])
    }
}
