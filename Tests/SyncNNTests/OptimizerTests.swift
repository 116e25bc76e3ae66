import Foundation
import XCTest
@testable import SyncNN
import SyncTensor

final class OptimizerTests: XCTestCase {
    struct FixtureOptimizer: Decodable {
        var lr: Float; var betas: [Float]; var eps: Float; var weight_decay: Float
    }
    struct Meta: Decodable { var optimizers: [String: FixtureOptimizer] }

    /// One Adam / AdamW step from the fixture's initial weights and `grad.*` reproduces `adam.*` / `adamw.*` (1e-5).
    func testOneStepMatchesFixtures() throws {
        for set in try Shared.syncSAMSets() {
            let weights = try FixtureTensors(set.appendingPathComponent("syncsam.weights.safetensors"))
            let io = try FixtureTensors(set.appendingPathComponent("syncsam.io.safetensors"))
            let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: set.appendingPathComponent("syncsam.json")))
            let gradNames = io.tensorNames.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) }
            XCTAssertFalse(gradNames.isEmpty)
            for (kind, hp) in meta.optimizers {
                let config = AdamConfig(learningRate: hp.lr, beta1: hp.betas[0], beta2: hp.betas[1], eps: hp.eps,
                                        weightDecay: hp.weight_decay, decoupledWeightDecay: kind == "adamw")
                var params: [(name: String, tensor: Tensor)] = []
                for n in gradNames {
                    let p = try weights.tensor(n)
                    p.grad = try io.tensor("grad.\(n)")
                    params.append((n, p))
                }
                let adam = Adam(parameters: params, config: config)
                adam.step()
                var worst: Float = 0
                for p in params {
                    let expected = try io.floatValues(of: "\(kind).\(p.name)")
                    let d = maxAbsDiff(p.tensor.toArray(), expected)
                    worst = max(worst, d)
                    XCTAssertLessThanOrEqual(d, 1e-5, "\(set.lastPathComponent) \(kind) \(p.name)")
                }
                print("\(set.lastPathComponent) \(kind): \(params.count) tensors, max |diff| \(worst)")
            }
        }
    }

    /// Hand-computed first two Adam steps on one scalar (g = 2 then -1, lr 0.1, L2 decay 0.5).
    func testAdamHandComputed() {
        let p = Tensor(shape: [1], values: [1])
        let adam = Adam(parameters: [("w", p)], config: AdamConfig(learningRate: 0.1, weightDecay: 0.5))
        p.grad = Tensor(shape: [1], values: [2])
        adam.step()
        // g = 2 + 0.5*1 = 2.5; m = 0.25, v = 0.00625; mhat/sqrt(vhat) = 1 => p = 0.9
        XCTAssertEqual(p.item(), 0.9, accuracy: 1e-6)
        p.grad = Tensor(shape: [1], values: [-1])
        adam.step()
        let g2 = -1 + 0.5 * 0.9
        let m = 0.9 * 0.25 + 0.1 * g2, v = 0.999 * 0.00625 + 0.001 * g2 * g2
        let expected = 0.9 - (0.1 / (1 - 0.81)) * m / ((v).squareRoot() / (1 - 0.999 * 0.999).squareRoot() + 1e-8)
        XCTAssertEqual(Double(p.item()), expected, accuracy: 1e-6)
    }

    /// AdamW decays the weight itself before the moment update: p = (1 - lr*wd) p - lr * sign(g) on step 1.
    func testAdamWDecoupledDecay() {
        let p = Tensor(shape: [2], values: [1, -2])
        let adam = Adam(parameters: [("w", p)], config: .adamW(learningRate: 0.1, weightDecay: 0.5))
        p.grad = Tensor(shape: [2], values: [3, 0])
        adam.step()
        XCTAssertEqual(p.toArray()[0], 0.95 - 0.1, accuracy: 1e-6)
        XCTAssertEqual(p.toArray()[1], -2 * 0.95, accuracy: 1e-6)   // zero gradient: only the decay
    }

    /// Saving the state and restoring it into a fresh optimiser continues bit-identically; no-grad params are skipped.
    func testStateRoundTripResumesExactly() throws {
        func run(_ steps: Int, _ a: Adam, _ ps: [Tensor], from: Int = 0) {
            for s in from..<(from + steps) {
                for (k, p) in ps.enumerated() {
                    p.grad = k == 2 && s % 2 == 0 ? nil : Tensor(shape: p.shape, values: (0..<p.count).map { Float(($0 + 1) * (s + 1) * (k + 1) % 7) - 3 })
                }
                a.step()
            }
        }
        let make = { [Tensor(shape: [3], values: [1, 2, 3]), Tensor(shape: [2, 2], values: [0.5, -1, 2, 0]), Tensor(shape: [1], values: [4])] }
        let full = make()
        let a = Adam(parameters: full.enumerated().map { ("p\($0.offset)", $0.element) }, config: .adamW(learningRate: 0.01))
        run(6, a, full)

        let half = make()
        let b = Adam(parameters: half.enumerated().map { ("p\($0.offset)", $0.element) }, config: .adamW(learningRate: 0.01))
        run(3, b, half)
        let saved = InMemoryTensors(b.stateTensors())
        XCTAssertEqual(saved.tensorNames.count, 9)
        XCTAssertEqual(try saved.floatValues(of: "optimizer.p2.step"), [1])   // skipped on steps 0 and 2
        let resumed = half.map { $0.clone() }
        let c = Adam(parameters: resumed.enumerated().map { ("p\($0.offset)", $0.element) }, config: .adamW(learningRate: 0.01))
        try c.loadState(from: saved)
        run(3, c, resumed, from: 3)
        for (x, y) in zip(full, resumed) { XCTAssertEqual(x.toArray(), y.toArray()) }

        XCTAssertThrowsError(try c.loadState(from: InMemoryTensors([]))) {
            XCTAssertEqual($0 as? OptimizerStateError, .missing("optimizer.p0.exp_avg"))
        }
    }

    func testSchedules() {
        let paper = LearningRateSchedule.paper
        XCTAssertEqual((0..<12).map { paper.learningRate(base: 1e-4, epoch: $0) },
                       Array(repeating: 1e-4, count: 10) + [Float(1e-5), Float(1e-5)])
        let ms = LearningRateSchedule.samMed2D
        XCTAssertEqual([0, 4, 5, 9, 10, 14].map { ms.learningRate(base: 1, epoch: $0) }, [1, 1, 0.5, 0.5, 0.25, 0.25])
        XCTAssertEqual(LearningRateSchedule.constant.learningRate(base: 3, epoch: 99), 3)
        let decoded = try? JSONDecoder().decode(LearningRateSchedule.self, from: JSONEncoder().encode(ms))
        XCTAssertEqual(decoded, ms)
    }
}
