import Foundation
import MedImage
import SyncSAM
import XCTest
@testable import SyncTrain

/// The evaluator with the shipped LiteMedSAM weights reproduces the PyTorch Dice of every mask of
/// `fixtures/litemedsam/real.json` (tight ground-truth boxes at the original resolution, LiteMedSAM's own
/// preprocessing, logits cropped and resized back, > 0). Skipped when the weights are not in the cache.
final class EvalLiteMedSAMTests: XCTestCase {
    func testRealFixtureDiceReproduced() throws {
        let data = try Shared.data("samed2d_mini")
        let fixture = Shared.root!.appendingPathComponent("fixtures/litemedsam/real.json")
        guard FileManager.default.fileExists(atPath: fixture.path) else { throw XCTSkip("\(fixture.path) not present") }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var roots = [repo.appendingPathComponent("cache").path]
        if let c = ProcessInfo.processInfo.environment["SYNCSAM_CACHE"] { roots.insert(c, at: 0) }
        guard let weights = roots.map({ "\($0)/litemedsam/lite_medsam.pth" }).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("LiteMedSAM weights not found under \(roots) (scripts/fetch-litemedsam.sh)")
        }
        let loaded = try ModelFactory.load(checkpoint: weights, config: "litemedsam")
        let json = try XCTUnwrap(try Shared.json(fixture) as? [String: Any])
        let cases = try XCTUnwrap(json["cases"] as? [[String: Any]])
        XCTAssertFalse(cases.isEmpty)
        let dataset = try SAMed2DDataset.index(root: data)
        var evaluator = Evaluator(loaded, seed: 0, nsdTolerance: nil, computeHD95: false)
        evaluator.boxRule = .tightOriginal
        for c in cases {
            let image = try XCTUnwrap(c["image"] as? String)
            let masks = try XCTUnwrap(c["masks"] as? [String])
            let expected = try XCTUnwrap(c["dice"] as? [Double])
            var record = try XCTUnwrap(dataset.records.first { $0.id == image })
            record.masks = masks.map { m in record.masks.first { $0.id == m }! }
            let scores = try evaluator.run(dataset, records: [record], modes: [.box], seeds: [0]).scores
            XCTAssertEqual(scores.map(\.maskID), masks)
            for (s, want) in zip(scores, expected) {
                // Float32 vs the float64 reference: a few boundary pixels may flip.
                XCTAssertEqual(s.dice, want, accuracy: 5e-3, "\(s.maskID)")
            }
        }
    }
}
