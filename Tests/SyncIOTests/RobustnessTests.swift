import Foundation
import XCTest
@testable import SyncIO

/// Damaged files must produce an error or a valid result, never a crash, a trap or a hang.
final class RobustnessTests: XCTestCase {
    /// Loads `bytes` as a checkpoint and, when that succeeds, converts every tensor (exercising the views).
    private func loadFully(_ bytes: [UInt8]) -> Bool {
        do {
            let checkpoint = try Checkpoint.load(ByteBuffer.copying(bytes), path: "damaged")
            for (_, tensor) in checkpoint.tensors.entries {
                XCTAssertEqual(tensor.floats().count, tensor.elementCount)
                XCTAssertEqual(tensor.int64s().count, tensor.elementCount)
            }
            _ = CheckpointSummary(checkpoint)
            return true
        } catch let error as CheckpointError {
            XCTAssertTrue(error.description.hasPrefix("damaged: "), error.description)
            return false
        } catch {
            XCTFail("untyped error \(error)")
            return false
        }
    }

    private func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try SharedFolder.file(relative))))
    }

    func testTruncationAtEveryOffset() throws {
        for file in ["fixtures/pth_cases/case_dtypes.pth", "fixtures/pth_cases/case_legacy.pth",
                     "fixtures/pth_cases/case_training_checkpoint.pth", "fixtures/pth_cases/expected.safetensors"] {
            let whole = try bytes(file)
            XCTAssertTrue(loadFully(whole), file)
            var loaded = 0
            for cut in 0..<whole.count where loadFully(Array(whole[..<cut])) { loaded += 1 }
            // A zip is only found through its end record, a legacy file needs all its storages, and a
            // safetensors header bounds its data: no strict prefix of these files is a valid checkpoint.
            XCTAssertEqual(loaded, 0, "\(file): \(loaded) truncated prefixes loaded")
        }
    }

    func testEveryByteFlipped() throws {
        for file in ["fixtures/pth_cases/case_dtypes.pth", "fixtures/pth_cases/case_legacy.pth",
                     "fixtures/pth_cases/case_views.pth", "fixtures/pth_cases/expected.safetensors"] {
            var damaged = try bytes(file)
            for offset in 0..<damaged.count {
                for mask: UInt8 in [0xFF, 0x01, 0x80] {
                    damaged[offset] ^= mask
                    _ = loadFully(damaged)
                    damaged[offset] ^= mask
                }
            }
        }
    }

    func testSafetensorsHeaderBytesSetToEveryValue() throws {
        var damaged = try bytes("fixtures/pth_cases/expected.safetensors")
        let headerEnd = min(damaged.count, 8 + 200)
        for offset in 0..<headerEnd {
            let original = damaged[offset]
            for value in [0x00, 0x20, 0x22, 0x2C, 0x30, 0x39, 0x5B, 0x7B, 0x7D, 0xFF] as [UInt8] {
                damaged[offset] = value
                _ = loadFully(damaged)
            }
            damaged[offset] = original
        }
    }
}
