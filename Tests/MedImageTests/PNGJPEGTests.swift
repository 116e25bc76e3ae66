import Foundation
import XCTest

@testable import MedImage

final class PNGJPEGTests: XCTestCase {
    /// Every PNG entry of expected.json: shape, stats and the sample values at their indices, exactly.
    func testPNGEntriesMatchExpected() throws {
        let root = try SharedData.readers()
        let entries = try SharedData.expectedEntries().filter { ($0["path"] as? String)?.hasSuffix(".png") == true }
        XCTAssertGreaterThanOrEqual(entries.count, 4)
        for e in entries {
            let path = e["path"] as! String
            let decoded = e["decoded"] as! [String: Any]
            let raster = try PNGCodec.decode(Data(contentsOf: root.appendingPathComponent(path)), name: path)
            let image = raster.image
            let shape = ints(decoded["shape"])!
            XCTAssertEqual([image.height, image.width], Array(shape.prefix(2)), path)
            XCTAssertEqual(image.channels, shape.count == 3 ? shape[2] : 1, path)
            XCTAssertEqual(raster.bitDepth, decoded["dtype"] as? String == "uint16" ? 16 : 8, path)
            assertStats(image.pixels, decoded["raw"] as? [String: Any], path)
            for s in decoded["samples_raw"] as! [[String: Any]] {
                let idx = ints(s["index"])!
                XCTAssertEqual(Double(image[idx[0], idx[1]]), double(s["value"]), "\(path) \(idx)")
            }
            if let extras = decoded["file_order_extras_raw"] as? [String: Any] {
                for (_, v) in extras {
                    guard let d = v as? [String: Any] else { continue }
                    let offset = (d["linear_element_offset"] as! NSNumber).intValue
                    XCTAssertEqual(Double(image.pixels[offset]), double(d["value"]), path)
                }
            }
        }
    }

    func testPNG16BitRoundTripIsExact() throws {
        let width = 7, height = 3
        var values = [UInt16](repeating: 0, count: width * height)
        for i in 0..<values.count {
            let v: Int = (i * 3119 + 65535 * (i % 2)) % 65536
            values[i] = UInt16(v)
        }
        values[0] = 0
        values[1] = 65535
        values[2] = 32768
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("grey16.png")
        try PNGCodec.writeGrey16(values, width: width, height: height, to: url)
        let back = try PNGCodec.decode(Data(contentsOf: url))
        XCTAssertEqual(back.bitDepth, 16)
        XCTAssertEqual(back.channels, 1)
        XCTAssertEqual(back.samples, values)
        XCTAssertTrue(values.contains(65535) && values.contains(0))
    }

    func testPNG8BitGreyAndRGBRoundTrip() throws {
        let dir = try temporaryDirectory()
        let grey: [UInt8] = [0, 1, 2, 254, 255, 128]
        try PNGCodec.writeGrey8(grey, width: 3, height: 2, to: dir.appendingPathComponent("g.png"))
        let g = try PNGCodec.read(dir.appendingPathComponent("g.png"))
        XCTAssertEqual(g.pixels, grey.map(Float.init))
        XCTAssertEqual(g.channels, 1)
        let rgb: [UInt8] = (0..<(4 * 2 * 3)).map { UInt8($0 * 10) }
        try PNGCodec.writeRGB8(rgb, width: 4, height: 2, to: dir.appendingPathComponent("c.png"))
        let c = try PNGCodec.read(dir.appendingPathComponent("c.png"))
        XCTAssertEqual(c.channels, 3)
        XCTAssertEqual(c.width, 4)
        XCTAssertEqual(c.pixels, rgb.map(Float.init))
    }

    func testPNGWithAlphaKeepsColourDropsAlpha() throws {
        let rgba: [UInt16] = [10, 20, 30, 255, 40, 50, 60, 0]
        let data = try PNGCodec.encode(samples: rgba, width: 2, height: 1, channels: 4, bitDepth: 8)
        let raster = try PNGCodec.decode(data)
        XCTAssertEqual(raster.channels, 4)
        XCTAssertEqual(raster.samples, rgba)
        XCTAssertEqual(raster.image.pixels, [10, 20, 30, 40, 50, 60])
        let ga16: [UInt16] = [65535, 1, 300, 65535]
        let r16 = try PNGCodec.decode(PNGCodec.encode(samples: ga16, width: 2, height: 1, channels: 2, bitDepth: 16))
        XCTAssertEqual(r16.samples, ga16)
        XCTAssertEqual(r16.image.pixels, [65535, 300])
    }

    func testBrokenPNGAndJPEGGiveErrorsNotCrashes() throws {
        let data = try PNGCodec.encode(bytes: [UInt8](repeating: 7, count: 64 * 64), width: 64, height: 64, channels: 1)
        XCTAssertThrowsError(try PNGCodec.decode(data.prefix(data.count / 2), name: "half.png")) { error in
            let e = error as! MedImageError
            XCTAssertTrue(e.description.hasPrefix("half.png: "), e.description)
            XCTAssertFalse(e.description.contains("\n"))
        }
        XCTAssertThrowsError(try PNGCodec.decode(Data([1, 2, 3]), name: "x.png"))
        XCTAssertThrowsError(try JPEGCodec.decode(Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), name: "x.jpg")) { error in
            XCTAssertTrue((error as! MedImageError).description.hasPrefix("x.jpg: "))
        }
        XCTAssertThrowsError(try JPEGCodec.decode(Data("hello".utf8), name: "y.jpg"))
        XCTAssertThrowsError(try PNGCodec.read(URL(fileURLWithPath: "/nonexistent/none.png"))) { error in
            XCTAssertEqual((error as! MedImageError).kind, .io)
        }
    }

    func testRetinaJPEGMatchesPillowWithinLossyTolerance() throws {
        let e = try SharedData.entry("jpeg/retina.jpg")
        let root = try SharedData.readers()
        let image = try JPEGCodec.read(root.appendingPathComponent("jpeg/retina.jpg"))
        let decoded = e["decoded"] as! [String: Any]
        XCTAssertEqual([image.height, image.width, image.channels], ints(decoded["shape"]))
        let stats = Stats(image.pixels)
        let raw = decoded["raw"] as! [String: Any]
        XCTAssertEqual(stats.mean, double(raw["mean"])!, accuracy: 0.5)
        XCTAssertEqual(stats.min, double(raw["min"])!)
        XCTAssertEqual(stats.max, double(raw["max"])!)
        var exact = 0
        let samples = decoded["samples_raw"] as! [[String: Any]]
        for s in samples {
            let idx = ints(s["index"])!
            let value = ints(s["value"])!
            for c in 0..<3 {
                let got = image[idx[0], idx[1], c]
                XCTAssertEqual(Double(got), Double(value[c]), accuracy: 20, "retina \(idx) c\(c)")
                if Int(got) == value[c] { exact += 1 }
            }
        }
        // libjpeg-turbo is Pillow's decoder too, so the samples are expected to be bit-identical here.
        XCTAssertEqual(exact, samples.count * 3)
    }
}
