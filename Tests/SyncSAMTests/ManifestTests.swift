import Foundation
import SyncNN
import XCTest
@testable import SyncSAM

/// Full-size construction: tensor names, shapes, flags and counts equal `fixtures/manifests.json`.
final class ManifestTests: XCTestCase {
    /// Preset name -> manifest entry name in manifests.json.
    static let entries = ["syncsam34": "syncsam34", "syncsam50": "syncsam50", "sam_vit_b": "sam_vit_b_1024"]

    func testFullSizePresetsMatchTheReferenceManifests() throws {
        let url = try sharedDirectory().appendingPathComponent("fixtures/manifests.json")
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        for (presetName, entryName) in Self.entries.sorted(by: { $0.key < $1.key }) {
            let preset = try XCTUnwrap(ModelPreset.named(presetName))
            let reference = try XCTUnwrap(all[entryName] as? [String: Any], entryName)
            let start = Date()
            let manifest = ModelManifest(preset: preset)
            print("\(presetName): built in \(String(format: "%.2f", Date().timeIntervalSince(start))) s, \(manifest.parameters)")
            let refTensors = try XCTUnwrap(reference["tensors"] as? [String: [String: Any]])
            XCTAssertEqual(Set(manifest.tensors.keys), Set(refTensors.keys), "\(presetName): tensor names")
            for (name, ref) in refTensors {
                guard let mine = manifest.tensors[name] else { continue }
                XCTAssertEqual(mine.shape, ref["shape"] as? [Int], "\(presetName): \(name) shape")
                if let dtype = ref["dtype"] as? String { XCTAssertEqual(mine.dtype, dtype, "\(name) dtype") }
                if let p = ref["parameter"] as? Bool { XCTAssertEqual(mine.parameter, p, "\(name) parameter") }
                if let t = ref["trainable"] as? Bool { XCTAssertEqual(mine.trainable, t, "\(name) trainable") }
            }
            let counts = try XCTUnwrap(reference["parameters"] as? [String: Int])
            XCTAssertEqual(manifest.parameters.total, counts["total"], "\(presetName): total parameters")
            if let trainable = counts["trainable"] {
                XCTAssertEqual(manifest.parameters.trainable, trainable, "\(presetName): trainable parameters")
            }
            // The paper / SPEC section 0 counts, independently of the reference file.
            let paper = ["syncsam50": (138_092_588, 48_048_512), "syncsam34": (115_960_556, 25_916_480),
                         "sam_vit_b": (93_735_472, 93_735_472)]
            XCTAssertEqual(manifest.parameters.total, paper[presetName]!.0, presetName)
            XCTAssertEqual(manifest.parameters.trainable, paper[presetName]!.1, presetName)
            // The config encodes with exactly the reference's keys and values.
            if let refConfig = reference["config"] {
                let mine = try JSONSerialization.jsonObject(with: try manifest.jsonData()) as! [String: Any]
                XCTAssertEqual(mine["config"] as? NSDictionary, refConfig as? NSDictionary, "\(presetName): config")
            }
        }
    }

    /// SAM ViT-B at 256: SPEC Appendix A count, and the 1024 checkpoint layout adapted (SPEC 1.6) has exactly the
    /// model's names and shapes (pos_embed 64 -> 16, global rel-pos 127 -> 31, windowed tables unchanged).
    func testSAM256PresetAndTheAdapted1024Layout() throws {
        let url = try sharedDirectory().appendingPathComponent("fixtures/manifests.json")
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let sam1024 = try XCTUnwrap((all["sam_vit_b_1024"] as? [String: Any])?["tensors"] as? [String: [String: Any]])
        struct ShapesOnly: TensorSource {
            let shapes: [String: [Int]]
            var tensorNames: [String] { shapes.keys.sorted() }
            func shape(of name: String) -> [Int]? { shapes[name] }
            func floatValues(of name: String) throws -> [Float] { [] }
        }
        let source = ShapesOnly(shapes: sam1024.mapValues { $0["shape"] as! [Int] })
        let preset = ModelPreset.samViTB256
        let adapted = SAMCheckpointAdaptation(source, to: preset.config)
        let manifest = ModelManifest(preset: preset)
        XCTAssertEqual(manifest.parameters.total, 90_737_200)
        XCTAssertEqual(Set(adapted.tensorNames), Set(manifest.tensors.keys))
        for name in adapted.tensorNames {
            XCTAssertEqual(adapted.shape(of: name), manifest.tensors[name]?.shape, name)
        }
        XCTAssertEqual(adapted.shape(of: "image_encoder.pos_embed"), [1, 16, 16, 768])
        XCTAssertEqual(adapted.shape(of: "image_encoder.blocks.2.attn.rel_pos_h"), [31, 64])
        XCTAssertEqual(adapted.shape(of: "image_encoder.blocks.1.attn.rel_pos_h"), [27, 64])
        let dropped = SAMCheckpointAdaptation(source, to: preset.config, dropMultimaskHeads: true)
        XCTAssertFalse(dropped.tensorNames.contains { $0.contains("iou_prediction_head") || $0.contains("mask_tokens") })
        XCTAssertTrue(dropped.tensorNames.contains("mask_decoder.iou_token.weight"))
    }
}
