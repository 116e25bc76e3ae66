// What `syncsam inspect` reports about a checkpoint: format, tensors, parameter count, top-level structure.
import Foundation

/// A description of a checkpoint for inspection: its format, every tensor's name, shape and dtype, the number of
/// trainable parameters, and the top-level structure of a training checkpoint (keys, kinds, scalar values).
public struct CheckpointSummary: Sendable {
    /// One tensor of the checkpoint.
    public struct TensorInfo: Sendable {
        /// Flattened dotted name.
        public let name: String
        /// Dimensions.
        public let shape: [Int]
        /// Stored element type.
        public let dtype: StorageDType
        /// True when the tensor counts as a model parameter (see `CheckpointSummary.isParameter`).
        public let isParameter: Bool
        /// Number of elements.
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// One top-level entry of a PyTorch checkpoint's pickle (a dict key, or a list index).
    public struct StructureEntry: Sendable {
        /// The key (or index) as text.
        public let key: String
        /// `PickleValue.kind` of the value.
        public let kind: String
        /// Tensors contained, at any depth.
        public let tensorCount: Int
        /// Number of items of a container value; nil for scalars and tensors.
        public let entryCount: Int?
        /// The value itself when it is a scalar, or a small container without tensors (such as `args`).
        public let value: PickleValue?
    }

    /// The file summarised.
    public let path: String
    /// Its format.
    public let format: CheckpointFormat
    /// Every tensor, in file order.
    public let tensors: [TensorInfo]
    /// Total number of parameter elements.
    public let parameterCount: Int
    /// Kind of the root value: `state_dict` (a dict of tensors only), `dict`, `list`, `tuple`, `tensor`...,
    /// or `safetensors`.
    public let rootKind: String
    /// Top-level entries for roots other than a plain state dict (empty otherwise).
    public let structure: [StructureEntry]
    /// The safetensors `__metadata__` map (empty for PyTorch files).
    public let metadata: [String: String]

    /// Names (last dotted component) of buffers that are not parameters: BatchNorm statistics and SAM's fixed
    /// random Fourier-feature matrix of the prompt encoder.
    public static let bufferNames: Set<String> = ["running_mean", "running_var", "num_batches_tracked",
                                                  "positional_encoding_gaussian_matrix"]

    /// Top-level keys that hold the model state dict in training checkpoints; when present, only tensors under
    /// them are parameters (optimiser state is not).
    public static let modelKeys = ["model", "state_dict", "model_state_dict"]

    /// True for a floating-point tensor whose last name component is not a buffer name.
    public static func isParameter(name: String, dtype: StorageDType) -> Bool {
        guard dtype.isFloatingPoint else { return false }
        let last = name.split(separator: ".").last.map(String.init) ?? name
        return !bufferNames.contains(last)
    }

    /// Loads and summarises the checkpoint at `path`.
    public static func summarize(path: String) throws -> CheckpointSummary {
        CheckpointSummary(try Checkpoint.load(path: path))
    }

    /// Summarises a loaded checkpoint.
    public init(_ checkpoint: Checkpoint) {
        path = checkpoint.path
        format = checkpoint.format
        metadata = checkpoint.metadata
        var modelPrefix: String? = nil
        if let root = checkpoint.structure {
            for key in CheckpointSummary.modelKeys {
                if let value = root[key], case .dict = value, value.tensorCount > 0 {
                    modelPrefix = key + "."
                    break
                }
            }
        }
        var total = 0
        var infos: [TensorInfo] = []
        for (name, tensor) in checkpoint.tensors.entries {
            let counted = CheckpointSummary.isParameter(name: name, dtype: tensor.dtype) && (modelPrefix.map { name.hasPrefix($0) } ?? true)
            if counted { total += tensor.elementCount }
            infos.append(TensorInfo(name: name, shape: tensor.shape, dtype: tensor.dtype, isParameter: counted))
        }
        tensors = infos
        parameterCount = total
        (rootKind, structure) = CheckpointSummary.describe(checkpoint.structure)
    }

    private static func describe(_ root: PickleValue?) -> (String, [StructureEntry]) {
        guard let root else { return ("safetensors", []) }
        var children: [(String, PickleValue)] = []
        switch root {
        case let .dict(entries):
            if entries.allSatisfy({ if case .tensor = $0.value { return true } else { return false } }) {
                return ("state_dict", [])
            }
            children = entries.map { ($0.key.keyText ?? "?", $0.value) }
        case let .list(items), let .tuple(items):
            children = items.enumerated().map { (String($0.offset), $0.element) }
        case let .object(_, state):
            return describe(state)
        default:
            return (root.kind, [])
        }
        return (root.kind, children.map { key, value in
            var count: Int? = nil
            switch value {
            case let .list(items), let .tuple(items): count = items.count
            case let .dict(entries): count = entries.count
            default: break
            }
            let tensors = value.tensorCount
            let small = tensors == 0 && size(of: value, limit: 256) <= 256
            return StructureEntry(key: key, kind: value.kind, tensorCount: tensors, entryCount: count,
                                  value: (small && value.kind != "tensor") ? value : nil)
        })
    }

    /// Number of values in `value`, counting stops past `limit`.
    private static func size(of value: PickleValue, limit: Int) -> Int {
        var total = 1
        switch value {
        case let .list(items), let .tuple(items):
            for item in items where total <= limit { total += size(of: item, limit: limit) }
        case let .dict(entries):
            for entry in entries where total <= limit { total += size(of: entry.value, limit: limit) }
        case let .object(_, state): total += size(of: state, limit: limit)
        default: break
        }
        return total
    }
}
