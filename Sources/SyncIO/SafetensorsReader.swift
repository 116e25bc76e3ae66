// Reading safetensors files: validated JSON header, tensors viewing the memory-mapped data section.
import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping tensor names to
/// `dtype`, `shape` and `data_offsets` (plus an optional `__metadata__` string map), then the raw data.
public enum Safetensors {
    /// Largest header accepted, as in the reference implementation.
    static let maximumHeaderSize = 100_000_000

    /// Reads the file at `path` (memory-mapped; tensors view the mapping without copying).
    /// Tensors are ordered by their position in the data section.
    public static func read(path: String) throws -> (tensors: TensorMap, metadata: [String: String]) {
        try read(ByteBuffer.map(path: path), path: path)
    }

    /// True when `buffer` looks like a safetensors file (plausible header length, header starting with `{`).
    static func looksLike(_ buffer: ByteBuffer) -> Bool {
        guard buffer.count >= 10 else { return false }
        let length = UInt64(littleEndian: buffer.base.loadUnaligned(as: UInt64.self))
        return length >= 2 && length <= UInt64(buffer.count - 8) && buffer.base.load(fromByteOffset: 8, as: UInt8.self) == 0x7B
    }

    static func read(_ buffer: ByteBuffer, path: String) throws -> (tensors: TensorMap, metadata: [String: String]) {
        func bad(_ reason: String) -> CheckpointError { .badHeader(path: path, reason: reason) }
        var reader = ByteReader(buffer, path: path)
        let declared = try reader.u64("safetensors header length")
        guard declared <= UInt64(maximumHeaderSize) else { throw bad("header length \(declared) exceeds \(maximumHeaderSize) bytes") }
        let headerBytes = try reader.bytes(try reader.requireLength(declared, "safetensors header of \(declared) bytes"),
                                           "safetensors header")
        let dataStart = reader.position
        let dataSize = buffer.count - dataStart
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            throw bad("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw bad("header is not a JSON object") }
        var metadata: [String: String] = [:]
        var found: [(name: String, begin: Int, tensor: StoredTensor)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (key, item) in map {
                    guard let text = item as? String else { throw bad("__metadata__ value of '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw bad("entry '\(name)' is not an object") }
            guard let code = entry["dtype"] as? String else { throw bad("entry '\(name)' has no dtype") }
            guard let dtype = StorageDType(safetensorsCode: code) else {
                throw CheckpointError.unsupportedDType(path: path, dtype: "\(code) (tensor '\(name)')")
            }
            guard let shape = integers(entry["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw bad("entry '\(name)' has no valid shape")
            }
            guard let offsets = integers(entry["data_offsets"]), offsets.count == 2 else {
                throw bad("entry '\(name)' has no valid data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end else { throw bad("entry '\(name)' has data_offsets [\(begin), \(end)] out of order") }
            guard end <= dataSize else {
                throw CheckpointError.truncated(path: path, what: "tensor '\(name)' ends at \(end) beyond the \(dataSize)-byte data section")
            }
            var bytes = dtype.itemSize
            for size in shape {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: size)
                guard !overflow else { throw bad("entry '\(name)' shape \(shape) overflows") }
                bytes = product
            }
            guard bytes == end - begin else {
                throw bad("entry '\(name)' holds \(end - begin) bytes but \(code) \(shape) needs \(bytes)")
            }
            let tensor = StoredTensor(dtype: dtype, shape: shape, strides: StoredTensor.contiguousStrides(shape),
                                      buffer: buffer, byteOffset: dataStart + begin)
            found.append((name, begin, tensor))
        }
        found.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        return (TensorMap(found.map { ($0.name, $0.tensor) }), metadata)
    }

    /// A JSON array of non-fractional numbers as Ints, or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        result.reserveCapacity(array.count)
        for item in array {
            guard let number = item as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9e15, let integer = item as? Int else { return nil }
            result.append(integer)
        }
        return result
    }
}
