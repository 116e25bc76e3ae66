import Foundation
import XCTest
@testable import SyncIO

final class SafetensorsTests: XCTestCase {
    func testWriteReadRoundTrip() throws {
        let directory = try temporaryDirectory(self)
        let path = directory + "/round.safetensors"
        let weights = (0..<24).map { Float($0) * 0.5 - 3 }
        let steps: [Int64] = [7, -1, 1 << 40]
        let half = StoredTensor(dtype: .float16, shape: [2], bytes: [0x00, 0x3C, 0x00, 0xC0])  // 1.0, -2.0
        let transposed = try Checkpoint.load(path: try SharedFolder.file("fixtures/pth_cases/case_views.pth")).tensors["transposed"]!
        try Safetensors.write([("z.weight", StoredTensor(shape: [2, 3, 4], floats: weights)),
                               ("a.steps", StoredTensor(shape: [3], int64s: steps)),
                               ("half", half), ("view", transposed), ("empty", StoredTensor(shape: [0, 3], floats: []))],
                              metadata: ["format": "pt", "note": "quote \" and \\ and \u{1}"], to: path)
        let (tensors, metadata) = try Safetensors.read(path: path)
        XCTAssertEqual(metadata, ["format": "pt", "note": "quote \" and \\ and \u{1}"])
        XCTAssertEqual(tensors.names, ["z.weight", "a.steps", "half", "view", "empty"], "data order is the given order")
        XCTAssertEqual(tensors["z.weight"]?.floats(), weights)
        XCTAssertEqual(tensors["z.weight"]?.shape, [2, 3, 4])
        XCTAssertEqual(tensors["a.steps"]?.int64s(), steps)
        XCTAssertEqual(tensors["a.steps"]?.dtype, .int64)
        XCTAssertEqual(tensors["half"]?.floats(), [1, -2])
        assertSameTensor(tensors["view"], transposed, "view")
        XCTAssertEqual(tensors["empty"]?.shape, [0, 3])

        // Header length is a multiple of 8, padded with spaces, as the reference writer does.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        XCTAssertEqual(length % 8, 0)
        XCTAssertEqual(bytes[8], UInt8(ascii: "{"))
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"format\":\"pt\""), header)
        XCTAssertTrue(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
        XCTAssertEqual(bytes.count, 8 + length + (24 * 4 + 3 * 8 + 2 * 2 + 30 * 4))

        // The Float-array convenience form.
        try Safetensors.write(floats: [("b", [2], [1, 2]), ("a", [1], [3])], to: path)
        XCTAssertEqual(try Safetensors.read(path: path).tensors.names, ["b", "a"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["round.safetensors"], "no temporary left")
    }

    func testFailedWriteLeavesNothing() throws {
        let directory = try temporaryDirectory(self)
        let path = directory + "/dup.safetensors"
        let tensor = StoredTensor(shape: [1], floats: [1])
        XCTAssertThrowsError(try Safetensors.write([("x", tensor), ("x", tensor)], to: path))
        XCTAssertThrowsError(try Safetensors.write([("x", tensor)], to: directory + "/missing/folder/out.safetensors"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    func testInvalidHeadersAreRejected() throws {
        func file(_ header: String, data: Int = 8) -> [UInt8] {
            var text = Array(header.utf8)
            while text.count % 8 != 0 { text.append(0x20) }
            return withUnsafeBytes(of: UInt64(text.count).littleEndian) { Array($0) } + text + [UInt8](repeating: 0, count: data)
        }
        let bad = [
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",  // size mismatch
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",  // beyond data
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",  // reversed
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"X9\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}",
            "{\"__metadata__\":{\"k\":3}}",
            "{\"a\":[1,2]}",
            "[1,2]",
            "{not json",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}",
        ]
        for header in bad {
            let error = expectCheckpointError { _ = try Safetensors.read(ByteBuffer.copying(file(header)), path: "bad.safetensors") }
            XCTAssertTrue(error?.description.hasPrefix("bad.safetensors: ") ?? false, "\(header): \(String(describing: error))")
        }
        let good = try Safetensors.read(ByteBuffer.copying(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}")), path: "ok")
        XCTAssertEqual(good.tensors["a"]?.shape, [1, 2])
        var huge = file("{}")
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64.max.littleEndian) { Array($0) })
        XCTAssertThrowsError(try Safetensors.read(ByteBuffer.copying(huge), path: "huge"))
    }
}
