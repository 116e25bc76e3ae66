// Reading NumPy .npy arrays (format versions 1-3).

/// Readers of NumPy files: `.npy` arrays, `.npz` archives, and scipy CSR matrices saved with `np.savez`.
public enum NumPy {
    /// Reads the `.npy` file at `path` (memory-mapped; little-endian data is not copied).
    public static func readNPY(path: String) throws -> StoredTensor {
        let buffer = try ByteBuffer.map(path: path)
        return try parseNPY(buffer, start: 0, count: buffer.count, path: path)
    }

    /// Reads a `.npy` file held in memory.
    public static func readNPY(data: [UInt8]) throws -> StoredTensor {
        let buffer = ByteBuffer.copying(data)
        return try parseNPY(buffer, start: 0, count: buffer.count, path: "<memory>")
    }

    /// The parsed header of a `.npy` array.
    struct Header {
        var descr = ""
        var fortranOrder = false
        var shape: [Int] = []
        /// Absolute offset of the data in the buffer.
        var dataStart = 0
    }

    /// Parses the magic string, version and header dictionary of the array at `start`.
    static func parseHeader(_ buffer: ByteBuffer, start: Int, count: Int, path: String) throws -> Header {
        var reader = ByteReader(buffer, start: start, end: start + count, path: path)
        let magic = try reader.bytes(6, ".npy magic string")
        guard Array(magic) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] else {
            throw CheckpointError.badHeader(path: path, reason: "not a .npy array (no \\x93NUMPY magic)")
        }
        let major = try reader.u8(".npy version")
        _ = try reader.u8(".npy version")
        let length: Int
        switch major {
        case 1: length = Int(try reader.u16(".npy header length"))
        case 2, 3: length = Int(try reader.u32(".npy header length"))
        default: throw CheckpointError.unsupported(path: path, feature: ".npy format version \(major)")
        }
        let text = Array(try reader.bytes(length, ".npy header of \(length) bytes"))
        var parser = HeaderParser(bytes: text, path: path)
        var header = try parser.parse()
        header.dataStart = reader.position
        return header
    }

    /// Element type and byte order of a NumPy type string (`<f4`, `|u1`...); nil when unsupported.
    static func dtype(of descr: String) -> (StorageDType, bigEndian: Bool)? {
        guard descr.count >= 3 else { return nil }
        let order = descr.first!
        let code = String(descr.dropFirst())
        let type: StorageDType
        switch code {
        case "f4": type = .float32
        case "f8": type = .float64
        case "f2": type = .float16
        case "i8": type = .int64
        case "i4": type = .int32
        case "i2": type = .int16
        case "i1": type = .int8
        case "u1": type = .uint8
        case "b1": type = .bool
        default: return nil
        }
        switch order {
        case "<", "|", "=": return (type, false)
        case ">": return (type, type.itemSize > 1)
        default: return nil
        }
    }

    /// Parses an array occupying `[start, start + count)` of `buffer`.
    static func parseNPY(_ buffer: ByteBuffer, start: Int, count: Int, path: String) throws -> StoredTensor {
        let header = try parseHeader(buffer, start: start, count: count, path: path)
        guard let (type, bigEndian) = dtype(of: header.descr) else {
            throw CheckpointError.unsupportedDType(path: path, dtype: header.descr)
        }
        var elements = 1
        for size in header.shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard size >= 0, !overflow else { throw CheckpointError.badHeader(path: path, reason: "shape \(header.shape) overflows") }
            elements = product
        }
        let available = start + count - header.dataStart
        guard elements <= available / type.itemSize else {
            throw CheckpointError.truncated(path: path, what: ".npy data of \(elements) \(header.descr) elements")
        }
        var strides: [Int]? = nil
        if header.fortranOrder {  // column-major: the first index varies fastest
            var running = 1
            strides = header.shape.map { size in defer { running *= max(size, 1) }; return running }
        }
        var storage = buffer
        var storageStart = header.dataStart
        let byteCount = elements * type.itemSize
        if bigEndian {
            let source = buffer.slice(header.dataStart, byteCount)
            let size = type.itemSize
            storage = ByteBuffer.allocate(count: byteCount) { destination in
                for i in 0..<elements {
                    for j in 0..<size { destination[i * size + j] = source[i * size + size - 1 - j] }
                }
            }
            storageStart = 0
        }
        return try StoredTensor(validating: storage, storageStart: storageStart, storageBytes: byteCount, dtype: type,
                                elementOffset: 0, shape: header.shape, strides: strides, path: path, name: "array")
    }
}

/// Parser of the Python dict literal in a `.npy` header: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
private struct HeaderParser {
    let bytes: [UInt8]
    let path: String
    var position = 0

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    func fail(_ reason: String) -> CheckpointError {
        .badHeader(path: path, reason: ".npy header \(reason)")
    }

    mutating func skipSpaces() {
        while position < bytes.count, [0x20, 0x0A, 0x09, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipSpaces()
        guard position < bytes.count, bytes[position] == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    mutating func peek() -> UInt8? {
        skipSpaces()
        return position < bytes.count ? bytes[position] : nil
    }

    mutating func string() throws -> String {
        guard let quote = peek(), quote == 0x27 || quote == 0x22 else { throw fail("expected a string") }
        position += 1
        let begin = position
        while position < bytes.count, bytes[position] != quote { position += 1 }
        guard position < bytes.count else { throw fail("has an unterminated string") }
        defer { position += 1 }
        return String(decoding: bytes[begin..<position], as: UTF8.self)
    }

    mutating func word() -> String {
        skipSpaces()
        let begin = position
        while position < bytes.count, (bytes[position] >= 0x30 && bytes[position] <= 0x39) || (bytes[position] | 0x20 >= 0x61 && bytes[position] | 0x20 <= 0x7A) || bytes[position] == 0x5F {
            position += 1
        }
        return String(decoding: bytes[begin..<position], as: UTF8.self)
    }

    mutating func parse() throws -> NumPy.Header {
        var header = NumPy.Header()
        var seen = Set<String>()
        try expect(0x7B)
        while peek() != 0x7D {
            let key = try string()
            try expect(0x3A)
            switch key {
            case "descr":
                guard peek() == 0x27 || peek() == 0x22 else { throw CheckpointError.unsupportedDType(path: path, dtype: "structured dtype") }
                header.descr = try string()
            case "fortran_order":
                switch word() {
                case "True": header.fortranOrder = true
                case "False": header.fortranOrder = false
                default: throw fail("fortran_order is not True or False")
                }
            case "shape":
                try expect(0x28)
                while peek() != 0x29 {
                    guard let size = Int(word()), size >= 0 else { throw fail("shape holds a non-integer") }
                    header.shape.append(size)
                    if peek() == 0x2C { position += 1 }
                }
                try expect(0x29)
            default:
                throw fail("has unknown key '\(key)'")
            }
            seen.insert(key)
            if peek() == 0x2C { position += 1 }
            guard position < bytes.count else { throw fail("is unterminated") }
        }
        guard seen.contains("descr"), seen.contains("shape") else { throw fail("lacks descr or shape") }
        return header
    }
}
