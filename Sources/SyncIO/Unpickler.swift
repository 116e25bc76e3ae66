// A restricted pickle virtual machine: the opcodes torch.save emits (protocols 2-5), no code execution.

/// A storage record named by a persistent id in a PyTorch pickle.
struct StorageRef {
    /// Archive key of the storage (`data/<key>` in the zip format, the key list entry in the legacy format).
    let key: String
    /// Element type of the storage (`uint8` for untyped storages).
    let dtype: StorageDType
    /// Declared element count.
    let elementCount: Int
    /// Legacy storage views: element offset into the root storage and element count of the view.
    var viewOffset = 0
    var viewCount: Int?
}

/// A tensor to be rebuilt once its storage bytes are known.
struct TensorRef {
    let storage: StorageRef
    let dtype: StorageDType
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

/// A value on the unpickler's stack or in its memo. Mutable containers are boxes so that memo references see
/// later appends, as in Python.
enum Node {
    case scalar(PickleValue)  // none, bool, int, float, string, bytes
    case list(ListBox)
    case tuple(TupleBox)
    case dict(DictBox)
    case object(ObjectBox)
    case global(module: String, name: String)
    case storage(StorageRef)
    case tensor(TensorRef)
}

/// A container whose children can be released without recursion (see `Unpickler.dismantle`).
protocol ReleasableContainer: AnyObject { func releaseChildren() }

final class ListBox: ReleasableContainer {
    var items: [Node] = []
    func releaseChildren() { items = [] }
}

final class TupleBox: ReleasableContainer {
    var items: [Node]
    init(_ items: [Node]) { self.items = items }
    func releaseChildren() { items = [] }
}

final class DictBox: ReleasableContainer {
    var entries: [(key: Node, value: Node)] = []
    private var index: [String: Int] = [:]

    /// Python `d[key] = value`: replaces the value of an equal scalar key, otherwise appends.
    func set(_ key: Node, _ value: Node) {
        if let hash = DictBox.hashKey(key) {
            if let slot = index[hash] {
                entries[slot].value = value
                return
            }
            index[hash] = entries.count
        }
        entries.append((key, value))
    }

    private static func hashKey(_ node: Node) -> String? {
        guard case let .scalar(value) = node else { return nil }
        switch value {
        case let .string(text): return "s" + text
        case let .int(number): return "i\(number)"
        case let .bool(flag): return flag ? "i1" : "i0"
        case let .float(number): return number == number.rounded() && abs(number) < 1e18 ? "i\(Int(number))" : "f\(number)"
        case .none: return "n"
        default: return nil
        }
    }

    func releaseChildren() { entries = []; index = [:] }
}

final class ObjectBox: ReleasableContainer {
    let type: String
    var state: Node = .scalar(.none)
    init(type: String) { self.type = type }
    func releaseChildren() { state = .scalar(.none) }
}

/// Runs one pickle (up to its STOP opcode) over a byte range, refusing every global outside the allow list.
struct Unpickler {
    let path: String
    var reader: ByteReader
    var stack: [Node] = []
    var marks: [Int] = []
    var memo: [Int: Node] = [:]
    /// Element type of every storage key named by a persistent id (the legacy format needs it to size storages).
    var storageTypes: [String: StorageDType] = [:]
    /// Every container created, so `dismantle` can free deep or cyclic structures without recursion.
    var containers: [ReleasableContainer] = []
    /// Offset of the opcode being executed, relative to the pickle's start.
    var opcodeOffset = 0

    init(buffer: ByteBuffer, start: Int, end: Int, path: String) {
        self.path = path
        self.reader = ByteReader(buffer, start: start, end: end, path: path)
    }

    func fail(_ reason: String) -> CheckpointError {
        .badPickle(path: path, offset: opcodeOffset, reason: reason)
    }

    /// Breaks every container's links so that releasing a deeply nested or cyclic structure neither recurses
    /// nor leaks. Call once the frozen value has been produced (or loading failed).
    mutating func dismantle() {
        for container in containers { container.releaseChildren() }
        containers = []
        stack = []
        memo = [:]
    }

    mutating func push(_ node: Node) { stack.append(node) }

    mutating func pop() throws -> Node {
        if let mark = marks.last, stack.count <= mark { throw fail("stack underflow (pop across a mark)") }
        guard let node = stack.popLast() else { throw fail("stack underflow") }
        return node
    }

    mutating func popMark() throws -> [Node] {
        guard let mark = marks.popLast() else { throw fail("no mark on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    mutating func newList(_ items: [Node] = []) -> Node {
        let box = ListBox()
        box.items = items
        containers.append(box)
        return .list(box)
    }

    mutating func newTuple(_ items: [Node]) -> Node {
        let box = TupleBox(items)
        containers.append(box)
        return .tuple(box)
    }

    mutating func newDict() -> DictBox {
        let box = DictBox()
        containers.append(box)
        return box
    }

    mutating func newObject(type: String) -> ObjectBox {
        let box = ObjectBox(type: type)
        containers.append(box)
        return box
    }

    private mutating func text(length: Int) throws -> String {
        let bytes = try reader.bytes(length, "pickle string of \(length) bytes")
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func byteArray(length: Int) throws -> [UInt8] {
        [UInt8](try reader.bytes(length, "pickle bytes of \(length) bytes"))
    }

    private mutating func line() throws -> String {
        var bytes: [UInt8] = []
        while true {
            let byte = try reader.u8("pickle GLOBAL name")
            if byte == 0x0A { break }
            bytes.append(byte)
            if bytes.count > 1024 { throw fail("GLOBAL name longer than 1024 bytes") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Little-endian two's-complement integer of `length` bytes (LONG1 / LONG4).
    private mutating func long(length: Int) throws -> Int {
        if length > 8 { throw fail("integer of \(length) bytes does not fit in 64 bits") }
        let bytes = try reader.bytes(length, "pickle LONG of \(length) bytes")
        var value: UInt64 = 0
        for (i, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        if length > 0 && length < 8 && bytes[length - 1] & 0x80 != 0 { value |= ~0 << (8 * UInt64(length)) }
        return Int(Int64(bitPattern: value))
    }

    private func memoIndex(_ raw: UInt32) -> Int { Int(raw) }

    private mutating func memoize(_ index: Int) throws {
        guard let top = stack.last, (marks.last ?? -1) < stack.count else { throw fail("memoize with an empty stack") }
        memo[index] = top
    }

    private mutating func recall(_ index: Int) throws {
        guard let node = memo[index] else { throw fail("memo entry \(index) is not defined") }
        push(node)
    }

    private mutating func append(_ items: [Node]) throws {
        guard let target = stack.last, (marks.last ?? -1) < stack.count else { throw fail("APPEND without a list") }
        guard case let .list(box) = target else { throw fail("APPEND to a non-list") }
        box.items.append(contentsOf: items)
    }

    private mutating func setItems(_ items: [Node]) throws {
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
        guard let target = stack.last, (marks.last ?? -1) < stack.count else { throw fail("SETITEM without a dict") }
        guard case let .dict(box) = target else { throw fail("SETITEM on a non-dict") }
        var i = 0
        while i < items.count {
            box.set(items[i], items[i + 1])
            i += 2
        }
    }

    /// Executes opcodes until STOP and returns the pickled value; `reader.position` is then just past STOP.
    mutating func load() throws -> Node {
        while true {
            opcodeOffset = reader.relativePosition
            let opcode = try reader.u8("pickle opcode (no STOP)")
            switch opcode {
            case 0x80:  // PROTO
                let protocolVersion = try reader.u8("pickle protocol")
                if protocolVersion > 5 { throw fail("pickle protocol \(protocolVersion) is newer than 5") }
            case 0x95: _ = try reader.u64("pickle FRAME length")  // FRAME: framing needs no handling
            case 0x2E:  // STOP
                let value = try pop()
                return value
            case 0x7D: push(.dict(newDict()))  // EMPTY_DICT
            case 0x5D: push(newList())  // EMPTY_LIST
            case 0x29: push(newTuple([]))  // EMPTY_TUPLE
            case 0x8F: push(newList())  // EMPTY_SET (as a list)
            case 0x28: marks.append(stack.count)  // MARK
            case 0x58: push(.scalar(.string(try text(length: Int(try reader.u32("BINUNICODE length"))))))
            case 0x8D: push(.scalar(.string(try text(length: try reader.requireLength(try reader.u64("BINUNICODE8 length"), "BINUNICODE8 text")))))
            case 0x8C: push(.scalar(.string(try text(length: Int(try reader.u8("SHORT_BINUNICODE length"))))))
            case 0x54: push(.scalar(.string(try text(length: Int(try reader.u32("BINSTRING length"))))))
            case 0x55: push(.scalar(.string(try text(length: Int(try reader.u8("SHORT_BINSTRING length"))))))
            case 0x42: push(.scalar(.bytes(try byteArray(length: Int(try reader.u32("BINBYTES length"))))))
            case 0x43: push(.scalar(.bytes(try byteArray(length: Int(try reader.u8("SHORT_BINBYTES length"))))))
            case 0x8E, 0x96:  // BINBYTES8, BYTEARRAY8
                let length = try reader.requireLength(try reader.u64("BINBYTES8 length"), "BINBYTES8 bytes")
                push(.scalar(.bytes(try byteArray(length: length))))
            case 0x4A: push(.scalar(.int(Int(Int32(bitPattern: try reader.u32("BININT"))))))
            case 0x4B: push(.scalar(.int(Int(try reader.u8("BININT1")))))
            case 0x4D: push(.scalar(.int(Int(try reader.u16("BININT2")))))
            case 0x8A: push(.scalar(.int(try long(length: Int(try reader.u8("LONG1 length"))))))
            case 0x8B: push(.scalar(.int(try long(length: Int(try reader.u32("LONG4 length"))))))
            case 0x47:  // BINFLOAT, big-endian
                let bits = UInt64(bigEndian: UInt64(littleEndian: try reader.u64("BINFLOAT")))
                push(.scalar(.float(Double(bitPattern: bits))))
            case 0x88: push(.scalar(.bool(true)))
            case 0x89: push(.scalar(.bool(false)))
            case 0x4E: push(.scalar(.none))
            case 0x85: let a = try pop(); push(newTuple([a]))
            case 0x86: let b = try pop(); let a = try pop(); push(newTuple([a, b]))
            case 0x87: let c = try pop(); let b = try pop(); let a = try pop(); push(newTuple([a, b, c]))
            case 0x74: push(newTuple(try popMark()))  // TUPLE
            case 0x6C: push(newList(try popMark()))  // LIST
            case 0x64:  // DICT
                let items = try popMark()
                push(.dict(newDict()))
                try setItems(items)
            case 0x73: let value = try pop(); let key = try pop(); try setItems([key, value])  // SETITEM
            case 0x75: try setItems(try popMark())  // SETITEMS
            case 0x61: let value = try pop(); try append([value])  // APPEND
            case 0x65, 0x90: try append(try popMark())  // APPENDS, ADDITEMS
            case 0x91: push(newList(try popMark()))  // FROZENSET (as a list)
            case 0x71: try memoize(Int(try reader.u8("BINPUT index")))
            case 0x72: try memoize(memoIndex(try reader.u32("LONG_BINPUT index")))
            case 0x94: try memoize(memo.count)  // MEMOIZE
            case 0x68: try recall(Int(try reader.u8("BINGET index")))
            case 0x6A: try recall(memoIndex(try reader.u32("LONG_BINGET index")))
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32:  // DUP
                guard let top = stack.last else { throw fail("DUP on an empty stack") }
                push(top)
            case 0x63:  // GLOBAL
                let module = try line()
                let name = try line()
                push(try resolveGlobal(module: module, name: name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case let .scalar(.string(moduleText)) = module, case let .scalar(.string(nameText)) = name else {
                    throw fail("STACK_GLOBAL operands are not strings")
                }
                push(try resolveGlobal(module: moduleText, name: nameText))
            case 0x52:  // REDUCE
                let arguments = try pop()
                let callable = try pop()
                push(try call(callable, arguments))
            case 0x81:  // NEWOBJ
                let arguments = try pop()
                let type = try pop()
                push(try call(type, arguments))
            case 0x92:  // NEWOBJ_EX
                _ = try pop()  // keyword arguments
                let arguments = try pop()
                let type = try pop()
                push(try call(type, arguments))
            case 0x62:  // BUILD
                let state = try pop()
                guard let target = stack.last, (marks.last ?? -1) < stack.count else { throw fail("BUILD without an object") }
                try build(target, state: state)
            case 0x51:  // BINPERSID
                let pid = try pop()
                push(try persistentLoad(pid))
            default:
                throw CheckpointError.unsupportedOpcode(path: path, opcode: opcode, offset: opcodeOffset)
            }
        }
    }
}
