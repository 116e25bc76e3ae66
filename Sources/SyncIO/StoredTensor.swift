// The raw tensor value of this module: element type, shape and a strided view of shared bytes.

/// A tensor as stored in a file: element type, shape, and a strided view into bytes shared with the file mapping
/// (or an owned allocation). Several tensors may view one storage (transposes, slices); values are produced
/// contiguous (row-major) and converted on demand by `floats()`, `int64s()` and `contiguousBytes()`.
///
/// Element bytes are little-endian, as every supported format writes them on the hosts this package targets.
public struct StoredTensor: Sendable {
    /// Element type as stored.
    public let dtype: StorageDType
    /// Dimensions, outermost first (empty for a 0-d scalar).
    public let shape: [Int]
    /// Strides in elements, one per dimension.
    public let strides: [Int]
    let buffer: ByteBuffer
    /// Byte offset in `buffer` of the element at index (0, ..., 0).
    let byteOffset: Int

    /// Number of elements (the product of `shape`; 1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// True when the elements are laid out row-major without gaps, so no gather is needed.
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// Row-major strides for `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// Unchecked memberwise initialiser; callers have validated the view.
    init(dtype: StorageDType, shape: [Int], strides: [Int], buffer: ByteBuffer, byteOffset: Int) {
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.buffer = buffer
        self.byteOffset = byteOffset
    }

    /// A view of `storageBytes` bytes of `buffer` starting at `storageStart`, validated so that every element
    /// lies inside the storage and the element count stays reasonable. Throws `badTensor` naming `name` otherwise.
    init(validating buffer: ByteBuffer, storageStart: Int, storageBytes: Int, dtype: StorageDType,
         elementOffset: Int, shape: [Int], strides: [Int]?, path: String, name: String) throws {
        func fail(_ reason: String) -> CheckpointError { .badTensor(path: path, name: name, reason: reason) }
        guard storageStart >= 0, storageBytes >= 0, storageStart <= buffer.count,
              storageBytes <= buffer.count - storageStart else { throw fail("storage lies outside the file") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("negative dimension in shape \(shape)") }
        let strides = strides ?? StoredTensor.contiguousStrides(shape)
        guard strides.count == shape.count else { throw fail("shape \(shape) and strides \(strides) differ in rank") }
        guard strides.allSatisfy({ $0 >= 0 }), elementOffset >= 0 else { throw fail("negative stride or offset") }
        var count = 1
        var lastIndex = elementOffset
        for (size, step) in zip(shape, strides) {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("element count of shape \(shape) overflows") }
            count = product
            if size > 0 {
                let (reach, overflowReach) = (size - 1).multipliedReportingOverflow(by: step)
                let (sum, overflowSum) = lastIndex.addingReportingOverflow(reach)
                guard !overflowReach, !overflowSum else { throw fail("strides \(strides) overflow") }
                lastIndex = sum
            }
        }
        let storageElements = storageBytes / dtype.itemSize
        if count > 0 {
            guard lastIndex < storageElements else {
                throw fail("view (offset \(elementOffset), shape \(shape), strides \(strides)) exceeds its storage of \(storageElements) elements")
            }
            // Zero strides can make a small storage look huge; refuse views that would expand absurdly.
            guard count <= storageElements &* 64 &+ (1 << 20) else {
                throw fail("view of \(count) elements over a storage of \(storageElements) elements")
            }
        }
        // An empty view reads nothing: anchor it at the storage start whatever its (unchecked) offset.
        self.init(dtype: dtype, shape: shape, strides: strides, buffer: buffer,
                  byteOffset: storageStart + (count > 0 ? elementOffset * dtype.itemSize : 0))
    }

    /// A tensor of `dtype` holding a copy of `bytes` (row-major, little-endian).
    /// - Precondition: `bytes.count` equals the element count of `shape` times the item size.
    public init(dtype: StorageDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(bytes.count == shape.reduce(1, *) * dtype.itemSize,
                     "\(bytes.count) bytes do not hold a \(dtype) tensor of shape \(shape)")
        self.init(dtype: dtype, shape: shape, strides: StoredTensor.contiguousStrides(shape),
                  buffer: ByteBuffer.copying(bytes), byteOffset: 0)
    }

    /// A float32 tensor holding a copy of `floats` (row-major).
    /// - Precondition: `floats.count` equals the element count of `shape`.
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && floats.count == shape.reduce(1, *),
                     "\(floats.count) values do not fill shape \(shape)")
        let buffer = floats.withUnsafeBytes { ByteBuffer.copying($0) }
        self.init(dtype: .float32, shape: shape, strides: StoredTensor.contiguousStrides(shape), buffer: buffer, byteOffset: 0)
    }

    /// An int64 tensor holding a copy of `int64s` (row-major).
    /// - Precondition: `int64s.count` equals the element count of `shape`.
    public init(shape: [Int], int64s: [Int64]) {
        precondition(shape.allSatisfy { $0 >= 0 } && int64s.count == shape.reduce(1, *),
                     "\(int64s.count) values do not fill shape \(shape)")
        let buffer = int64s.withUnsafeBytes { ByteBuffer.copying($0) }
        self.init(dtype: .int64, shape: shape, strides: StoredTensor.contiguousStrides(shape), buffer: buffer, byteOffset: 0)
    }
}
