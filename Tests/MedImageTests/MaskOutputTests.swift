import Foundation
import XCTest

@testable import MedImage

final class MaskOutputTests: XCTestCase {
    func testCOCORLEHandComputed() throws {
        // 2 rows x 3 columns:   0 1 1 / 0 0 1. Column-major: 0 0 | 1 0 | 1 1 -> runs 2,1,1,2.
        let mask = try BinaryMask(width: 3, height: 2, values: [0, 1, 1, 0, 0, 1])
        let rle = COCORLE(mask)
        XCTAssertEqual(rle.counts, [2, 1, 1, 2])
        XCTAssertEqual(rle.compressedString, "2111")  // counts[3] is stored as 2 - counts[1] = 1
        XCTAssertEqual(try rle.mask(), mask)
        // A mask starting with foreground starts with a zero-length background run.
        // Rows 1 1 / 1 0 -> column-major 1 1 | 1 0 -> runs 0, 3, 1.
        let full = try BinaryMask(width: 2, height: 2, values: [1, 1, 1, 0])
        XCTAssertEqual(COCORLE(full).counts, [0, 3, 1])
        // Multi-group and negative deltas. 0 -> "0"; 40 = 8 + 1*32 -> (8|0x20)+48 = "X", then "1"; 5 -> "5";
        // counts[3] - counts[1] = 2 - 40 = -38 = 26 + (-2)*32 -> (26|0x20)+48 = "j", then -2 & 31 = 30 -> "N";
        // counts[4] - counts[2] = 1 - 5 = -4 -> 28 (sign bit 0x10 set, rest -1) -> "L".
        let counts = [0, 40, 5, 2, 1]
        let r = COCORLE(height: 48, width: 1, counts: counts)
        XCTAssertEqual(r.compressedString, "0X15jNL")
        XCTAssertEqual(try COCORLE(height: 48, width: 1, compressed: "0X15jNL").counts, counts)
    }

    func testCOCORLEStringRoundTripRandom() throws {
        var state: UInt64 = 42
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        for _ in 0..<20 {
            let w = Int(next() % 40) + 1, h = Int(next() % 40) + 1
            var values = [UInt8](repeating: 0, count: w * h)
            var on = false
            for i in 0..<values.count {
                if next() % 7 == 0 { on.toggle() }
                values[i] = on ? 1 : 0
            }
            let mask = try BinaryMask(width: w, height: h, values: values)
            let rle = COCORLE(mask)
            XCTAssertEqual(rle.counts.reduce(0, +), w * h)
            let parsed = try COCORLE(height: h, width: w, compressed: rle.compressedString)
            XCTAssertEqual(parsed.counts, rle.counts)
            XCTAssertEqual(try parsed.mask(), mask)
        }
    }

    func testConnectedComponentsEightConnectivityAndBoxes() throws {
        // Component A: diagonal chain (8-connected) at (0,0),(1,1),(2,2); component B: 2x2 block at columns 4-5.
        let w = 6, h = 4
        var v = [UInt8](repeating: 0, count: w * h)
        for (x, y) in [(0, 0), (1, 1), (2, 2), (4, 0), (5, 0), (4, 1), (5, 1), (5, 3)] { v[y * w + x] = 1 }
        let mask = try BinaryMask(width: w, height: h, values: v)
        let (labels, components) = ConnectedComponents.label(mask)
        XCTAssertEqual(components.count, 3)
        XCTAssertEqual(components.map(\.area), [3, 4, 1])
        XCTAssertEqual(components[0].box, PixelBox(x0: 0, y0: 0, x1: 3, y1: 3))  // exclusive maxima
        XCTAssertEqual(components[1].box, PixelBox(x0: 4, y0: 0, x1: 6, y1: 2))
        XCTAssertEqual(labels[2 * w + 2], 1)
        XCTAssertEqual(labels[3 * w + 5], 3)
        XCTAssertEqual(ConnectedComponents.largestComponentBox(mask), PixelBox(x0: 4, y0: 0, x1: 6, y1: 2))
        XCTAssertEqual(mask.boundingBox, PixelBox(x0: 0, y0: 0, x1: 5, y1: 3))  // inclusive
        XCTAssertEqual(mask.area, 8)
        // U shape: the two arms join at the bottom, one component.
        let u = try BinaryMask(width: 3, height: 3, values: [1, 0, 1, 1, 0, 1, 1, 1, 1])
        XCTAssertEqual(ConnectedComponents.label(u).components.count, 1)
        XCTAssertNil(ConnectedComponents.largest(try BinaryMask(width: 2, height: 1, values: [0, 0])))
    }

    func testMaskAndLabelMapPNGs() throws {
        let dir = try temporaryDirectory()
        let mask = try BinaryMask(width: 3, height: 1, values: [0, 1, 7])
        try mask.writePNG(to: dir.appendingPathComponent("m.png"))
        XCTAssertEqual(try PNGCodec.read(dir.appendingPathComponent("m.png")).pixels, [0, 255, 255])
        let labels8 = try Image2D(width: 3, height: 1, channels: 1, pixels: [0, 5, 117])
        try LabelMapPNG.write(labels8, to: dir.appendingPathComponent("l8.png"))
        let back8 = try PNGCodec.decode(Data(contentsOf: dir.appendingPathComponent("l8.png")))
        XCTAssertEqual(back8.bitDepth, 8)
        XCTAssertEqual(back8.samples, [0, 5, 117])
        let labels16 = try Image2D(width: 2, height: 1, channels: 1, pixels: [300, 2])
        try LabelMapPNG.write(labels16, to: dir.appendingPathComponent("l16.png"))
        let back16 = try PNGCodec.decode(Data(contentsOf: dir.appendingPathComponent("l16.png")))
        XCTAssertEqual(back16.bitDepth, 16)
        XCTAssertEqual(back16.samples, [300, 2])
        XCTAssertThrowsError(try LabelMapPNG.write(try Image2D(width: 1, height: 1, channels: 1, pixels: [1.5]),
                                                   to: dir.appendingPathComponent("bad.png")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.png").path))
    }

    func testOverlayDrawsMaskOutlineBoxAndPoints() throws {
        let w = 12, h = 10
        let image = try Image2D(width: w, height: h, channels: 1, pixels: [Float](repeating: 100, count: w * h))
        var v = [UInt8](repeating: 0, count: w * h)
        for y in 2...6 { for x in 2...6 { v[y * w + x] = 1 } }
        let mask = try BinaryMask(width: w, height: h, values: v)
        let blue = RGB8(0, 0, 255)
        let out = try Overlay.render(image, masks: [(mask, blue)], alpha: 0.5, boxes: [PixelBox(x0: 0, y0: 0, x1: 11, y1: 9)],
                                     points: [PointPrompt(x: 4, y: 4, positive: true), PointPrompt(x: 9, y: 7, positive: false)],
                                     pointRadius: 1)
        func px(_ x: Int, _ y: Int) -> [UInt8] { Array(out[((y * w + x) * 3)..<((y * w + x) * 3 + 3)]) }
        XCTAssertEqual(px(3, 5), [50, 50, 178])  // interior: 100 * 0.5 + colour * 0.5 (177.5 rounds to 178)
        XCTAssertEqual(px(2, 4), [0, 0, 255])  // outline pixel
        XCTAssertEqual(px(8, 4), [100, 100, 100])  // untouched background
        XCTAssertEqual(px(0, 5), [255, 255, 0])  // box edge
        XCTAssertEqual(px(11, 9), [255, 255, 0])
        XCTAssertEqual(px(4, 4), [0, 255, 0])  // positive point
        XCTAssertEqual(px(4, 5), [0, 255, 0])  // radius 1
        XCTAssertEqual(px(9, 7), [255, 0, 0])  // negative point
        let dir = try temporaryDirectory()
        try Overlay.write(image, masks: [(mask, nil)], to: dir.appendingPathComponent("o.png"))
        XCTAssertEqual(try PNGCodec.read(dir.appendingPathComponent("o.png")).channels, 3)
    }
}
