// Writing safetensors files atomically (temporary file, then rename).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Safetensors {
    /// Writes `tensors` in the given order, with an optional `__metadata__` string map, to `path`.
    ///
    /// The header is compact JSON (`__metadata__` first, metadata keys sorted) padded with spaces to a multiple
    /// of 8 bytes, as the reference implementation does; data follows in the same order as the header entries.
    /// The file is written to a temporary file in the same folder and renamed over `path`, so an error never
    /// leaves a partial file. Names must be unique and not `__metadata__`.
    public static func write(_ tensors: [(name: String, tensor: StoredTensor)], metadata: [String: String] = [:],
                             to path: String) throws {
        var header = "{"
        var first = true
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted().map { jsonString($0) + ":" + jsonString(metadata[$0]!) }.joined(separator: ",")
            header += "}"
            first = false
        }
        var seen = Set<String>()
        var offset = 0
        for (name, tensor) in tensors {
            guard name != "__metadata__", seen.insert(name).inserted else {
                throw CheckpointError.writeFailed(path: path, reason: "duplicate or reserved tensor name '\(name)'")
            }
            let size = tensor.elementCount * tensor.dtype.itemSize
            header += (first ? "" : ",") + jsonString(name) + ":{\"dtype\":\"\(tensor.dtype.safetensorsCode)\",\"shape\":["
            header += tensor.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
            first = false
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
        try writeAtomically(to: path) { sink in
            var length = UInt64(headerBytes.count).littleEndian
            try withUnsafeBytes(of: &length) { try sink($0) }
            try headerBytes.withUnsafeBytes { try sink($0) }
            for (_, tensor) in tensors { try tensor.withContiguousBytes { try sink($0) } }
        }
    }

    /// Writes a `TensorMap` in its order.
    public static func write(_ tensors: TensorMap, metadata: [String: String] = [:], to path: String) throws {
        try write(tensors.entries, metadata: metadata, to: path)
    }

    /// Writes named float32 arrays (the form model code produces), in the given order.
    /// - Precondition: each `values.count` equals the element count of its `shape`.
    public static func write(floats: [(name: String, shape: [Int], values: [Float])], metadata: [String: String] = [:],
                             to path: String) throws {
        try write(floats.map { ($0.name, StoredTensor(shape: $0.shape, floats: $0.values)) }, metadata: metadata, to: path)
    }

    /// JSON string literal of `text` (quotes, backslashes and control characters escaped; other text as UTF-8).
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// Creates `path` through a temporary sibling file: `body` streams bytes with the sink it is given; on success the
/// file is flushed and renamed over `path`, on any error the temporary file is removed.
func writeAtomically(to path: String, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
    let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw CheckpointError.writeFailed(path: path, reason: systemError()) }
    var closed = false
    do {
        try body { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = posixWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CheckpointError.writeFailed(path: path, reason: systemError())
                }
                offset += written
            }
        }
        guard fsync(fd) == 0 else { throw CheckpointError.writeFailed(path: path, reason: "fsync: " + systemError()) }
        closed = true
        guard close(fd) == 0 else { throw CheckpointError.writeFailed(path: path, reason: "close: " + systemError()) }
        guard rename(temporary, path) == 0 else { throw CheckpointError.writeFailed(path: path, reason: "rename: " + systemError()) }
    } catch {
        if !closed { close(fd) }
        unlink(temporary)
        throw error
    }
}

/// POSIX `write`, named apart from the Swift methods called `write` in this module.
@inline(__always)
private func posixWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, pointer, count)
    #else
    return Darwin.write(fd, pointer, count)
    #endif
}
