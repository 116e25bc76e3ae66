import Foundation
import XCTest
@testable import SyncIO

final class SummaryTests: XCTestCase {
    func testTinySyncSAMParameterCount() throws {
        let pth = try CheckpointSummary.summarize(path: try SharedFolder.file("fixtures/tiny/syncsam.weights.pth"))
        XCTAssertEqual(pth.format, .pthZip)
        XCTAssertEqual(pth.parameterCount, 633_248)
        XCTAssertEqual(pth.rootKind, "state_dict")
        XCTAssertTrue(pth.structure.isEmpty)
        let buffers = pth.tensors.filter { !$0.isParameter }
        XCTAssertFalse(buffers.isEmpty)
        for info in buffers {
            let last = String(info.name.split(separator: ".").last!)
            XCTAssertTrue(CheckpointSummary.bufferNames.contains(last), info.name)
        }
        XCTAssertTrue(pth.tensors.contains { $0.name.hasSuffix("num_batches_tracked") && $0.dtype == .int64 && $0.shape == [] })
        let safetensors = try CheckpointSummary.summarize(path: try SharedFolder.file("fixtures/tiny/syncsam.weights.safetensors"))
        XCTAssertEqual(safetensors.format, .safetensors)
        XCTAssertEqual(safetensors.parameterCount, 633_248)
        XCTAssertEqual(safetensors.rootKind, "safetensors")
    }

    func testTrainingCheckpointStructureAndJSON() throws {
        let summary = try CheckpointSummary.summarize(path: try SharedFolder.file("fixtures/pth_cases/case_training_checkpoint.pth"))
        XCTAssertEqual(summary.rootKind, "dict")
        XCTAssertEqual(summary.structure.map(\.key), ["model", "optimizer", "epoch", "args"])
        // Only the model counts: (1*2*2*4) + (1*4); the optimizer's exp_avg and step are not parameters.
        XCTAssertEqual(summary.parameterCount, 20)
        let epoch = summary.structure[2]
        XCTAssertEqual(epoch.kind, "int")
        guard case .int(11)? = epoch.value else { return XCTFail("epoch value \(String(describing: epoch.value))") }
        XCTAssertEqual(summary.structure[0].tensorCount, 2)
        XCTAssertNil(summary.structure[0].value)

        let text = try summary.json()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["format"] as? String, "pth-zip")
        XCTAssertEqual((object["parameters"] as? [String: Any])?["total"] as? Int, 20)
        let tensors = try XCTUnwrap(object["tensors"] as? [String: [String: Any]])
        let pos = try XCTUnwrap(tensors["model.image_encoder.pos_embed"])
        XCTAssertEqual(pos["shape"] as? [Int], [1, 2, 2, 4])
        XCTAssertEqual(pos["dtype"] as? String, "float32")
        XCTAssertEqual(pos["parameter"] as? Bool, true)
        XCTAssertEqual(tensors["optimizer.state.0.exp_avg"]?["parameter"] as? Bool, false)
        let entries = try XCTUnwrap((object["structure"] as? [String: Any])?["entries"] as? [String: [String: Any]])
        XCTAssertEqual(entries["epoch"]?["value"] as? Int, 11)
        XCTAssertEqual((entries["args"]?["value"] as? [String: Any])?["note"] as? String, "text")
        XCTAssertEqual(entries["model"]?["tensors"] as? Int, 2)
        // Stable output: sorted keys.
        XCTAssertEqual(try summary.json(), text)
        let compact = try summary.json(pretty: false)
        XCTAssertTrue(compact.hasPrefix("{\"format\":\"pth-zip\",\"metadata\":{},\"parameters\":"), compact)
    }
}
