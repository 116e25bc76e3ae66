// The allow list of pickle globals for tensor checkpoints, what calling each one means, and persistent ids.

extension Unpickler {
    /// The plain-data classes whose instances are kept as inert `PickleValue.object`s.
    static let inertClasses: Set<String> = ["argparse.Namespace"]

    /// True when `module.name` may appear in a checkpoint. Everything else is refused by name.
    static func isAllowed(module: String, name: String) -> Bool {
        switch (module, name) {
        case ("collections", "OrderedDict"),
             ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor_v3"),
             ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"),
             ("torch", "Size"), ("torch", "UntypedStorage"), ("torch.storage", "UntypedStorage"),
             ("builtins", "set"), ("builtins", "frozenset"), ("__builtin__", "set"), ("__builtin__", "frozenset"):
            return true
        case ("torch", _):
            return StorageDType(torchStorageName: name) != nil || StorageDType(torchDTypeName: name) != nil
        default:
            return inertClasses.contains(module + "." + name)
        }
    }

    func resolveGlobal(module: String, name: String) throws -> Node {
        guard Unpickler.isAllowed(module: module, name: name) else {
            throw CheckpointError.forbiddenGlobal(path: path, module: module, name: name)
        }
        return .global(module: module, name: name)
    }

    /// Evaluates REDUCE / NEWOBJ of an allowed global with `arguments` (a tuple), without executing anything.
    mutating func call(_ callable: Node, _ arguments: Node) throws -> Node {
        guard case let .global(module, name) = callable else { throw fail("REDUCE on something that is not a global") }
        guard case let .tuple(box) = arguments else { throw fail("REDUCE arguments of \(module).\(name) are not a tuple") }
        let args = box.items
        switch (module, name) {
        case ("collections", "OrderedDict"):
            let dict = newDict()
            if let first = args.first {
                guard case let .list(pairs) = first else { throw fail("OrderedDict argument is not a list") }
                for pair in pairs.items {
                    guard case let .tuple(items) = pair, items.items.count == 2 else { throw fail("OrderedDict item is not a pair") }
                    dict.set(items.items[0], items.items[1])
                }
            }
            return .dict(dict)
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor_v3"):
            let isV3 = name == "_rebuild_tensor_v3"
            guard args.count >= (isV3 ? 7 : 4), case let .storage(storage) = args[0],
                  let offset = intValue(args[1]), let shape = intTuple(args[2]), let strides = intTuple(args[3]) else {
                throw fail("\(name) arguments are not (storage, offset, size, stride, ...)")
            }
            var dtype = storage.dtype
            if isV3 {
                guard case let .global("torch", dtypeName) = args[6], let given = StorageDType(torchDTypeName: dtypeName) else {
                    throw fail("_rebuild_tensor_v3 dtype argument is not a torch dtype")
                }
                dtype = given
            }
            return .tensor(TensorRef(storage: storage, dtype: dtype, offset: offset, shape: shape, strides: strides))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = args.first, case .tensor = data else { throw fail("\(name) argument is not a tensor") }
            return data
        case ("torch", "Size"):
            guard let sizes = args.first, case .tuple = sizes else { throw fail("torch.Size argument is not a tuple") }
            return sizes
        case (_, "set"), (_, "frozenset"):
            guard let items = args.first else { return newList() }
            switch items {
            case let .list(list): return newList(list.items)
            case let .tuple(tuple): return newList(tuple.items)
            default: throw fail("\(name) argument is not a list")
            }
        default:
            let qualified = module + "." + name
            if Unpickler.inertClasses.contains(qualified) && args.isEmpty {
                return .object(newObject(type: qualified))
            }
            throw fail("cannot call \(qualified) with \(args.count) arguments")
        }
    }

    /// BUILD: attribute state of an inert object; ignored for dicts (OrderedDict `_metadata`) and tensors.
    mutating func build(_ target: Node, state: Node) throws {
        switch target {
        case let .object(box): box.state = state
        case .dict, .tensor, .list: break
        default: throw fail("BUILD on an unsupported value")
        }
    }

    /// Decodes a storage persistent id: `('storage', type, key, location, numel[, view_metadata])`.
    mutating func persistentLoad(_ pid: Node) throws -> Node {
        guard case let .tuple(box) = pid, box.items.count >= 5,
              case .scalar(.string("storage")) = box.items[0] else {
            throw fail("persistent id is not a ('storage', ...) tuple")
        }
        let items = box.items
        let dtype: StorageDType
        switch items[1] {
        case .global(_, "UntypedStorage"): dtype = .uint8
        case let .global("torch", name):
            guard let typed = StorageDType(torchStorageName: name) ?? StorageDType(torchDTypeName: name) else {
                throw fail("storage type torch.\(name) is not a storage")
            }
            dtype = typed
        default: throw fail("storage type is not a torch storage class")
        }
        guard let key = keyText(items[2]) else { throw fail("storage key is not a string") }
        guard let count = intValue(items[4]), count >= 0 else { throw fail("storage size is not a non-negative integer") }
        if storageTypes[key] == nil { storageTypes[key] = dtype }
        var storage = StorageRef(key: key, dtype: dtype, elementCount: count)
        if items.count >= 6, case let .tuple(view) = items[5] {  // legacy storage view: (view_key, offset, size)
            guard view.items.count == 3, let offset = intValue(view.items[1]), let size = intValue(view.items[2]),
                  offset >= 0, size >= 0 else { throw fail("malformed storage view metadata") }
            storage.viewOffset = offset
            storage.viewCount = size
        }
        return .storage(storage)
    }

    private func intValue(_ node: Node) -> Int? {
        if case let .scalar(.int(value)) = node { return value }
        return nil
    }

    private func intTuple(_ node: Node) -> [Int]? {
        guard case let .tuple(box) = node else { return nil }
        var values: [Int] = []
        values.reserveCapacity(box.items.count)
        for item in box.items {
            guard let value = intValue(item) else { return nil }
            values.append(value)
        }
        return values
    }

    private func keyText(_ node: Node) -> String? {
        switch node {
        case let .scalar(.string(text)): return text
        case let .scalar(.int(value)): return String(value)
        default: return nil
        }
    }
}

/// Where a storage's bytes are: a buffer, the byte offset of the storage in it, and its available byte count.
struct StorageBytes {
    let buffer: ByteBuffer
    let start: Int
    let count: Int
}

/// Turns the unpickler's node graph into an immutable `PickleValue`, rebuilding tensors from their storages.
/// Nesting depth and total size are bounded, so hostile pickles (cycles, exponential sharing) fail cleanly.
struct PickleFreezer {
    let path: String
    let resolve: (StorageRef) throws -> StorageBytes
    static let maximumValues = 2_000_000
    static let maximumDepth = 200
    var budget = PickleFreezer.maximumValues

    mutating func freeze(_ node: Node, depth: Int = 0, name: String = "") throws -> PickleValue {
        budget -= 1
        if budget < 0 { throw CheckpointError.badPickle(path: path, offset: 0, reason: "structure has more than \(PickleFreezer.maximumValues) values") }
        if depth > PickleFreezer.maximumDepth {
            throw CheckpointError.badPickle(path: path, offset: 0, reason: "structure nested deeper than \(PickleFreezer.maximumDepth) levels")
        }
        func child(_ key: String) -> String { name.isEmpty ? key : name + "." + key }
        switch node {
        case let .scalar(value): return value
        case let .list(box):
            return .list(try box.items.enumerated().map { try freeze($1, depth: depth + 1, name: child(String($0))) })
        case let .tuple(box):
            return .tuple(try box.items.enumerated().map { try freeze($1, depth: depth + 1, name: child(String($0))) })
        case let .dict(box):
            return .dict(try box.entries.map { entry in
                let key = try freeze(entry.key, depth: depth + 1, name: name)
                return (key, try freeze(entry.value, depth: depth + 1, name: child(key.keyText ?? "?")))
            })
        case let .object(box):
            return .object(type: box.type, state: try freeze(box.state, depth: depth + 1, name: name))
        case let .global(module, globalName):
            return .global(module + "." + globalName)
        case let .storage(storage):
            let ref = TensorRef(storage: storage, dtype: storage.dtype, offset: 0,
                                shape: [storage.viewCount ?? storage.elementCount], strides: [1])
            return .tensor(try tensor(ref, name: name))
        case let .tensor(ref):
            return .tensor(try tensor(ref, name: name))
        }
    }

    private func tensor(_ ref: TensorRef, name: String) throws -> StoredTensor {
        let storage = ref.storage
        let bytes = try resolve(storage)
        let itemSize = storage.dtype.itemSize
        let (declared, overflow) = storage.elementCount.multipliedReportingOverflow(by: itemSize)
        guard !overflow, declared <= bytes.count else {
            throw CheckpointError.truncated(path: path, what: "storage '\(storage.key)' declares \(storage.elementCount) elements but holds \(bytes.count) bytes")
        }
        var start = bytes.start
        var count = declared
        if let viewCount = storage.viewCount {
            let (viewEnd, overflowEnd) = storage.viewOffset.addingReportingOverflow(viewCount)
            guard !overflowEnd, viewEnd <= storage.elementCount else {
                throw CheckpointError.badTensor(path: path, name: name, reason: "storage view exceeds storage '\(storage.key)'")
            }
            start += storage.viewOffset * itemSize
            count = viewCount * itemSize
        }
        return try StoredTensor(validating: bytes.buffer, storageStart: start, storageBytes: count, dtype: ref.dtype,
                                elementOffset: ref.offset, shape: ref.shape, strides: ref.strides, path: path, name: name)
    }
}
