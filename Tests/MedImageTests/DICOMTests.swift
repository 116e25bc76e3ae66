import Foundation
import XCTest

@testable import MedImage

final class DICOMTests: XCTestCase {
    private static let decodable: Set<String> = [
        "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5",
    ]

    /// Every single-file DICOM entry of expected.json: header attributes, stored statistics, samples, extras,
    /// rescaled statistics; undecodable transfer syntaxes must name their UID and syntax.
    func testDICOMEntriesMatchExpected() throws {
        let root = try SharedData.readers()
        let entries = try SharedData.expectedEntries().filter {
            ($0["path"] as? String)?.hasPrefix("dicom/") == true && $0["format"] as? String == "DICOM"
        }
        XCTAssertGreaterThanOrEqual(entries.count, 10)
        var checked = 0
        for e in entries {
            let path = e["path"] as! String
            let info = e["dicom"] as! [String: Any]
            let uid = info["transfer_syntax_uid"] as! String
            let url = root.appendingPathComponent(path)
            guard Self.decodable.contains(uid) else {
                XCTAssertThrowsError(try DICOM.read(url), path) { error in
                    let err = error as! MedImageError
                    XCTAssertEqual(err.kind, .unsupported, path)
                    XCTAssertEqual(err.description,
                                   "\(url.lastPathComponent): unsupported DICOM transfer syntax \(uid) (\(info["transfer_syntax_name"] as! String))")
                }
                continue
            }
            let image = try DICOM.read(url)
            checked += 1
            XCTAssertEqual(image.transferSyntax.uid, uid, path)
            XCTAssertEqual(image.transferSyntax.name, info["transfer_syntax_name"] as? String, path)
            XCTAssertEqual(image.rows, (info["rows"] as! NSNumber).intValue, path)
            XCTAssertEqual(image.columns, (info["columns"] as! NSNumber).intValue, path)
            XCTAssertEqual(image.frames, (info["number_of_frames"] as! NSNumber).intValue, path)
            XCTAssertEqual(image.samplesPerPixel, (info["samples_per_pixel"] as! NSNumber).intValue, path)
            XCTAssertEqual(image.bitsAllocated, (info["bits_allocated"] as! NSNumber).intValue, path)
            XCTAssertEqual(image.bitsStored, (info["bits_stored"] as! NSNumber).intValue, path)
            XCTAssertEqual(image.pixelRepresentation, (info["pixel_representation"] as! NSNumber).intValue, path)
            XCTAssertEqual(image.photometricInterpretation, info["photometric_interpretation"] as? String, path)
            XCTAssertEqual(image.isMonochrome1, info["photometric_interpretation"] as? String == "MONOCHROME1")
            XCTAssertEqual(image.modality, info["modality"] as? String, path)
            XCTAssertEqual(image.sopClassUID, info["sop_class_uid"] as? String, path)
            if let ps = (info["pixel_spacing_row_col_mm"] as? [NSNumber])?.map(\.doubleValue), ps[0] > 0 {
                XCTAssertEqual(image.pixelSpacing, PixelSpacing(x: ps[1], y: ps[0]), path)
            } else {
                XCTAssertNil(image.pixelSpacing, "\(path): zero/absent spacing must not be used")
            }
            if let ipp = (info["image_position_patient"] as? [NSNumber])?.map(\.doubleValue) {
                XCTAssertEqual(image.imagePositionPatient, SIMD3(ipp[0], ipp[1], ipp[2]), path)
            } else {
                XCTAssertNil(image.imagePositionPatient, path)
            }
            XCTAssertEqual(image.imageOrientationPatient, (info["image_orientation_patient"] as? [NSNumber])?.map(\.doubleValue))
            XCTAssertEqual(image.sliceThickness, double(info["slice_thickness"]), path)
            XCTAssertEqual(image.rescaleSlope, double(info["rescale_slope"]) ?? 1, path)
            XCTAssertEqual(image.rescaleIntercept, double(info["rescale_intercept"]) ?? 0, path)
            XCTAssertEqual(image.windows.first?.level, double(info["window_center"]), path)
            XCTAssertEqual(image.windows.first?.width, double(info["window_width"]), path)

            let decoded = e["decoded"] as! [String: Any]
            let shape = ints(decoded["shape"])!
            XCTAssertEqual(image.storedValues.count, shape.reduce(1, *), path)
            assertStats(image.storedValues, decoded["stored"] as? [String: Any], path)
            let multiFrame = image.frames > 1
            for s in decoded["samples_stored"] as! [[String: Any]] {
                let idx = ints(s["index"])!
                let (f, r, c) = multiFrame ? (idx[0], idx[1], idx[2]) : (0, idx[0], idx[1])
                let base = ((f * image.rows + r) * image.columns + c) * image.samplesPerPixel
                if let rgb = ints(s["value"]), image.samplesPerPixel == 3 {
                    XCTAssertEqual((0..<3).map { Int(image.storedValues[base + $0]) }, rgb, "\(path) \(idx)")
                } else {
                    XCTAssertEqual(Double(image.storedValues[base]), double(s["value"]), "\(path) \(idx)")
                }
            }
            for (_, x) in decoded["file_order_extras_stored"] as? [String: Any] ?? [:] {
                guard let d = x as? [String: Any] else { continue }
                XCTAssertEqual(Double(image.storedValues[(d["linear_element_offset"] as! NSNumber).intValue]),
                               double(d["value"]), path)
            }
            if let rescaled = decoded["rescaled"] as? [String: Any] {
                let hu = try image.frame(0, rescaled: true)
                assertStats(hu.pixels, rescaled, "\(path) rescaled")
                for s in decoded["samples_rescaled"] as? [[String: Any]] ?? [] {
                    let idx = ints(s["index"])!
                    XCTAssertEqual(Double(hu[idx[0], idx[1]]), double(s["value"]), "\(path) HU \(idx)")
                }
            }
        }
        XCTAssertEqual(checked, 6)
    }

    func testFiveMRSmallVariantsAreIdenticalWhereDecodable() throws {
        let root = try SharedData.readers()
        let entry = try SharedData.entry("dicom/MR_small_implicit.dcm")
        let members = (entry["identical_pixels_group"] as! [String: Any])["members"] as! [String]
        XCTAssertEqual(members.count, 5)
        let reference = try DICOM.read(root.appendingPathComponent(members[0])).storedValues
        var decoded = 0
        for m in members {
            do {
                let image = try DICOM.read(root.appendingPathComponent(m))
                XCTAssertEqual(image.storedValues, reference, m)
                decoded += 1
            } catch {
                XCTAssertEqual(error.kind, .unsupported, "\(m): \(error)")
            }
        }
        XCTAssertEqual(decoded, 3)  // implicit, big endian, RLE; J2K and JPEG-LS report their syntax
    }

    func testBrokenAndNonImageDICOMGiveClearErrors() throws {
        let root = try SharedData.readers()
        let broken = try SharedData.entry("broken/CT_small_truncated_in_pixeldata.dcm")
        XCTAssertThrowsError(try DICOM.read(root.appendingPathComponent("broken/CT_small_truncated_in_pixeldata.dcm"))) { error in
            let e = error as! MedImageError
            XCTAssertEqual(e.kind, .truncated)
            let declared = (broken["pixel_data_declared_length"] as! NSNumber).intValue
            let present = (broken["pixel_data_present_bytes"] as! NSNumber).intValue
            XCTAssertEqual(e.description,
                           "CT_small_truncated_in_pixeldata.dcm: pixel data truncated (expected \(declared) bytes, found \(present))")
        }
        XCTAssertThrowsError(try DICOM.read(root.appendingPathComponent("dicom/no_pixel_data/DICOMDIR"))) { error in
            let e = error as! MedImageError
            XCTAssertEqual(e.kind, .noPixelData)
            XCTAssertEqual(e.description, "DICOMDIR: no pixel data (7FE0,0010) (a DICOMDIR, Media Storage Directory)")
        }
        // Every prefix of a valid file fails cleanly (or decodes when complete); nothing traps or hangs.
        let full = try Data(contentsOf: root.appendingPathComponent("dicom/MR_small_implicit.dcm"))
        for cut in stride(from: 0, to: full.count, by: 97) {
            XCTAssertThrowsError(try DICOM.decode(full.prefix(cut), name: "cut.dcm"), "cut at \(cut)")
        }
        let rle = try Data(contentsOf: root.appendingPathComponent("dicom/compressed/RLE_MR_small_RLE.dcm"))
        // The sequence delimiter of its encapsulated pixel data ends at byte 7652; 138 bytes of elements follow,
        // which a reader does not need, so only cuts before 7652 must fail.
        for cut in stride(from: 0, to: 7652, by: 101) {
            XCTAssertThrowsError(try DICOM.decode(rle.prefix(cut), name: "cut.dcm"), "RLE cut at \(cut)")
        }
        XCTAssertThrowsError(try DICOM.decode(Data(repeating: 0x55, count: 1000), name: "junk.dcm"))
    }

    func testMonochrome1DisplayIsInvertedButStoredValuesAreNot() throws {
        let root = try SharedData.readers()
        let image = try DICOM.read(root.appendingPathComponent("dicom/RG1_UNCR.dcm"))
        XCTAssertTrue(image.isMonochrome1)
        XCTAssertEqual(image.storedValues[0], 18889)
        let display = try image.displayImage()  // header window 15000 / 30000
        let windowed = (18889.0 - 0) / 30000 * 255
        XCTAssertEqual(Double(display.pixels[0]), 255 - windowed, accuracy: 1e-3)
    }

    func testCTSeriesOrderGeometryAndHU() throws {
        let root = try SharedData.readers()
        let e = try SharedData.entry("dicom/ct_series_totalseg/")
        let series = e["series"] as! [String: Any]
        let decoded = e["decoded"] as! [String: Any]
        let s = try DICOM.readSeries(folder: root.appendingPathComponent("dicom/ct_series_totalseg"))
        XCTAssertEqual(s.files.map(\.lastPathComponent), series["sorted_files"] as! [String])
        XCTAssertEqual(s.slices.map { $0.instanceNumber ?? -1 }, ints(series["sorted_instance_numbers"]))
        let v = s.volume
        XCTAssertEqual([v.nz, v.ny, v.nx], ints(series["volume_shape_slice_row_col"]))
        let spacing = (series["voxel_spacing_mm_col_row_slice"] as! [NSNumber]).map(\.doubleValue)
        XCTAssertEqual([v.spacing.x, v.spacing.y, v.spacing.z], spacing)
        XCTAssertLessThan(v.affineLPS.maxAbsDifference(matrix(series["affine_lps_index_ijk"])!), 1e-9)
        XCTAssertLessThan(v.affine.maxAbsDifference(matrix(series["affine_ras_index_ijk"])!), 1e-9)
        XCTAssertEqual(s.sliceGaps.count, 19)
        for gap in s.sliceGaps { XCTAssertEqual(gap, double(series["slice_spacing_from_ipp_mm"])!, accuracy: 1e-9) }
        assertStats(v.voxels, decoded["rescaled"] as? [String: Any], "series HU")
        for sample in decoded["samples_rescaled_HU"] as! [[String: Any]] {
            let i = ints(sample["index"])!
            XCTAssertEqual(Double(v[i[2], i[1], i[0]]), double(sample["value"]), "HU \(i)")
        }
        let extras = decoded["volume_order_extras_HU"] as! [String: Any]
        let firstMax = extras["first_max"] as! [String: Any]
        XCTAssertEqual(Double(v.voxels[(firstMax["linear_element_offset"] as! NSNumber).intValue]), double(firstMax["value"]))
        let axial = try v.slice(.z, index: 10)
        XCTAssertEqual(axial[256, 256], -47)
    }
}
