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

    /// When true (task-locally) while a store is created, the store defers initial values: see
    /// `deferringInitialisation(_:)`.
    @TaskLocal public static var defersInitialisation = false

    /// Runs `body` (typically a model initialiser followed by `load(from:options:)`) so that the stores it
    /// creates register zero-filled tensors (untouched `calloc` pages: no time, no resident memory) and remember
    /// their initialisers. The first `load` then fills only the tensors the checkpoint did not provide, with
    /// exactly the values an eager build would have given them; `initialisePendingTensors()` fills all of them.
    public static func deferringInitialisation<R>(_ body: () throws -> R) rethrows -> R {
        try $defersInitialisation.withValue(true, operation: body)
    }

    /// Whether new tensors are registered with deferred initial values (until the first load).
    public private(set) var isDeferringInitialisation: Bool
    /// Initialisers not yet applied, by entry index (deferred mode).
    private var pending: [Int: Initialiser] = [:]
    private var generator: SeededRandom
    /// Draws of `generator` that an eager build would have made for tensors a checkpoint provided instead.
    private var owedDraws = 0

    /// Source of random initial values for layers created without a checkpoint. Its state is always what an
    /// eager build would have left, deferred initialisation or not.
    public var rng: SeededRandom {
        get { settleOwedDraws(); return generator }
        set { owedDraws = 0; generator = newValue }
    }

    public init(seed: UInt64 = 0) {
        generator = SeededRandom(seed: seed)
        isDeferringInitialisation = ParameterStore.defersInitialisation
    }

    /// A builder rooted at the empty prefix.
    public var root: VarBuilder { VarBuilder(store: self, prefix: "") }

    /// Registers `tensor` under `name`. Names must be unique.
    public func register(_ name: String, _ tensor: Tensor, kind: Kind) {
        precondition(index[name] == nil, "duplicate parameter name \(name)")
        index[name] = entries.count
        entries.append(Entry(name: name, tensor: tensor, kind: kind))
        tensor.requiresGrad = false
    }

    /// Creates and registers a tensor of `shape` under `name`: initialised now, or zero-filled with `initialiser`
    /// remembered when initialisation is deferred.
    func create(_ name: String, _ shape: [Int], _ initialiser: Initialiser, kind: Kind) -> Tensor {
        let tensor: Tensor
        if isDeferringInitialisation {
            tensor = Tensor(zeros: shape)
            if !initialiser.isZeros { pending[entries.count] = initialiser }
        } else {
            settleOwedDraws()
            tensor = initialiser.make(shape, rng: &generator)
        }
        register(name, tensor, kind: kind)
        return tensor
    }

    /// Gives every tensor whose initialisation was deferred its initial values (no-op otherwise) and ends
    /// deferred mode. Tensors at `provided` indices (copied from a checkpoint) are skipped; the generator still
    /// advances over them, so every other tensor gets the value of an eager build.
    func initialisePendingTensors(except provided: Set<Int>) {
        isDeferringInitialisation = false
        guard !pending.isEmpty else { return }
        settleOwedDraws()
        for i in pending.keys.sorted() {
            let initialiser = pending[i]!, tensor = entries[i].tensor
            if provided.contains(i) {
                owedDraws += initialiser.draws(tensor.count)
            } else {
                settleOwedDraws()
                initialiser.fill(tensor.data, count: tensor.count, rng: &generator)
            }
        }
        pending = [:]
    }

    /// Gives every tensor whose initialisation was deferred its initial values and ends deferred mode.
    public func initialisePendingTensors() { initialisePendingTensors(except: []) }

    /// Applies the generator draws skipped for checkpoint-provided tensors (lazily: a full load never pays).
    private func settleOwedDraws() {
        if owedDraws > 0 { generator.skip(owedDraws); owedDraws = 0 }
    }

    /// Position of `name` in `entries`.
    func entryIndex(_ name: String) -> Int? { index[name] }

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
        store.create(key(name), shape, initialiser, kind: .parameter)
    }

    /// A buffer (saved in checkpoints, never trained).
    public func buffer(_ name: String, _ shape: [Int], _ initialiser: Initialiser) -> Tensor {
        store.create(key(name), shape, initialiser, kind: .buffer)
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
        if isZeros { return Tensor(zeros: shape) }
        let t = Tensor(zeros: shape, zeroed: false)
        fill(t.data, count: t.count, rng: &rng)
        return t
    }

    /// Writes `count` initial values to `out`, drawing `draws(count)` times from `rng`.
    func fill(_ out: UnsafeMutablePointer<Float>, count: Int, rng: inout SeededRandom) {
        switch self {
        case .zeros: out.update(repeating: 0, count: count)
        case .ones: out.update(repeating: 1, count: count)
        case .constant(let v): out.update(repeating: v, count: count)
        case .normal(let std): rng.fillNormal(out, count: count, std: std)
        case .uniformFanIn(let fan):
            let b = 1 / Float(max(fan, 1)).squareRoot()
            rng.fillUniform(out, count: count, low: -b, high: b)
        }
    }

    /// Generator calls (`SeededRandom.next()`) that initialising `count` values makes.
    func draws(_ count: Int) -> Int {
        switch self {
        case .zeros, .ones, .constant: return 0
        case .normal: return 2 * count
        case .uniformFanIn: return count
        }
    }

    var isZeros: Bool { if case .zeros = self { return true } else { return false } }
}
