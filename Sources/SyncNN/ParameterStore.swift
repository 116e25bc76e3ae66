import SyncTensor

/// Every parameter and buffer of a model under its exact PyTorch checkpoint name, in creation order.
///
/// Layers are built through a `VarBuilder` whose path prefix (`vb["blocks"][3]["attn"]`) reproduces the
/// state-dict key, so loading a checkpoint needs no mapping table (candle's `VarBuilder`, MLX's module keys).
/// The store also carries model-wide state: BatchNorm training mode and the seeded initialiser.
public final class ParameterStore: @unchecked Sendable {
    /// Kind of a registered tensor: learnable parameter, or buffer (BatchNorm stats, fixed PE matrices).
    public enum Kind: String, Sendable, Codable { case parameter, buffer }

    public struct Entry: Sendable {
        public let name: String
        public let tensor: Tensor
        public let kind: Kind
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    /// BatchNorm layers use batch statistics and update running stats when true.
    public var training = false
    /// Source of random initial values for layers created without a checkpoint.
    public var rng: SeededRandom

    public init(seed: UInt64 = 0) { rng = SeededRandom(seed: seed) }

    /// A builder rooted at the empty prefix.
    public var root: VarBuilder { VarBuilder(store: self, prefix: "") }

    /// Registers `tensor` under `name`. Names must be unique.
    public func register(_ name: String, _ tensor: Tensor, kind: Kind) {
        precondition(index[name] == nil, "duplicate parameter name \(name)")
        index[name] = entries.count
        entries.append(Entry(name: name, tensor: tensor, kind: kind))
        tensor.requiresGrad = false
    }

    /// The tensor registered under `name`.
    public subscript(name: String) -> Tensor? { index[name].map { entries[$0].tensor } }

    /// Learnable parameters (buffers excluded).
    public var parameters: [Entry] { entries.filter { $0.kind == .parameter } }

    /// Total number of learnable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.tensor.count } }

    /// Marks exactly the parameters whose names start with one of `prefixes` as trainable (`requiresGrad`);
    /// everything else is frozen. An empty list freezes all; `nil` makes all parameters trainable.
    public func setTrainable(prefixes: [String]?) {
        for e in entries {
            guard e.kind == .parameter else { e.tensor.requiresGrad = false; continue }
            if let prefixes { e.tensor.requiresGrad = prefixes.contains { e.name.hasPrefix($0) } }
            else { e.tensor.requiresGrad = true }
        }
    }

    /// Parameters currently trainable.
    public var trainable: [Entry] { entries.filter { $0.kind == .parameter && $0.tensor.requiresGrad } }

    /// Clears every gradient.
    public func zeroGrad() { for e in entries { e.tensor.grad = nil } }
}

/// A path into a `ParameterStore`: creates parameters under `prefix.name` (checkpoint key order and spelling).
public struct VarBuilder {
    public let store: ParameterStore
    public let prefix: String

    /// Child path `prefix.name`.
    public subscript(_ name: String) -> VarBuilder {
        VarBuilder(store: store, prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
    }

    /// Child path `prefix.i` (list index, `nn.Sequential` / `nn.ModuleList` position).
    public subscript(_ i: Int) -> VarBuilder { self[String(i)] }

    /// Full key of a tensor named `name` here.
    public func key(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    /// A learnable parameter initialised by `initialiser`.
    public func parameter(_ name: String, _ shape: [Int], _ initialiser: Initialiser) -> Tensor {
        let t = initialiser.make(shape, rng: &store.rng)
        store.register(key(name), t, kind: .parameter)
        return t
    }

    /// A buffer (saved in checkpoints, never trained).
    public func buffer(_ name: String, _ shape: [Int], _ initialiser: Initialiser) -> Tensor {
        let t = initialiser.make(shape, rng: &store.rng)
        store.register(key(name), t, kind: .buffer)
        return t
    }
}

/// Initial values of a new parameter (PyTorch's defaults where it matters for training from scratch).
public enum Initialiser: Sendable {
    case zeros
    case ones
    case constant(Float)
    case normal(std: Float)
    /// U(-b, b) with b = 1 / sqrt(fanIn): PyTorch's default for Linear/Conv weights and biases.
    case uniformFanIn(Int)

    func make(_ shape: [Int], rng: inout SeededRandom) -> Tensor {
        switch self {
        case .zeros: return Tensor(zeros: shape)
        case .ones: return Tensor(filled: 1, shape: shape)
        case .constant(let v): return Tensor(filled: v, shape: shape)
        case .normal(let std): return Tensor.randomNormal(shape, std: std, using: &rng)
        case .uniformFanIn(let fan):
            let b = 1 / Float(max(fan, 1)).squareRoot()
            return Tensor.randomUniform(shape, low: -b, high: b, using: &rng)
        }
    }
}
