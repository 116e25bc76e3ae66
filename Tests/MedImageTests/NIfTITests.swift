import Foundation
import XCTest

@testable import MedImage

final class NIfTITests: XCTestCase {
    /// Every NIfTI entry of expected.json: header fields, affines, shape, statistics, samples and file-order extras.
    func testNIfTIEntriesMatchExpected() throws {
        let root = try SharedData.readers()
        let entries = try SharedData.expectedEntries().filter { ($0["path"] as? String)?.hasPrefix("nifti/") == true }
        XCTAssertEqual(entries.count, 5)
        for e in entries {
            let path = e["path"] as! String
            let info = e["nifti"] as! [String: Any]
            let decoded = e["decoded"] as! [String: Any]
            let image = try NIfTI.read(root.appendingPathComponent(path))
            let h = image.header
            let v = image.volume
            XCTAssertEqual(h.version, (info["sizeof_hdr"] as! NSNumber).intValue == 540 ? 2 : 1, path)
            XCTAssertEqual(h.littleEndian, info["endianness"] as? String == "little", path)
            XCTAssertEqual(h.dim, ints(info["dim"]), path)
            XCTAssertEqual(h.datatype, (info["datatype_code"] as! NSNumber).intValue, path)
            XCTAssertEqual(h.voxOffset, Int(double(info["vox_offset"])!), path)
            XCTAssertEqual(h.qformCode, (info["qform_code"] as! NSNumber).intValue, path)
            XCTAssertEqual(h.sformCode, (info["sform_code"] as! NSNumber).intValue, path)
            let shape = ints(info["shape"])!
            XCTAssertEqual([v.nx, v.ny, v.nz, v.nt], shape.count == 4 ? shape : shape + [1], path)
            let zooms = (info["voxel_spacing_zooms"] as! [NSNumber]).map(\.doubleValue)
            XCTAssertEqual(v.spacing.x, zooms[0], accuracy: 1e-6, path)
            XCTAssertEqual(v.spacing.y, zooms[1], accuracy: 1e-6, path)
            XCTAssertEqual(v.spacing.z, zooms[2], accuracy: 1e-6, path)
            XCTAssertLessThan(v.affine.maxAbsDifference(matrix(info["affine_nibabel"])!), 1e-6, "\(path) affine")
            if let q = matrix(info["qform_affine"]) {
                XCTAssertLessThan(h.qformAffine!.maxAbsDifference(q), 1e-6, "\(path) qform \(h.qformAffine!)")
            } else {
                XCTAssertNil(h.qformAffine, path)
            }
            if let s = matrix(info["sform_affine"]) {
                XCTAssertLessThan(h.sformAffine!.maxAbsDifference(s), 1e-6, "\(path) sform")
            }
            assertStats(v.voxels, decoded["raw"] as? [String: Any], path)
            for s in decoded["samples_raw"] as! [[String: Any]] {
                let i = ints(s["index"])!
                XCTAssertEqual(Double(v[i[0], i[1], i[2], i.count > 3 ? i[3] : 0]), double(s["value"]), "\(path) \(i)")
            }
            for (_, x) in decoded["file_order_extras_raw"] as? [String: Any] ?? [:] {
                guard let d = x as? [String: Any] else { continue }
                XCTAssertEqual(Double(v.voxels[(d["linear_element_offset"] as! NSNumber).intValue]), double(d["value"]))
            }
            if let counts = decoded["label_counts"] as? [String: NSNumber] {
                var histogram = [Int: Int]()
                for x in v.voxels { histogram[Int(x), default: 0] += 1 }
                for (label, n) in counts { XCTAssertEqual(histogram[Int(label)!], n.intValue, "\(path) label \(label)") }
                XCTAssertEqual(histogram.count, counts.count)
            }
        }
    }

    func testBrokenNIfTIFilesGiveClearErrors() throws {
        let root = try SharedData.readers()
        let truncated = try SharedData.entry("broken/anatomical_truncated.nii")
        XCTAssertThrowsError(try NIfTI.read(root.appendingPathComponent("broken/anatomical_truncated.nii"))) { error in
            let e = error as! MedImageError
            XCTAssertEqual(e.kind, .truncated)
            let expected = (truncated["expected_voxel_bytes"] as! NSNumber).intValue
            let present = (truncated["present_voxel_bytes"] as! NSNumber).intValue
            XCTAssertEqual(e.description, "anatomical_truncated.nii: truncated: expected \(expected) bytes of voxel data after vox_offset 352, found \(present)")
        }
        let corrupt = try SharedData.entry("broken/example_seg_gzip_corrupt.nii.gz")
        XCTAssertThrowsError(try NIfTI.read(root.appendingPathComponent("broken/example_seg_gzip_corrupt.nii.gz"))) { error in
            let e = error as! MedImageError
            XCTAssertEqual(e.kind, .corrupt)
            XCTAssertTrue(e.description.hasPrefix("example_seg_gzip_corrupt.nii.gz: corrupt gzip/deflate stream (invalid block type)"),
                          e.description)
            let good = (corrupt["inflates_correctly_before_error_bytes"] as! NSNumber).intValue
            XCTAssertTrue(e.description.contains("after \(good) bytes"), e.description)
            XCTAssertFalse(e.description.contains("\n"))
        }
        // Garbage and a cut header never crash.
        XCTAssertThrowsError(try NIfTI.decode(Data(repeating: 0xAB, count: 400), name: "junk.nii"))
        XCTAssertThrowsError(try NIfTI.decode(Data(repeating: 0, count: 10), name: "tiny.nii"))
        let gz = try Data(contentsOf: root.appendingPathComponent("nifti/example_seg.nii.gz"))
        XCTAssertThrowsError(try NIfTI.decode(gz.prefix(5000), name: "cut.nii.gz")) { error in
            XCTAssertEqual((error as! MedImageError).kind, .truncated, "\(error)")
        }
    }

    func testLabelVolumeRoundTripKeepsGeometry() throws {
        let root = try SharedData.readers()
        for path in ["nifti/example_seg.nii.gz", "nifti/example4d.nii.gz", "nifti/anatomical.nii"] {
            let source = try NIfTI.read(root.appendingPathComponent(path))
            var labels = source.volume.makeLabelVolume()
            let first = try source.volume.volume(at: 0)
            for i in 0..<labels.voxels.count { labels.voxels[i] = Float(Int(first.voxels[i]) % 200) }
            let dir = try temporaryDirectory()
            let url = dir.appendingPathComponent("labels.nii.gz")
            try NIfTI.writeLabelVolume(labels, to: url, type: .int16, qformCode: 2, sformCode: 2)
            let back = try NIfTI.read(url)
            XCTAssertEqual(back.header.sformCode, 2)
            XCTAssertEqual(back.header.qformCode, 2)
            XCTAssertEqual(back.volume.voxels, labels.voxels, path)
            XCTAssertLessThan(back.volume.affine.maxAbsDifference(source.volume.affine), 1e-5, path)
            XCTAssertLessThan(back.header.qformAffine!.maxAbsDifference(source.volume.affine), 1e-4,
                              "\(path) qform \(back.header.qformAffine!) vs \(source.volume.affine)")
            let contents = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            XCTAssertEqual(contents, ["labels.nii.gz"], "no temporary files left")
        }
    }

    func testUint8WriterClampsAndWriteFailureLeavesNoFile() throws {
        let v = try Volume(nx: 2, ny: 1, nz: 1, voxels: [-3, 300], spacing: SIMD3(1, 1, 1), affine: .identity)
        let bytes = try NIfTI.encodeLabelVolume(v, type: .uint8)
        XCTAssertEqual(Array(bytes.suffix(2)), [0, 255])
        let missing = URL(fileURLWithPath: "/nonexistent-dir/x.nii.gz")
        XCTAssertThrowsError(try NIfTI.writeLabelVolume(v, to: missing)) { error in
            XCTAssertEqual((error as! MedImageError).kind, .io)
        }
    }

    func testVolumeSlicesAlongEachAxis() throws {
        var voxels = [Float]()
        for z in 0..<4 { for y in 0..<3 { for x in 0..<2 { voxels.append(Float(100 * z + 10 * y + x)) } } }
        var v = try Volume(nx: 2, ny: 3, nz: 4, voxels: voxels, spacing: SIMD3(0.5, 0.7, 2), affine: .identity)
        let z = try v.slice(.z, index: 2)
        XCTAssertEqual([z.width, z.height], [2, 3])
        XCTAssertEqual(z[1, 1], 211)
        XCTAssertEqual(z.spacing, PixelSpacing(x: 0.5, y: 0.7))
        let y = try v.slice(.y, index: 1)
        XCTAssertEqual([y.width, y.height], [2, 4])
        XCTAssertEqual(y[3, 1], 311)
        let x = try v.slice(.x, index: 1)
        XCTAssertEqual([x.width, x.height], [3, 4])
        XCTAssertEqual(x[2, 2], 221)
        XCTAssertEqual(x.spacing, PixelSpacing(x: 0.7, y: 2))
        var edited = z
        edited[0, 0] = -1
        try v.setSlice(.z, index: 2, from: edited)
        XCTAssertEqual(v[0, 0, 2], -1)
        XCTAssertThrowsError(try v.slice(.z, index: 4))
        let labels = v.makeLabelVolume()
        XCTAssertEqual(labels.affine, v.affine)
        XCTAssertEqual(labels.voxels.count, 24)
    }
}
