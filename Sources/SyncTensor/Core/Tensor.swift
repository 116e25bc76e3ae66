/// A Float32 tensor: row-major contiguous values over a shared `TensorStorage`, NCHW by convention.
///
/// Tensors are immutable in shape; their values are mutated only by kernels, optimisers and loaders.
/// `reshaped` and leading-dimension `narrowed` return views that share storage; other layout changes
/// (`permuted`, `narrowed` on inner dims) copy into a new contiguous tensor with one tight kernel.
/// Integer data (labels, indices) is carried as exact small integers in Float32 or as `[Int]` arrays.
///
/// Autograd: a tensor created by an op while `GradMode.isEnabled` and with an input that requires
/// gradients records a `GradNode`; `backward()` walks that tape. Under `withNoGrad` nothing is recorded and
/// intermediates are freed as soon as they are unreferenced.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    /// Dimensions, outermost first.
    public let shape: [Int]
    /// The shared buffer.
    public let storage: TensorStorage
    /// Offset of element 0 in `storage`.
    public let offset: Int
    /// Whether gradients are accumulated into `grad` by `backward()` (leaf parameters) and whether ops record a tape.
    public var requiresGrad: Bool
    /// Accumulated gradient of a leaf tensor after `backward()`.
    public var grad: Tensor?
    /// The op that produced this tensor, when recorded.
    var node: GradNode?

    /// Number of elements.
    public let count: Int

    public var device: Device { .cpu }

    /// Wraps existing storage (a view). `offset + count` must lie inside the storage.
    public init(shape: [Int], storage: TensorStorage, offset: Int = 0, requiresGrad: Bool = false) {
        let n = shape.reduce(1, *)
        precondition(shape.allSatisfy { $0 >= 0 } && offset >= 0 && offset + n <= storage.count,
                     "tensor view \(shape) at \(offset) exceeds storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.offset = offset
        self.count = n
        self.requiresGrad = requiresGrad
    }

    /// A new zero-filled tensor (or uninitialised when `zeroed` is false: the caller writes every element).
    public convenience init(zeros shape: [Int], zeroed: Bool = true) {
        self.init(shape: shape, storage: TensorStorage(count: shape.reduce(1, *), zeroed: zeroed))
    }

    /// A tensor holding `values` (row-major) with the given shape.
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) {
        let n = shape.reduce(1, *)
        precondition(values.count == n, "\(values.count) values for shape \(shape)")
        let s = TensorStorage(count: n, zeroed: false)
        values.withUnsafeBufferPointer { src in
            if n > 0 { s.base.update(from: src.baseAddress!, count: n) }
        }
        self.init(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    /// A 0-d tensor.
    public convenience init(scalar: Float) { self.init(shape: [], values: [scalar]) }

    /// A tensor filled with `value`.
    public convenience init(filled value: Float, shape: [Int]) {
        self.init(zeros: shape, zeroed: false)
        data.initialize(repeating: value, count: count)
    }

    /// Pointer to element 0. Kernels read and write through it; valid while the tensor is alive.
    public var data: UnsafeMutablePointer<Float> { storage.base + offset }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Size of dimension `d` (negative counts from the end).
    public func size(_ d: Int) -> Int { shape[normalizedDim(d)] }

    /// Maps a possibly negative dimension index into 0..<rank.
    public func normalizedDim(_ d: Int) -> Int {
        let r = d < 0 ? d + rank : d
        precondition(r >= 0 && r < max(rank, 1), "dimension \(d) out of range for shape \(shape)")
        return r
    }

    /// The values, row-major.
    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The single value of a one-element tensor.
    public func item() -> Float {
        precondition(count == 1, "item() on tensor of shape \(shape)")
        return data[0]
    }

    /// A copy in fresh storage, detached from the tape.
    public func clone() -> Tensor {
        let t = Tensor(zeros: shape, zeroed: false)
        if count > 0 { t.data.update(from: data, count: count) }
        return t
    }

    /// The same values without autograd history (shares storage).
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage, offset: offset) }

    /// Copies `other`'s values into this tensor's storage (shapes must hold the same number of elements).
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: \(other.shape) into \(shape)")
        if count > 0 { data.update(from: other.data, count: count) }
    }

    public var description: String {
        let preview = toArray().prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(preview)\(count > 8 ? ", ..." : "")])"
    }
}

/// Row-major strides of a contiguous tensor of `shape`.
@inlinable public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[d] = acc
        acc *= shape[d]
    }
    return strides
}
