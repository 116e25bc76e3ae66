// The plain data a checkpoint's pickle describes: Python scalars, containers and tensors.

/// A value decoded from a checkpoint's pickle: Python scalars and containers, tensors, and inert objects of the
/// few allowed plain-data classes. Nothing is ever executed to produce it.
public indirect enum PickleValue: Sendable {
    /// Python `None`.
    case none
    /// Python `bool`.
    case bool(Bool)
    /// Python `int` (within 64 bits).
    case int(Int)
    /// Python `float`.
    case float(Double)
    /// Python `str`.
    case string(String)
    /// Python `bytes` / `bytearray`.
    case bytes([UInt8])
    /// Python `list` (sets are decoded as lists too).
    case list([PickleValue])
    /// Python `tuple` (and `torch.Size`).
    case tuple([PickleValue])
    /// Python `dict` or `OrderedDict`, in insertion order.
    case dict([(key: PickleValue, value: PickleValue)])
    /// A tensor or parameter.
    case tensor(StoredTensor)
    /// An instance of an allowed plain-data class (`argparse.Namespace`) with its attribute state.
    case object(type: String, state: PickleValue)
    /// A reference to an allowed global that is data rather than code (a dtype such as `torch.float32`).
    case global(String)

    /// A short name of the kind of value: `none`, `bool`, `int`, `float`, `string`, `bytes`, `list`, `tuple`,
    /// `dict`, `tensor`, `object` or `global`.
    public var kind: String {
        switch self {
        case .none: return "none"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "string"
        case .bytes: return "bytes"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .tensor: return "tensor"
        case .object: return "object"
        case .global: return "global"
        }
    }

    /// The value under string key `key` of a dict (or of an object's state dict), or nil.
    public subscript(key: String) -> PickleValue? {
        switch self {
        case let .dict(entries):
            for entry in entries { if case let .string(name) = entry.key, name == key { return entry.value } }
            return nil
        case let .object(_, state):
            return state[key]
        default:
            return nil
        }
    }

    /// The text used for this value as a component of a flattened tensor name (dict keys): strings as is,
    /// integers in decimal, other scalars in Python's spelling; nil for containers and tensors.
    public var keyText: String? {
        switch self {
        case let .string(text): return text
        case let .int(value): return String(value)
        case let .bool(value): return value ? "True" : "False"
        case let .float(value): return String(value)
        case .none: return "None"
        default: return nil
        }
    }

    /// Number of tensors contained in this value, at any depth.
    public var tensorCount: Int {
        switch self {
        case .tensor: return 1
        case let .list(items), let .tuple(items): return items.reduce(0) { $0 + $1.tensorCount }
        case let .dict(entries): return entries.reduce(0) { $0 + $1.value.tensorCount }
        case let .object(_, state): return state.tensorCount
        default: return 0
        }
    }
}
