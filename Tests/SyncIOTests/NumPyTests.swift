import Foundation
import XCTest
@testable import SyncIO

final class NumPyTests: XCTestCase {
    /// A .npy file: magic, version, header padded so the data starts on a 64-byte boundary, then `data`.
    private func npy(_ header: String, _ data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        let prefix = version == 1 ? 10 : 12
        var text = Array(header.utf8)
        while (prefix + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0A)
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        if version == 1 {
            bytes += [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
        } else {
            bytes += [UInt8(text.count & 0xFF), UInt8(text.count >> 8), 0, 0]
        }
        return bytes + text + data
    }

    private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    func testNPYTypesOrdersAndVersions() throws {
        let floats: [Float] = [1.5, -2, 0.25, 8, 1e-3, 3]
        let f4 = try NumPy.readNPY(data: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                                             littleEndianBytes(floats.map(\.bitPattern))))
        XCTAssertEqual(f4.dtype, .float32)
        XCTAssertEqual(f4.shape, [2, 3])
        XCTAssertEqual(f4.floats(), floats)

        // Fortran order: the same bytes read column-major, produced row-major.
        let fortran = try NumPy.readNPY(data: npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                                  littleEndianBytes(floats.map(\.bitPattern)), version: 2))
        XCTAssertEqual(fortran.floats(), [1.5, 0.25, 1e-3, -2, 8, 3])

        let big = try NumPy.readNPY(data: npy("{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }",
                                              [0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE, 0, 1, 0, 0], version: 3))
        XCTAssertEqual(big.int64s(), [1, -2, 65536])

        let i8 = try NumPy.readNPY(data: npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", littleEndianBytes([Int64(-5), 1 << 40])))
        XCTAssertEqual(i8.int64s(), [-5, 1 << 40])
        let f8 = try NumPy.readNPY(data: npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", littleEndianBytes([(0.1 as Double).bitPattern])))
        XCTAssertEqual(f8.shape, [])
        XCTAssertEqual(f8.floats(), [Float(0.1)])
        let u1 = try NumPy.readNPY(data: npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", [0, 7, 255, 1]))
        XCTAssertEqual(u1.int64s(), [0, 7, 255, 1])
        let b1 = try NumPy.readNPY(data: npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", [0, 1, 1]))
        XCTAssertEqual(b1.floats(), [0, 1, 1])
        let i2 = try NumPy.readNPY(data: npy("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 0), }", []))
        XCTAssertEqual(i2.elementCount, 0)
    }

    func testNPYErrors() throws {
        let strings = expectCheckpointError {
            _ = try NumPy.readNPY(data: npy("{'descr': '|S3', 'fortran_order': False, 'shape': (), }", Array("csr".utf8)))
        }
        XCTAssertEqual(strings, .unsupportedDType(path: "<memory>", dtype: "|S3"))
        let short = expectCheckpointError {
            _ = try NumPy.readNPY(data: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", [0, 0, 0, 0]))
        }
        guard case .truncated = short else { return XCTFail("expected .truncated, got \(String(describing: short))") }
        let garbage = expectCheckpointError { _ = try NumPy.readNPY(data: Array("not an array".utf8)) }
        guard case .badHeader = garbage else { return XCTFail("expected .badHeader, got \(String(describing: garbage))") }
        let header = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", [UInt8](repeating: 0, count: 24))
        for cut in 0..<header.count {  // never a crash, whatever prefix
            XCTAssertThrowsError(try NumPy.readNPY(data: Array(header[..<cut])))
        }
    }

    func testIMISImaskArrays() throws {
        let files = try SharedFolder.list("data/imis_mini/TotalSegCT/imask").filter { $0.hasSuffix(".npy") }
        XCTAssertFalse(files.isEmpty)
        for file in files.prefix(12) {
            let mask = try NumPy.readNPY(path: try SharedFolder.file("data/imis_mini/TotalSegCT/imask/" + file))
            XCTAssertEqual(mask.dtype, .int16, file)
            XCTAssertEqual(mask.shape.count, 3, file)
            XCTAssertEqual(mask.shape.last, 1, file)
            let values = mask.int64s()
            XCTAssertEqual(values.count, mask.elementCount)
            XCTAssertTrue(values.allSatisfy { $0 >= 0 }, file)
            XCTAssertGreaterThan(values.filter { $0 != 0 }.count, 0, file)
        }
    }

    func testIMISSparseLabels() throws {
        let folder = "data/imis_mini/TotalSegCT/label/"
        let files = try SharedFolder.list(folder).filter { $0.hasSuffix(".npz") }
        XCTAssertFalse(files.isEmpty)
        // Every 8th small volume slice and two full-size ones (each decodes to 117 x 512 x 512 bytes; debug builds are slow).
        let small = files.filter { !$0.contains("512, 512") }
        let selected = stride(from: 0, to: small.count, by: 8).map { small[$0] } + files.filter { $0.contains("512, 512") }.prefix(2)
        for file in selected {
            // "<stem>.(117, H, W, 1).npz"
            let inside = file.split(separator: "(").last!.split(separator: ")").first!
            let dims = inside.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
            XCTAssertEqual(dims.count, 4, file)
            let path = try SharedFolder.file(folder + file)
            let arrays = try NumPy.readNPZ(path: path, names: ["data", "shape", "indptr", "indices"])
            XCTAssertEqual(arrays["shape"]?.int64s(), [Int64(dims[0]), Int64(dims[1] * dims[2] * dims[3])], file)
            let mask = try NumPy.denseCSR(npzPath: path)
            XCTAssertEqual(mask.rows, dims[0], file)
            XCTAssertEqual(mask.columns, dims[1] * dims[2], file)
            let ones = mask.values.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }
            XCTAssertEqual(ones, arrays["data"]!.elementCount, file)
            XCTAssertEqual(mask.values.count, mask.rows * mask.columns)
        }
        // The string member stops a plain full read, with the member named.
        let error = expectCheckpointError { _ = try NumPy.readNPZ(path: try SharedFolder.file(folder + files[0])) }
        XCTAssertTrue(error?.description.contains("member 'format'") ?? false, String(describing: error))
    }

    func testCSRValidation() throws {
        let shape = StoredTensor(shape: [2], int64s: [2, 3])
        let ok = try NumPy.denseCSR(data: StoredTensor(shape: [2], int64s: [1, 5]), indices: StoredTensor(shape: [2], int64s: [2, 0]),
                                    indptr: StoredTensor(shape: [3], int64s: [0, 1, 2]), shape: shape)
        XCTAssertEqual(ok.values, [0, 0, 1, 5, 0, 0])
        XCTAssertThrowsError(try NumPy.denseCSR(data: StoredTensor(shape: [1], int64s: [1]), indices: StoredTensor(shape: [1], int64s: [3]),
                                                indptr: StoredTensor(shape: [3], int64s: [0, 1, 1]), shape: shape))
        XCTAssertThrowsError(try NumPy.denseCSR(data: StoredTensor(shape: [1], int64s: [1]), indices: StoredTensor(shape: [1], int64s: [0]),
                                                indptr: StoredTensor(shape: [3], int64s: [0, 2, 1]), shape: shape))
        XCTAssertThrowsError(try NumPy.denseCSR(data: StoredTensor(shape: [1], int64s: [1]), indices: StoredTensor(shape: [1], int64s: [0]),
                                                indptr: StoredTensor(shape: [2], int64s: [0, 1]), shape: shape))
    }
}
