import Foundation
import SyncIO
import SyncNN
import SyncSAM
import SyncTensor
import XCTest
@testable import SyncTrain

/// `--init sam=FILE,cnn=FILE` and the frozen sets.
final class TrainInitTests: XCTestCase {
    /// Fixture sets with a SyncSAM config and a SAM checkpoint built at another size (with its adapted tensors).
    func sets() throws -> [URL] {
        guard let root = Shared.root else { throw XCTSkip("shared folder not found") }
        let dir = root.appendingPathComponent("fixtures")
        let sets = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { dir.appendingPathComponent($0) }
            .filter { set in ["syncsam.json", "sam.weights.safetensors", "sam.io.safetensors"].allSatisfy {
                FileManager.default.fileExists(atPath: set.appendingPathComponent($0).path) } }
        if sets.isEmpty { throw XCTSkip("no fixture set with syncsam.json + sam.weights.safetensors") }
        return sets
    }

    func config(_ set: URL) throws -> SyncSAMConfig {
        try SyncSAMConfig.decode(json: Data(contentsOf: set.appendingPathComponent("syncsam.json")))
    }

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("traininit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// A torchvision-style ResNet file: the CNN branch of `donor` under bare names (`num_batches_tracked` int64),
    /// plus an `fc` head that must be ignored.
    func writeTorchvisionResNet(from donor: SyncSAMModel, to url: URL) throws -> [String: [Float]] {
        let prefix = "image_encoder.cnn."
        var items: [(name: String, tensor: StoredTensor)] = [], values: [String: [Float]] = [:]
        for (name, t) in donor.store.namedTensors where name.hasPrefix(prefix) {
            let bare = String(name.dropFirst(prefix.count))
            values[bare] = t.toArray()
            items.append((bare, bare.hasSuffix("num_batches_tracked")
                ? StoredTensor(shape: t.shape, int64s: t.toArray().map { Int64($0) + 7 })
                : StoredTensor(shape: t.shape, floats: t.toArray())))
            if bare.hasSuffix("num_batches_tracked") { values[bare] = t.toArray().map { $0 + 7 } }
        }
        let features = donor.config.cnn!.outChannels.last!
        items.append(("fc.weight", StoredTensor(shape: [10, features], floats: [Float](repeating: 0.5, count: 10 * features))))
        items.append(("fc.bias", StoredTensor(shape: [10], floats: [Float](repeating: 0.5, count: 10))))
        try Safetensors.write(items, to: url.path)
        return values
    }

    func testInitPlacesSAMAndTorchvisionWeights() throws {
        for set in try sets() {
            let name = set.lastPathComponent
            let cfg = try config(set)
            let dir = try temporaryDirectory()
            let resnet = dir.appendingPathComponent("resnet.safetensors")
            let expectedCNN = try writeTorchvisionResNet(from: SyncSAMModel(config: cfg, seed: 11), to: resnet)
            let samPath = set.appendingPathComponent("sam.weights.safetensors").path
            let sam = try Safetensors.read(path: samPath).tensors
            let io = try Safetensors.read(path: set.appendingPathComponent("sam.io.safetensors").path).tensors

            let model = SyncSAMModel(config: cfg, seed: 3)
            let untouched = SyncSAMModel(config: cfg, seed: 3)
            let spec = try InitSpec(parsing: "sam=\(samPath),cnn=\(resnet.path)")
            let report = try PretrainedInitialisation.apply(spec, to: model)
            XCTAssertTrue(report.zeroedFusion)
            XCTAssertEqual(report.cnn?.loaded.count, expectedCNN.count, name)

            var checked = (cnn: 0, sam: 0, adapted: 0, fusion: 0, own: 0)
            for (key, t) in model.store.namedTensors {
                let values = t.toArray()
                if key.hasPrefix("image_encoder.cnn.") {
                    XCTAssertEqual(values, expectedCNN[String(key.dropFirst("image_encoder.cnn.".count))], "\(name) \(key)")
                    checked.cnn += 1
                } else if key.hasPrefix("image_encoder.fusion.") && key.contains(".proj.") {
                    XCTAssertTrue(values.allSatisfy { $0 == 0 }, "\(name) \(key) zero-initialised")
                    checked.fusion += 1
                } else if let adapted = io["adapted.\(key)"] ?? (key == "image_encoder.pos_embed" ? io["adapted.pos_embed"] : nil) {
                    // Resized the SAM-Med2D way: the fixture's adapted tensors (float64 reference).
                    let expected = adapted.floats()
                    let bound = 1e-5 * max(1, expected.map(abs).max() ?? 0)
                    XCTAssertEqual(values.count, expected.count, "\(name) \(key)")
                    XCTAssertLessThanOrEqual(zip(values, expected).map { abs($0 - $1) }.max() ?? 0, bound, "\(name) \(key)")
                    checked.adapted += 1
                } else if let s = sam[key] {
                    XCTAssertEqual(values, s.floats(), "\(name) \(key) from SAM")
                    checked.sam += 1
                } else if key == "mask_decoder.med_token.weight" {
                    XCTAssertEqual(values, Array(try XCTUnwrap(sam["mask_decoder.mask_tokens.weight"]).floats().prefix(values.count)))
                } else if key.hasPrefix("mask_decoder.med_mlp.") {
                    let source = "mask_decoder.output_hypernetworks_mlps.0." + key.dropFirst("mask_decoder.med_mlp.".count)
                    XCTAssertEqual(values, try XCTUnwrap(sam[source]).floats(), "\(name) \(key)")
                } else {
                    // Multi-scale branch and fusion `spatial`: the model's own initialisation.
                    XCTAssertTrue(PretrainedInitialisation.syncSAMOnlyPrefixes.contains { key.hasPrefix($0) }, "\(name) \(key)")
                    XCTAssertEqual(values, untouched.store[key]!.toArray(), "\(name) \(key)")
                    checked.own += 1
                }
            }
            XCTAssertEqual(checked.cnn, expectedCNN.count, name)
            XCTAssertEqual(checked.fusion, 8, name)
            XCTAssertEqual(checked.adapted, 1 + 2 * cfg.vit.globalAttnIndexes.count, "\(name): pos_embed + global rel-pos")
            XCTAssertGreaterThan(checked.sam, 0, name)
            XCTAssertGreaterThan(checked.own, 0, name)
            XCTAssertNil(model.store["image_encoder.cnn.fc.weight"])

            // Zeroed projections: the SyncSAM encoder output equals the adapted SAM ViT's on any image.
            var rng = SeededRandom(seed: 5)
            let image = Tensor.randomNormal([1, 3, cfg.imageSize, cfg.imageSize], using: &rng)
            let samModel = SAMModel(config: cfg, seed: 0)
            _ = try PretrainedInitialisation.loadSAM(samPath, into: samModel)
            let (a, b) = withNoGrad { (model.embed(image, trace: nil).features, samModel.embed(image, trace: nil).features) }
            let err = zip(a.toArray(), b.toArray()).map { abs($0 - $1) }.max() ?? 1
            XCTAssertLessThanOrEqual(err, 1e-5, "\(name): zero fusion keeps SAM's encoder output")
        }
    }

    func testInitRejectsWrongFiles() throws {
        let all = try sets()
        let set = all[0], cfg = try config(set)
        let dir = try temporaryDirectory()
        let model = SyncSAMModel(config: cfg, seed: 3)
        let before = model.store.namedTensors.map { $0.1.toArray() }
        func unchanged(_ label: String) {
            XCTAssertEqual(model.store.namedTensors.map { $0.1.toArray() }, before, "\(label): model untouched")
        }
        // A ResNet of another architecture.
        if let other = all.first(where: { (try? config($0))?.cnn != cfg.cnn }) {
            let url = dir.appendingPathComponent("other.safetensors")
            _ = try writeTorchvisionResNet(from: SyncSAMModel(config: try config(other)), to: url)
            XCTAssertThrowsError(try PretrainedInitialisation.apply(InitSpec(cnn: url.path), to: model)) {
                guard case .weights(let path, _)? = $0 as? TrainingSetupError else { return XCTFail("\($0)") }
                XCTAssertEqual(path, url.path)
            }
            unchanged("foreign ResNet")
        }
        // The SAM file given as the ResNet, and a ResNet file given as SAM.
        let samPath = set.appendingPathComponent("sam.weights.safetensors").path
        XCTAssertThrowsError(try PretrainedInitialisation.apply(InitSpec(cnn: samPath), to: model))
        let resnet = dir.appendingPathComponent("resnet.safetensors")
        _ = try writeTorchvisionResNet(from: SyncSAMModel(config: cfg), to: resnet)
        XCTAssertThrowsError(try PretrainedInitialisation.apply(InitSpec(sam: resnet.path), to: model)) {
            XCTAssertEqual($0 as? TrainingSetupError, .weights(path: resnet.path, reason: "not a SAM checkpoint (no image_encoder.* tensors)"))
        }
        XCTAssertThrowsError(try PretrainedInitialisation.apply(InitSpec(sam: dir.appendingPathComponent("none.pth").path), to: model))
        unchanged("wrong files")
        // A SAM model has no CNN branch.
        XCTAssertThrowsError(try PretrainedInitialisation.apply(InitSpec(cnn: resnet.path), to: SAMModel(config: cfg)))

        XCTAssertEqual(try InitSpec(parsing: "sam=a.pth,cnn=b.pth"), InitSpec(sam: "a.pth", cnn: "b.pth"))
        XCTAssertEqual(try InitSpec(parsing: "cnn=b=c.pth"), InitSpec(cnn: "b=c.pth"))
        for bad in ["", "sam", "sam=", "sam=a,sam=b", "vit=a", "sam=a,"] {
            XCTAssertThrowsError(try InitSpec(parsing: bad), bad) {
                guard case .badInitSpec(let s, _)? = $0 as? TrainingSetupError else { return XCTFail("\(bad): \($0)") }
                XCTAssertEqual(s, bad)
            }
        }
    }

    func testFreezeModes() throws {
        for set in try sets() {
            let meta = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: set.appendingPathComponent("syncsam.json"))) as? [String: Any])
            let counts = try XCTUnwrap(meta["parameters"] as? [String: Int])
            let prefixes = try XCTUnwrap(meta["trainable_prefixes"] as? [String])
            let built = TrainableModel(kind: .syncsam, config: try config(set))
            XCTAssertEqual(FreezeMode.defaultMode(for: built.model), .paper)
            try FreezeMode.decoder.apply(to: built.model)
            XCTAssertTrue(built.model.store.trainable.allSatisfy { $0.name.hasPrefix("mask_decoder.") })
            try FreezeMode.none.apply(to: built.model)
            XCTAssertEqual(built.parameterCounts.trainable, counts["total"])
            try FreezeMode.paper.apply(to: built.model)
            XCTAssertEqual(built.parameterCounts.total, counts["total"])
            XCTAssertEqual(built.parameterCounts.trainable, counts["trainable"])
            XCTAssertTrue(built.model.store.trainable.allSatisfy { e in prefixes.contains { e.name.hasPrefix($0) } })

            let sam = TrainableModel(kind: .sam, config: try config(set))
            XCTAssertEqual(FreezeMode.defaultMode(for: sam.model), .decoder)
            XCTAssertThrowsError(try FreezeMode.paper.apply(to: sam.model)) {
                XCTAssertEqual($0 as? TrainingSetupError, .freezeNeedsSyncSAM)
            }
        }
    }
}
