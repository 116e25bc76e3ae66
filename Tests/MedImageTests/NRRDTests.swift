import Foundation
import XCTest

@testable import MedImage

final class NRRDTests: XCTestCase {
    func testNRRDEntriesMatchExpected() throws {
        let root = try SharedData.readers()
        let entries = try SharedData.expectedEntries().filter { ($0["path"] as? String)?.hasPrefix("nrrd/") == true }
        XCTAssertEqual(entries.count, 1)
        for e in entries {
            let path = e["path"] as! String
            let info = e["nrrd"] as! [String: Any]
            let decoded = e["decoded"] as! [String: Any]
            let (header, v) = try NRRD.read(root.appendingPathComponent(path))
            XCTAssertEqual(header.sizes, ints(info["sizes"]), path)
            XCTAssertEqual(header.space, info["space"] as? String)
            XCTAssertEqual(header.encoding, info["encoding"] as? String)
            XCTAssertEqual(header.headerLength, (info["header_bytes"] as! NSNumber).intValue)
            XCTAssertEqual([v.nx, v.ny, v.nz], ints(decoded["shape"]))
            let spacing = (info["voxel_spacing"] as! [NSNumber]).map(\.doubleValue)
            XCTAssertEqual([v.spacing.x, v.spacing.y, v.spacing.z], spacing)
            XCTAssertLessThan(v.affineLPS.maxAbsDifference(matrix(info["affine_lps_index_xyz"])!), 1e-12)
            assertStats(v.voxels, decoded["raw"] as? [String: Any], path)
            for s in decoded["samples_raw"] as! [[String: Any]] {
                let i = ints(s["index"])!
                XCTAssertEqual(Double(v[i[0], i[1], i[2]]), double(s["value"]), "\(path) \(i)")
            }
            for (_, x) in decoded["file_order_extras_raw"] as? [String: Any] ?? [:] {
                guard let d = x as? [String: Any] else { continue }
                XCTAssertEqual(Double(v.voxels[(d["linear_element_offset"] as! NSNumber).intValue]), double(d["value"]))
            }
        }
    }

    func testHandWrittenRawBigEndianAndASCII() throws {
        var raw = Data("NRRD0004\ntype: short\ndimension: 2\nsizes: 3 2\nendian: big\nencoding: raw\nspacings: 0.5 2\n\n".utf8)
        for v: Int16 in [1, -2, 300, 4, 5, -32768] { withUnsafeBytes(of: v.bigEndian) { raw.append(contentsOf: $0) } }
        let (_, v) = try NRRD.decode(raw, name: "hand.nrrd")
        XCTAssertEqual(v.voxels, [1, -2, 300, 4, 5, -32768])
        XCTAssertEqual([v.nx, v.ny, v.nz], [3, 2, 1])
        XCTAssertEqual(v.spacing, SIMD3(0.5, 2, 1))
        let ascii = Data("NRRD0004\ntype: float\ndimension: 1\nsizes: 3\nencoding: ascii\n\n1.5 2\n-3\n".utf8)
        XCTAssertEqual(try NRRD.decode(ascii, name: "a.nrrd").volume.voxels, [1.5, 2, -3])
        XCTAssertThrowsError(try NRRD.decode(raw.prefix(raw.count - 3), name: "cut.nrrd")) { error in
            XCTAssertEqual((error as! MedImageError).description, "cut.nrrd: truncated: expected 12 bytes of NRRD data, found 9")
        }
        XCTAssertThrowsError(try NRRD.decode(Data("NRRD0004\ntype: quux\n\n".utf8), name: "t.nrrd"))
        XCTAssertThrowsError(try NRRD.decode(Data("hello".utf8), name: "h.nrrd"))
    }
}
