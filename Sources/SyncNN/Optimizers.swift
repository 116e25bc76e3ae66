import Foundation
import SyncTensor

/// Hyper-parameters of Adam / AdamW (SPEC 0 "training loop", 6.4; SPEC 9 #11).
public struct AdamConfig: Codable, Sendable, Equatable {
    public var learningRate: Float = 1e-4
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float = 0
    /// false: PyTorch `Adam` (weight decay added to the gradient, L2); true: `AdamW` (decoupled decay of the weights).
    public var decoupledWeightDecay = false

    public init(learningRate: Float = 1e-4, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// The paper's optimiser: Adam, lr 1e-4, no weight decay.
    public static let paper = AdamConfig()
    /// AdamW with PyTorch's default decay 0.01.
    public static func adamW(learningRate: Float = 1e-4, weightDecay: Float = 0.01) -> AdamConfig {
        AdamConfig(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }
}

/// Errors restoring optimiser state.
public enum OptimizerStateError: Error, CustomStringConvertible, Equatable {
    case missing(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missing(let n): return "optimizer state lacks tensor \(n)"
        case .shapeMismatch(let n, let e, let f): return "optimizer state \(n) has shape \(f), parameter needs \(e)"
        }
    }
}

/// Adam and AdamW with exactly PyTorch's update (`torch.optim.Adam` / `AdamW`, non-amsgrad, single tensor path):
///
///     t += 1;  g += wd * p (Adam)  |  p *= 1 - lr * wd (AdamW)
///     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///     p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
///
/// Arithmetic per element is in Double and rounded once to Float32. Parameters without a gradient are skipped
/// and keep their own step count, as in PyTorch. State (`exp_avg`, `exp_avg_sq`, `step` per parameter) is exported
/// and restored as named tensors for an exact resume.
public final class Adam {
    public var config: AdamConfig
    /// Parameters stepped, by checkpoint name.
    public let parameters: [(name: String, tensor: Tensor)]
    private var expAvg: [Tensor]
    private var expAvgSq: [Tensor]
    private var steps: [Int]

    /// An optimiser over the given parameters (e.g. `store.trainable`).
    public init(parameters: [(name: String, tensor: Tensor)], config: AdamConfig = .paper) {
        self.config = config
        self.parameters = parameters
        expAvg = parameters.map { Tensor(zeros: $0.tensor.shape) }
        expAvgSq = parameters.map { Tensor(zeros: $0.tensor.shape) }
        steps = [Int](repeating: 0, count: parameters.count)
    }

    /// An optimiser over the store's currently trainable parameters.
    public convenience init(trainableOf store: ParameterStore, config: AdamConfig = .paper) {
        self.init(parameters: store.trainable.map { ($0.name, $0.tensor) }, config: config)
    }

    /// Learning rate used by the next `step()` (set it from a schedule each epoch).
    public var learningRate: Float {
        get { config.learningRate }
        set { config.learningRate = newValue }
    }

    /// Number of updates applied to the parameter at `index`.
    public func stepCount(_ index: Int) -> Int { steps[index] }

    /// One update of every parameter that has a gradient.
    public func step() {
        let lr = Double(config.learningRate), b1 = Double(config.beta1), b2 = Double(config.beta2)
        let eps = Double(config.eps), wd = Double(config.weightDecay), decoupled = config.decoupledWeightDecay
        for (k, p) in parameters.enumerated() {
            guard let grad = p.tensor.grad else { continue }
            precondition(grad.count == p.tensor.count, "gradient \(grad.shape) for parameter \(p.name) \(p.tensor.shape)")
            steps[k] += 1
            let t = Double(steps[k])
            let stepSize = lr / (1 - Foundation.pow(b1, t))
            let bc2Sqrt = (1 - Foundation.pow(b2, t)).squareRoot()
            let x = p.tensor.data, g = grad.data, m = expAvg[k].data, v = expAvgSq[k].data
            Parallel.forRange(p.tensor.count, costPerItem: 16) { r in
                for i in r {
                    var pi = Double(x[i]), gi = Double(g[i])
                    if wd != 0 {
                        if decoupled { pi *= 1 - lr * wd } else { gi += wd * pi }
                    }
                    let mi = b1 * Double(m[i]) + (1 - b1) * gi
                    let vi = b2 * Double(v[i]) + (1 - b2) * gi * gi
                    m[i] = Float(mi); v[i] = Float(vi)
                    pi -= stepSize * mi / (vi.squareRoot() / bc2Sqrt + eps)
                    x[i] = Float(pi)
                }
            }
        }
    }

    /// Clears the gradients of the optimised parameters.
    public func zeroGrad() { for p in parameters { p.tensor.grad = nil } }

    /// The state as named tensors: `<param>.exp_avg`, `<param>.exp_avg_sq`, `<param>.step` (0-d), under `prefix`.
    public func stateTensors(prefix: String = "optimizer.") -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (k, p) in parameters.enumerated() {
            out.append(("\(prefix)\(p.name).exp_avg", expAvg[k].clone()))
            out.append(("\(prefix)\(p.name).exp_avg_sq", expAvgSq[k].clone()))
            out.append(("\(prefix)\(p.name).step", Tensor(scalar: Float(steps[k]))))
        }
        return out
    }

    /// Restores state written by `stateTensors(prefix:)` (all parameters must be present with their shapes).
    public func loadState(from source: TensorSource, prefix: String = "optimizer.") throws {
        var newAvg: [[Float]] = [], newSq: [[Float]] = [], newSteps: [Int] = []
        for p in parameters {
            for suffix in ["exp_avg", "exp_avg_sq"] {
                let name = "\(prefix)\(p.name).\(suffix)"
                guard let shape = source.shape(of: name) else { throw OptimizerStateError.missing(name) }
                guard shape.reduce(1, *) == p.tensor.count else {
                    throw OptimizerStateError.shapeMismatch(name: name, expected: p.tensor.shape, found: shape)
                }
                let values = try source.floatValues(of: name)
                if suffix == "exp_avg" { newAvg.append(values) } else { newSq.append(values) }
            }
            let stepName = "\(prefix)\(p.name).step"
            guard source.shape(of: stepName) != nil else { throw OptimizerStateError.missing(stepName) }
            newSteps.append(Int(try source.floatValues(of: stepName).first ?? 0))
        }
        for k in parameters.indices {
            expAvg[k] = Tensor(shape: parameters[k].tensor.shape, values: newAvg[k])
            expAvgSq[k] = Tensor(shape: parameters[k].tensor.shape, values: newSq[k])
        }
        steps = newSteps
    }
}

/// Learning rate per epoch (SPEC 9 #11): constant, step decay (x `gamma` every `stepSize` epochs, PyTorch
/// `StepLR`) or multi-step (x `gamma` at each milestone, PyTorch `MultiStepLR`). Epochs count from 0, so the paper's
/// "x0.1 at epoch 10 of 12" is `.step(stepSize: 10, gamma: 0.1)`: epochs 0-9 at lr, 10-11 at 0.1 lr.
public enum LearningRateSchedule: Codable, Sendable, Equatable {
    case constant
    case step(stepSize: Int, gamma: Float)
    case multiStep(milestones: [Int], gamma: Float)

    /// The paper's schedule: x0.1 from epoch 10 (of 12).
    public static let paper = LearningRateSchedule.step(stepSize: 10, gamma: 0.1)
    /// SAM-Med2D's `--lr_scheduler`: x0.5 at epochs 5 and 10.
    public static let samMed2D = LearningRateSchedule.multiStep(milestones: [5, 10], gamma: 0.5)

    /// Learning rate of `epoch` (0-based) from the base rate.
    public func learningRate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .step(let size, let gamma):
            return base * Float(Foundation.pow(Double(gamma), Double(epoch / max(size, 1))))
        case .multiStep(let milestones, let gamma):
            let passed = milestones.filter { epoch >= $0 }.count
            return base * Float(Foundation.pow(Double(gamma), Double(passed)))
        }
    }
}
