import Foundation
import SyncNN
import SyncSAM
import SyncTensor

extension ParitySuite {
    /// The fixture's training-step checks (fixtures/README.md): BatchNorm in training mode, the paper's frozen set,
    /// loss on logits upsampled to the input size, every trainable gradient of the first (encoder) step and of the
    /// decoder-only step, BatchNorm running statistics after the fixture's train-mode forwards, and the parameters
    /// after one Adam and one AdamW step from the first step's gradients.
    ///
    /// Adam's first step moves each element by about lr * sign(g); where the reference's float64 gradient is
    /// within float32 rounding of zero the sign can differ, so those elements (|g| <= 1e-4 max|g|) get their own
    /// check against the largest possible move, 2 lr.
    public static let syncSAMTraining = ParitySuite(name: "syncsam-training") { fixture in
        guard fixture.exists("syncsam.json"), fixture.exists("syncsam.io.safetensors") else { return [] }
        let ioFile = "syncsam.io.safetensors"
        let io = try fixture.tensors(ioFile)
        guard io.shape(of: "train.loss") != nil else { return [] }
        let meta = try fixture.json("syncsam.json")
        let config = try fixture.config("syncsam.json")
        let images = try fixture.tensor(io, "images", file: ioFile)
        let targets = try fixture.tensor(io, "train.targets", file: ioFile)
        let loss = SegmentationLoss()
        var checks: [ParityCheck] = []

        func freshModel() throws -> SyncSAMModel {
            let m = SyncSAMModel(config: config)
            try m.load(from: try fixture.weights("syncsam"))
            restoreEvalBatchNormStatistics(m, images: images)
            m.store.training = true
            return m
        }
        func lossCheck(_ name: String, _ value: Float, _ expected: Float) -> ParityCheck {
            ParityCheck(name: name, maxError: abs(value - expected), tolerance: 1e-5 * max(abs(expected), 1e-12))
        }
        func gradientChecks(_ model: SyncSAMModel, prefix: String) throws -> [ParityCheck] {
            try io.tensorNames.filter { $0.hasPrefix(prefix) }.map { name in
                let param = String(name.dropFirst(prefix.count))
                let expected = try io.floatValues(of: name)
                guard let g = model.store[param]?.grad else { return .failed("\(name) (no gradient)") }
                let bound = 1e-3 * expected.reduce(0) { max($0, abs($1)) } + 1e-6
                let err = zip(g.toArray(), expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                return ParityCheck(name: name, maxError: err, tolerance: bound)
            }
        }

        // Step 1: box prompts, gradients through the frozen ViT into the CNN branch.
        var model = try freshModel()
        let boxes = try fixture.prompts(io, prefix: "train", file: ioFile)
        let logits = model.decode(model.embed(images, trace: nil), prompts: boxes, multimaskOutput: false, trace: nil).lowResLogits
        checks.append(.output("train.low_res_logits", actual: logits, expected: try fixture.tensor(io, "train.low_res_logits", file: ioFile)))
        let (l1, _) = loss(logits: logits, targets: targets)
        checks.append(lossCheck("train.loss", l1.item(), try io.floatValues(of: "train.loss")[0]))
        l1.backward()
        checks += try gradientChecks(model, prefix: "grad.")
        let firstStepGradients = model.store.trainable.map { ($0.name, $0.tensor.grad?.clone()) }

        // Decoder-only step on features computed without gradient (a second train-mode encoder pass).
        let features = withNoGrad { model.embed(images, trace: nil) }.detached()
        for name in io.tensorNames where name.hasPrefix("bn_after.") {
            let key = String(name.dropFirst("bn_after.".count))
            guard let t = model.store[key] else { checks.append(.failed("\(name) (no such buffer)")); continue }
            checks.append(.output(name, actual: t, expected: try fixture.tensor(io, name, file: ioFile)))
        }
        model.store.zeroGrad()
        let step2 = try fixture.prompts(io, prefix: "step2", file: ioFile)
        let logits2 = model.decode(features, prompts: step2, multimaskOutput: false, trace: nil).lowResLogits
        checks.append(.output("step2.low_res_logits", actual: logits2, expected: try fixture.tensor(io, "step2.low_res_logits", file: ioFile)))
        let (l2, _) = loss(logits: logits2, targets: targets)
        checks.append(lossCheck("step2.loss", l2.item(), try io.floatValues(of: "step2.loss")[0]))
        l2.backward()
        checks += try gradientChecks(model, prefix: "step2.grad.")

        // One optimiser step from the first step's gradients.
        let optimizers = meta["optimizers"] as? [String: [String: Any]] ?? [:]
        for (kind, hp) in optimizers.sorted(by: { $0.key < $1.key }) {
            model = try freshModel()
            for (name, g) in firstStepGradients { model.store[name]?.grad = g }
            let betas = hp["betas"] as? [Double] ?? [0.9, 0.999]
            let lr = Float(hp["lr"] as? Double ?? 1e-4)
            let adam = Adam(trainableOf: model.store, config: AdamConfig(
                learningRate: lr, beta1: Float(betas[0]), beta2: Float(betas[1]), eps: Float(hp["eps"] as? Double ?? 1e-8),
                weightDecay: Float(hp["weight_decay"] as? Double ?? 0), decoupledWeightDecay: kind == "adamw"))
            adam.step()
            var worst: Float = 0, worstTiny: Float = 0, tiny = 0
            for name in io.tensorNames where name.hasPrefix("\(kind).") {
                let param = String(name.dropFirst(kind.count + 1))
                guard let actual = model.store[param]?.toArray() else { checks.append(.failed("\(name) (no such parameter)")); continue }
                let expected = try io.floatValues(of: name), grads = try io.floatValues(of: "grad.\(param)")
                let gMax = grads.reduce(Float(0)) { max($0, abs($1)) }
                for i in actual.indices {
                    let err = abs(actual[i] - expected[i])
                    if abs(grads[i]) > 1e-4 * gMax + 1e-7 { worst = max(worst, err) } else { worstTiny = max(worstTiny, err); tiny += 1 }
                }
            }
            checks.append(ParityCheck(name: "\(kind) parameters after one step", maxError: worst, tolerance: 1e-5))
            if tiny > 0 {
                checks.append(ParityCheck(name: "\(kind) \(tiny) near-zero-gradient elements (bound 2 lr)", maxError: worstTiny, tolerance: 2 * lr + 1e-6))
            }
        }
        return checks
    }
}
