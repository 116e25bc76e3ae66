import XCTest
@testable import SyncIO

/// The PyTorch checkpoint cases of fixtures/pth_cases against the tensors in their expected.safetensors.
final class PthCasesTests: XCTestCase {
    func testEveryCaseLoadsToExactlyTheExpectedTensors() throws {
        let expected = try Checkpoint.load(path: try SharedFolder.file("fixtures/pth_cases/expected.safetensors"))
        let cases = try SharedFolder.list("fixtures/pth_cases").filter { $0.hasPrefix("case_") && $0.hasSuffix(".pth") }
        XCTAssertGreaterThanOrEqual(cases.count, 4)
        var checked = 0
        for file in cases {
            let name = String(file.dropLast(4))
            let checkpoint = try Checkpoint.load(path: try SharedFolder.file("fixtures/pth_cases/" + file))
            XCTAssertEqual(checkpoint.format, name == "case_legacy" ? .pthLegacy : .pthZip, file)
            let keys = expected.tensors.names.filter { $0.hasPrefix(name + ".") }
            XCTAssertFalse(keys.isEmpty, "no expected tensors for \(name)")
            for key in keys {
                assertSameTensor(checkpoint.tensors[String(key.dropFirst(name.count + 1))], expected.tensors[key]!, key)
                checked += 1
            }
        }
        XCTAssertEqual(checked, expected.tensors.count, "every expected tensor belongs to a case")
    }

    func testDtypesCaseConvertsExactly() throws {
        let checkpoint = try Checkpoint.load(path: try SharedFolder.file("fixtures/pth_cases/case_dtypes.pth"))
        let tensors = checkpoint.tensors
        XCTAssertEqual(tensors.names, ["f32", "f16", "bf16", "f64", "i64", "num_batches_tracked", "scalar_f32"])
        XCTAssertEqual(tensors["f16"]?.dtype, .float16)
        XCTAssertEqual(tensors["bf16"]?.dtype, .bfloat16)
        XCTAssertEqual(tensors["f64"]?.dtype, .float64)
        XCTAssertEqual(tensors["i64"]?.int64s(), [0, 1, 2, 3, 4])
        XCTAssertEqual(tensors["num_batches_tracked"]?.shape, [])
        XCTAssertEqual(tensors["num_batches_tracked"]?.int64s(), [17])
        XCTAssertEqual(tensors["scalar_f32"]?.floats(), [2.5])
        XCTAssertEqual(tensors["f32"]?.shape, [2, 3, 4])
        // bfloat16 -> float32 is exact: the high 16 bits of each float are the stored bits.
        let bf16 = tensors["bf16"]!
        let raw = bf16.contiguousBytes()
        for (i, value) in bf16.floats().enumerated() {
            XCTAssertEqual(value.bitPattern, UInt32(raw[2 * i]) << 16 | UInt32(raw[2 * i + 1]) << 24)
        }
    }

    func testViewsShareOneStorage() throws {
        let tensors = try Checkpoint.load(path: try SharedFolder.file("fixtures/pth_cases/case_views.pth")).tensors
        let base = tensors["base"]!.floats()
        XCTAssertEqual(tensors["base"]?.shape, [6, 5])
        let transposed = tensors["transposed"]!
        XCTAssertEqual(transposed.shape, [5, 6])
        XCTAssertFalse(transposed.isContiguous)
        let values = transposed.floats()
        for i in 0..<5 { for j in 0..<6 { XCTAssertEqual(values[i * 6 + j], base[j * 5 + i]) } }
        XCTAssertEqual(tensors["rows"]!.floats(), Array(base[10..<20]))
        XCTAssertEqual(tensors["column"]!.floats(), (0..<6).map { base[$0 * 5 + 1] })
    }

    func testTrainingCheckpointStructure() throws {
        let checkpoint = try Checkpoint.load(path: try SharedFolder.file("fixtures/pth_cases/case_training_checkpoint.pth"))
        let structure = try XCTUnwrap(checkpoint.structure)
        guard case .int(11) = structure["epoch"] else { return XCTFail("epoch is \(String(describing: structure["epoch"]))") }
        guard case .int(256) = structure["args"]?["image_size"] else { return XCTFail("args.image_size") }
        guard case .string("text") = structure["args"]?["note"] else { return XCTFail("args.note") }
        XCTAssertEqual(checkpoint.tensors["optimizer.state.0.step"]?.floats(), [3.0])
        XCTAssertEqual(checkpoint.tensors["optimizer.state.0.exp_avg"]?.floats(), [0, 0, 0, 0])
        let model = checkpoint.tensors.strippingPrefix("model.")
        XCTAssertEqual(model.names, ["image_encoder.pos_embed", "mask_decoder.med_token.weight"])
        XCTAssertEqual(model["image_encoder.pos_embed"]?.shape, [1, 2, 2, 4])
    }

    func testBadFilesThrowClearErrors() throws {
        let truncated = try SharedFolder.file("fixtures/pth_cases/bad_truncated.pth")
        let error = expectCheckpointError { _ = try Checkpoint.load(path: truncated) }
        guard case .truncated = error else { return XCTFail("expected .truncated, got \(String(describing: error))") }
        XCTAssertTrue(error!.description.contains("bad_truncated.pth"), error!.description)
        XCTAssertTrue(error!.description.contains("truncated"), error!.description)

        let garbage = try SharedFolder.file("fixtures/pth_cases/bad_not_a_checkpoint.pth")
        let other = expectCheckpointError { _ = try Checkpoint.load(path: garbage) }
        XCTAssertEqual(other, .notACheckpoint(path: garbage))
        XCTAssertTrue(other!.description.contains("bad_not_a_checkpoint.pth: not a checkpoint"), other!.description)

        let missing = expectCheckpointError { _ = try Checkpoint.load(path: garbage + ".does-not-exist") }
        guard case .unreadable = missing else { return XCTFail("expected .unreadable, got \(String(describing: missing))") }
    }
}
