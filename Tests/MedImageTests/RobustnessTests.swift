import Foundation
import XCTest

@testable import MedImage

/// Corrupted headers must produce errors or values, never traps or hangs.
final class RobustnessTests: XCTestCase {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    private func next() -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int(state >> 33)
    }

    private func mutate(_ data: Data, within prefix: Int, flips: Int) -> Data {
        var bytes = [UInt8](data)
        for _ in 0..<flips {
            let i = next() % min(prefix, bytes.count)
            bytes[i] = UInt8(next() % 256)
        }
        return Data(bytes)
    }

    func testMutatedHeadersNeverTrap() throws {
        let root = try SharedData.readers()
        let nifti = try Data(contentsOf: root.appendingPathComponent("nifti/anatomical.nii"))
        let dicom = try Data(contentsOf: root.appendingPathComponent("dicom/MR_small_implicit.dcm"))
        let explicit = try Data(contentsOf: root.appendingPathComponent("dicom/CT_small.dcm"))
        let rle = try Data(contentsOf: root.appendingPathComponent("dicom/compressed/RLE_MR_small_RLE.dcm"))
        let nrrd = try Data(contentsOf: root.appendingPathComponent("nrrd/sonivate-anechoic_1-1.nrrd"))
        let png = try Data(contentsOf: root.appendingPathComponent("png/BrainMidSagittalSlice_grey8.png"))
        var outcomes = [0, 0]
        for _ in 0..<150 {
            let cases: [() throws -> Void] = [
                { _ = try NIfTI.decode(self.mutate(nifti, within: 352, flips: 3), name: "m.nii") },
                { _ = try DICOM.decode(self.mutate(dicom, within: 1600, flips: 3), name: "m.dcm") },
                { _ = try DICOM.decode(self.mutate(explicit, within: 6300, flips: 3), name: "m.dcm") },
                { _ = try DICOM.decode(self.mutate(rle, within: rle.count, flips: 4), name: "m.dcm") },
                { _ = try NRRD.decode(self.mutate(nrrd, within: 365, flips: 2), name: "m.nrrd") },
                { _ = try PNGCodec.decode(self.mutate(png, within: png.count, flips: 3), name: "m.png") },
            ]
            for c in cases {
                do {
                    try c()
                    outcomes[0] += 1
                } catch let e as MedImageError {
                    XCTAssertFalse(e.description.contains("\n"))
                    outcomes[1] += 1
                }
            }
        }
        XCTAssertEqual(outcomes[0] + outcomes[1], 900)
    }
}
