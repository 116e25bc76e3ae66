// An ordered collection of named tensors.

/// Named tensors in file order, with lookup by name. Names are unique; inserting an existing name keeps the first.
public struct TensorMap: Sendable {
    /// Tensor names in the order of the file (pickle order, or data order for safetensors).
    public private(set) var names: [String] = []
    private var byName: [String: StoredTensor] = [:]

    /// An empty map.
    public init() {}

    /// A map of `entries`, in their order (later duplicates of a name are ignored).
    public init(_ entries: [(name: String, tensor: StoredTensor)]) {
        for entry in entries { insert(entry.tensor, named: entry.name) }
    }

    /// Number of tensors.
    public var count: Int { names.count }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> StoredTensor? { byName[name] }

    /// The tensors with their names, in order.
    public var entries: [(name: String, tensor: StoredTensor)] { names.map { ($0, byName[$0]!) } }

    /// Adds `tensor` under `name`; returns false (and changes nothing) when the name is already present.
    @discardableResult
    public mutating func insert(_ tensor: StoredTensor, named name: String) -> Bool {
        guard byName[name] == nil else { return false }
        names.append(name)
        byName[name] = tensor
        return true
    }

    /// The tensors whose names start with `prefix`, renamed without it (for instance `"model."` of a training
    /// checkpoint, or `"module."` of a DataParallel save).
    public func strippingPrefix(_ prefix: String) -> TensorMap {
        var result = TensorMap()
        for name in names where name.hasPrefix(prefix) {
            result.insert(byName[name]!, named: String(name.dropFirst(prefix.count)))
        }
        return result
    }

    /// All tensors of `value` (a decoded pickle) with dotted names: dict keys and list or tuple indices joined by
    /// `.`; a bare tensor at the root is named `tensor`.
    public static func flattening(_ value: PickleValue) -> TensorMap {
        var map = TensorMap()
        collect(value, prefix: "", into: &map)
        return map
    }

    private static func collect(_ value: PickleValue, prefix: String, into map: inout TensorMap) {
        func join(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }
        switch value {
        case let .tensor(tensor):
            map.insert(tensor, named: prefix.isEmpty ? "tensor" : prefix)
        case let .dict(entries):
            for entry in entries {
                if let key = entry.key.keyText { collect(entry.value, prefix: join(key), into: &map) }
            }
        case let .list(items), let .tuple(items):
            for (index, item) in items.enumerated() { collect(item, prefix: join(String(index)), into: &map) }
        case let .object(_, state):
            collect(state, prefix: prefix, into: &map)
        default:
            break
        }
    }
}
