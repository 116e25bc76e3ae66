import Foundation
import XCTest
@testable import SyncIO

/// `StoredTensor.copyFloats(into:releasingMappedPages:)` and `releaseMappedPages()`: the loader's direct path
/// from file bytes into parameters, and the release of file pages once read.
final class DirectCopyTests: XCTestCase {
    /// Copies `tensor` into a fresh buffer.
    private func copied(_ tensor: StoredTensor, releasing: Bool) -> [Float] {
        [Float](unsafeUninitializedCapacity: tensor.elementCount) { out, initialized in
            tensor.copyFloats(into: out, releasingMappedPages: releasing)
            initialized = tensor.elementCount
        }
    }

    func testCopyMatchesFloatsForEveryDTypeAndLayout() throws {
        let directory = try temporaryDirectory(self)
        let path = directory + "/dtypes.safetensors"
        // 1.0, -2.0, 65504 (largest half), a subnormal half (2^-24).
        let half = StoredTensor(dtype: .float16, shape: [4], bytes: [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00])
        let bfloat = StoredTensor(dtype: .bfloat16, shape: [2], bytes: [0x80, 0x3F, 0x40, 0xC0])  // 1.0, -3.0
        try Safetensors.write([("f32", StoredTensor(shape: [2, 3], floats: [0.5, -1, 2, 3.25, -4, 1e-3])),
                               ("f16", half), ("bf16", bfloat),
                               ("i64", StoredTensor(shape: [3], int64s: [-7, 0, 1 << 20])),
                               ("scalar", StoredTensor(shape: [], floats: [42]))], to: path)
        let tensors = try Safetensors.read(path: path).tensors
        let expected: [String: [Float]] = ["f32": [0.5, -1, 2, 3.25, -4, 1e-3], "f16": [1, -2, 65504, 0x1p-24],
                                           "bf16": [1, -3], "i64": [-7, 0, 1_048_576], "scalar": [42]]
        for name in tensors.names {
            let t = tensors[name]!
            XCTAssertEqual(copied(t, releasing: false).map(\.bitPattern), expected[name]!.map(\.bitPattern), name)
            XCTAssertEqual(copied(t, releasing: true).map(\.bitPattern), expected[name]!.map(\.bitPattern), name)
            XCTAssertEqual(t.floats(), expected[name]!, "\(name) stays readable after its pages were released")
        }

        // A strided view (a transpose saved by torch) is gathered row-major either way.
        let transposed = try Checkpoint.load(path: try SharedFolder.file("fixtures/pth_cases/case_views.pth")).tensors["transposed"]!
        XCTAssertFalse(transposed.isContiguous)
        let rowMajor = StoredTensor(dtype: transposed.dtype, shape: transposed.shape, bytes: transposed.contiguousBytes()).floats()
        XCTAssertEqual(copied(transposed, releasing: false), rowMajor)
        XCTAssertEqual(copied(transposed, releasing: true), rowMajor)
    }

    func testChunkedCopyOfATensorLargerThanOneReleaseChunk() throws {
        let count = StoredTensor.releaseChunkBytes / 4 * 2 + 1234  // two full chunks and a partial one
        let values = (0..<count).map { Float($0 % 9973) * 0.25 - 100 }
        let directory = try temporaryDirectory(self)
        let path = directory + "/large.safetensors"
        // A small tensor first, so the large one starts at an offset that is not page aligned.
        try Safetensors.write([("head", StoredTensor(shape: [3], floats: [1, 2, 3])),
                               ("large", StoredTensor(shape: [count], floats: values))], to: path)
        let tensors = try Safetensors.read(path: path).tensors
        XCTAssertEqual(copied(tensors["large"]!, releasing: true), values)
        XCTAssertEqual(tensors["head"]!.floats(), [1, 2, 3], "a neighbour sharing a released page reads back intact")
        XCTAssertEqual(tensors["large"]!.floats(), values, "released pages map again from the file")
    }

    func testReleaseIsANoOpForTensorsHeldInMemory() {
        // An owned buffer is the only copy of its bytes: releasing must not discard them.
        let values = (0..<10_000).map { Float($0) - 5000.5 }
        let tensor = StoredTensor(shape: [100, 100], floats: values)
        tensor.releaseMappedPages()
        XCTAssertEqual(copied(tensor, releasing: true), values)
        XCTAssertEqual(tensor.floats(), values)
    }

    #if os(Linux)
    func testReleasingAReadTensorReturnsItsFilePagesToTheSystem() throws {
        let megabytes = 32
        let count = megabytes << 18
        let directory = try temporaryDirectory(self)
        let path = directory + "/resident.safetensors"
        try Safetensors.write([("w", StoredTensor(shape: [count], floats: (0..<count).map { Float($0 & 1023) }))], to: path)
        let tensor = try Safetensors.read(path: path).tensors["w"]!
        var destination = [Float](repeating: 1, count: count)  // resident before measuring
        let before = residentMiB()
        destination.withUnsafeMutableBufferPointer { tensor.copyFloats(into: $0) }
        let afterRead = residentMiB()
        tensor.releaseMappedPages()
        let afterRelease = residentMiB()
        XCTAssertGreaterThan(afterRead - before, Double(megabytes) * 0.75, "reading maps the file's pages")
        XCTAssertGreaterThan(afterRead - afterRelease, Double(megabytes) * 0.75, "releasing unmaps them")
        XCTAssertEqual(destination[1023], 1023)

        // The releasing copy never holds more than a few chunks of the file.
        destination.withUnsafeMutableBufferPointer { tensor.copyFloats(into: $0, releasingMappedPages: true) }
        XCTAssertLessThan(residentMiB() - afterRelease, Double(megabytes) * 0.5)
        XCTAssertEqual(destination[count - 1], Float((count - 1) & 1023))
    }

    private func residentMiB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }.first ?? 0) / 1024
    }
    #endif
}
