import XCTest
@testable import SyncIO

final class ConversionTests: XCTestCase {
    func testHalfToFloatIsExactForEveryBitPattern() throws {
        #if arch(x86_64) && os(macOS)
        throw XCTSkip("Float16 is unavailable on Intel macOS")
        #else
        let bytes = (0..<65536).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let values = StoredTensor(dtype: .float16, shape: [65536], bytes: bytes).floats()
        for bits in 0..<65536 {
            let reference = Float(Float16(bitPattern: UInt16(bits)))
            if reference.isNaN {
                XCTAssertTrue(values[bits].isNaN, "\(bits)")
            } else {
                XCTAssertEqual(values[bits].bitPattern, reference.bitPattern, "half \(bits)")
            }
        }
        #endif
    }

    func testOtherConversions() {
        let doubles: [Double] = [0.1, -1e300, 3.0, .infinity]
        let f64 = StoredTensor(dtype: .float64, shape: [4], bytes: doubles.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } })
        XCTAssertEqual(f64.floats(), doubles.map { Float($0) })
        XCTAssertEqual(f64.int64s(), [0, .min, 3, .max])
        let bf16 = StoredTensor(dtype: .bfloat16, shape: [2], bytes: [0x80, 0x3F, 0x00, 0xC0])  // 1.0, -2.0
        XCTAssertEqual(bf16.floats(), [1, -2])
        let int8 = StoredTensor(dtype: .int8, shape: [3], bytes: [0xFF, 0x7F, 0x80])
        XCTAssertEqual(int8.int64s(), [-1, 127, -128])
        XCTAssertEqual(int8.floats(), [-1, 127, -128])
        let int16 = StoredTensor(dtype: .int16, shape: [2], bytes: [0xFE, 0xFF, 0x00, 0x01])
        XCTAssertEqual(int16.int64s(), [-2, 256])
        let int32 = StoredTensor(dtype: .int32, shape: [1], bytes: [0, 0, 0, 0x80])
        XCTAssertEqual(int32.int64s(), [Int64(Int32.min)])
        let flags = StoredTensor(dtype: .bool, shape: [3], bytes: [0, 1, 2])
        XCTAssertEqual(flags.int64s(), [0, 1, 1])
        XCTAssertEqual(StoredTensor(shape: [], floats: [2.5]).elementCount, 1)
        XCTAssertTrue(StoredTensor(shape: [2, 1, 3], floats: [Float](repeating: 0, count: 6)).isContiguous)
    }

    func testInvalidViewsAreRejected() throws {
        let buffer = ByteBuffer.copying([UInt8](repeating: 0, count: 24))  // 6 floats
        func view(_ offset: Int, _ shape: [Int], _ strides: [Int]) throws -> StoredTensor {
            try StoredTensor(validating: buffer, storageStart: 0, storageBytes: 24, dtype: .float32, elementOffset: offset,
                             shape: shape, strides: strides, path: "p", name: "t")
        }
        XCTAssertEqual(try view(0, [3, 2], [1, 3]).floats().count, 6)
        XCTAssertEqual(try view(5, [0, 9], [9, 1]).elementCount, 0)
        XCTAssertEqual(try view(Int.max / 2, [0], [1]).contiguousBytes(), [])
        XCTAssertThrowsError(try view(1, [3, 2], [2, 1]))
        XCTAssertThrowsError(try view(0, [2, 3], [3]))
        XCTAssertThrowsError(try view(0, [-1], [1]))
        XCTAssertThrowsError(try view(0, [1 << 62, 4], [1, 1]))
        XCTAssertThrowsError(try view(0, [Int.max / 2, 3], [Int.max / 2, 1]))
        XCTAssertThrowsError(try view(0, [1 << 40], [0]), "a zero-stride view must not expand absurdly")
    }
}
