/// Sums and means over dimensions (accumulated in Double for long rows), with backward by broadcasting.
extension Tensor {
    /// Sum over `dims` (all when empty), keeping them as size-1 dimensions when `keepDims`.
    public func sum(dims: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ds = dims.isEmpty ? Array(0..<rank) : Array(Set(dims.map { normalizedDim($0) })).sorted()
        var keptShape = shape
        for d in ds { keptShape[d] = 1 }
        let out = Tensor(zeros: keptShape)
        ReduceKernel.sum(src: data, shape: shape, reduce: ds, dst: out.data)
        let finalShape = keepDims ? keptShape : shape.enumerated().filter { !ds.contains($0.offset) }.map(\.element)
        let inShape = shape
        let result = Tensor(shape: finalShape, storage: out.storage)
        return result.recording("sum", [self]) { g in [g.reshaped(keptShape).expanded(to: inShape)] }
    }

    /// Mean over `dims` (all when empty).
    public func mean(dims: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ds = dims.isEmpty ? Array(0..<rank) : dims.map { normalizedDim($0) }
        let n = Set(ds).reduce(1) { $0 * shape[$1] }
        return sum(dims: dims, keepDims: keepDims) * (1 / Float(max(n, 1)))
    }

    /// Largest element (no gradient).
    public func maxValue() -> Float { count == 0 ? -.infinity : toArray().max()! }
    /// Smallest element (no gradient).
    public func minValue() -> Float { count == 0 ? .infinity : toArray().min()! }
}

enum ReduceKernel {
    /// Reduces a contiguous tensor over the sorted dims `reduce`, writing the kept-shape result.
    static func sum(src: UnsafePointer<Float>, shape: [Int], reduce: [Int], dst: UnsafeMutablePointer<Float>) {
        if reduce.isEmpty { dst.update(from: src, count: shape.reduce(1, *)); return }
        // One reduced dimension per pass, innermost first; temporaries live in TensorStorage.
        var cur = shape
        var keep: TensorStorage? = nil
        var input = src
        for (k, d) in reduce.reversed().enumerated() {
            let outer = cur[..<d].reduce(1, *), n = cur[d], inner = cur[(d + 1)...].reduce(1, *)
            let isLast = k == reduce.count - 1
            let tmp = isLast ? nil : TensorStorage(count: outer * inner, zeroed: false)
            sumAxis(input, outer: outer, n: n, inner: inner, tmp?.base ?? dst)
            cur[d] = 1
            if let tmp { keep = tmp; input = UnsafePointer(tmp.base) }
        }
        _ = keep
    }

    static func sumAxis(_ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, _ y: UnsafeMutablePointer<Float>) {
        if inner == 1 {
            Parallel.forRange(outer, costPerItem: n) { r in
                for o in r {
                    var acc: Double = 0
                    let p = x + o * n
                    var i = 0
                    // Vectorised float partial sums per block, accumulated into Double every block.
                    while i < n {
                        let end = Swift.min(i + 256, n)
                        acc += Double(VectorMath.sum(p + i, end - i))
                        i = end
                    }
                    y[o] = Float(acc)
                }
            }
        } else {
            // Work items are (outer index, block of inner columns) so a single outer slice (bias gradients:
            // [rows, C] summed over rows) still splits over the workers; Double scratch once per chunk.
            let block = Swift.min(inner, 1024), blocks = (inner + block - 1) / block
            Parallel.forRange(outer * blocks, costPerItem: n * block) { r in
                let acc = UnsafeMutablePointer<Double>.allocate(capacity: block)
                defer { acc.deallocate() }
                for item in r {
                    let o = item / blocks, j0 = (item % blocks) * block, nj = Swift.min(block, inner - j0)
                    for j in 0..<nj { acc[j] = 0 }
                    for i in 0..<n {
                        let p = x + (o * n + i) * inner + j0
                        for j in 0..<nj { acc[j] += Double(p[j]) }
                    }
                    let q = y + o * inner + j0
                    for j in 0..<nj { q[j] = Float(acc[j]) }
                }
            }
        }
    }
}
