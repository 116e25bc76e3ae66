import Foundation
import XCTest
@testable import SyncNN
import SyncTensor

final class LossTests: XCTestCase {
    /// `train.loss` of every fixture set from `train.low_res_logits` and `train.targets` (relative 1e-5).
    func testMatchesFixtureTrainLoss() throws {
        for set in try Shared.syncSAMSets() {
            let io = try FixtureTensors(set.appendingPathComponent("syncsam.io.safetensors"))
            for tag in ["train", "step2"] where io.shape(of: "\(tag).loss") != nil {
                let logits = try io.tensor("\(tag).low_res_logits")
                let targets = try io.tensor("train.targets")
                let expected = try io.floatValues(of: "\(tag).loss")[0]
                let (loss, parts) = SegmentationLoss()(logits: logits, targets: targets)
                XCTAssertEqual(loss.item(), expected, accuracy: 1e-5 * abs(expected), "\(set.lastPathComponent) \(tag)")
                XCTAssertEqual(parts.total, Double(expected), accuracy: 1e-5 * Double(abs(expected)))
                XCTAssertEqual(parts.total, 20 * parts.dice + parts.focal, accuracy: 1e-9)
                print("\(set.lastPathComponent) \(tag).loss: \(parts.total) vs \(expected), rel \(abs(parts.total - Double(expected)) / Double(expected))")
            }
        }
    }

    /// Hand-computed: one 1x1 logit 0 (p = 0.5) with target 1 and one with target 0 (2 pixels).
    func testHandComputedValue() {
        let logits = Tensor(shape: [2, 1, 1, 1], values: [0, 0])
        let targets = Tensor(shape: [2, 1, 1, 1], values: [1, 0])
        let (_, parts) = SegmentationLoss()(logits: logits, targets: targets)
        // Dice: 1 - (2*0.5 + 1) / (1 + 1 + 1) = 1/3. Focal: mean of 0.25*0.25*ln2 and 0.75*0.25*ln2.
        XCTAssertEqual(parts.dice, 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(parts.focal, (0.0625 + 0.1875) * log(2.0) / 2, accuracy: 1e-9)
        XCTAssertEqual(parts.total, 20.0 / 3.0 + parts.focal, accuracy: 1e-9)
    }

    /// The fused gradient against central finite differences of the fused value, through the upsampling.
    func testGradientMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 7)
        let logits = Tensor.randomNormal([2, 1, 3, 3], std: 2, using: &rng)
        let targets = Tensor(shape: [2, 1, 6, 6], values: (0..<72).map { _ in rng.uniform() < 0.4 ? 1 : 0 })
        let config = SegmentationLossConfig(diceWeight: 3, focalWeight: 5)   // both terms matter in the check
        logits.requiresGrad = true
        let (loss, _) = SegmentationLoss(config)(logits: logits, targets: targets)
        loss.backward()
        let analytic = logits.grad!.toArray()
        let h: Float = 1e-2
        for i in 0..<logits.count {
            let old = logits.data[i]
            logits.data[i] = old + h
            let lp = withNoGrad { SegmentationLoss(config)(logits: logits, targets: targets).parts.total }
            logits.data[i] = old - h
            let lm = withNoGrad { SegmentationLoss(config)(logits: logits, targets: targets).parts.total }
            logits.data[i] = old
            let numeric = (lp - lm) / Double(2 * h)
            XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 1e-3 * max(1, abs(numeric)), "element \(i)")
        }
    }

    /// Gamma other than 2 and soft targets go through the general power path with the same gradient rule.
    func testGeneralGammaGradient() {
        var rng = SeededRandom(seed: 3)
        let logits = Tensor.randomNormal([1, 1, 4, 4], using: &rng)
        let targets = Tensor(shape: [1, 1, 4, 4], values: (0..<16).map { _ in rng.uniform() })
        let config = SegmentationLossConfig(diceWeight: 1, focalWeight: 10, focalAlpha: 0.4, focalGamma: 3)
        logits.requiresGrad = true
        SegmentationLoss(config)(logits: logits, targets: targets).loss.backward()
        let g = logits.grad!.toArray()
        let h: Float = 5e-3
        for i in 0..<logits.count {
            let old = logits.data[i]
            logits.data[i] = old + h
            let lp = SegmentationLoss(config)(logits: logits.detached(), targets: targets).parts.total
            logits.data[i] = old - h
            let lm = SegmentationLoss(config)(logits: logits.detached(), targets: targets).parts.total
            logits.data[i] = old
            XCTAssertEqual(Double(g[i]), (lp - lm) / Double(2 * h), accuracy: 1e-3)
        }
    }
}
