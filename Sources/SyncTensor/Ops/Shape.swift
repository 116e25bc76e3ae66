/// Layout ops: reshape (view), permute/transpose (copy), narrow, concat, stack, zero padding, expand,
/// repeat_interleave. Each has its backward rule.
extension Tensor {
    /// Same values viewed with another shape (shares storage). One dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(s.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        if s == shape && node == nil { return self }
        let out = Tensor(shape: s, storage: storage, offset: offset)
        let inShape = shape
        return out.recording("reshape", [self]) { g in [g.reshaped(inShape)] }
    }

    /// Flattens dimensions `start...end` into one.
    public func flattened(from start: Int = 0, to end: Int = -1) -> Tensor {
        let a = normalizedDim(start), b = normalizedDim(end)
        let merged = shape[a...b].reduce(1, *)
        return reshaped(Array(shape[..<a]) + [merged] + Array(shape[(b + 1)...]))
    }

    /// Inserts a dimension of size 1 at `d`.
    public func unsqueezed(_ d: Int) -> Tensor {
        var s = shape
        s.insert(1, at: d < 0 ? d + rank + 1 : d)
        return reshaped(s)
    }

    /// Removes dimension `d`, which must have size 1.
    public func squeezed(_ d: Int) -> Tensor {
        let dd = normalizedDim(d)
        precondition(shape[dd] == 1, "squeeze of dimension \(d) of \(shape)")
        var s = shape
        s.remove(at: dd)
        return reshaped(s)
    }

    /// Dimensions reordered: output dimension i is input dimension `order[i]` (copies to contiguous).
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.count == rank && Set(order) == Set(0..<rank), "bad permutation \(order) for \(shape)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let out = Tensor(zeros: outShape, zeroed: false)
        let inStrides = contiguousStrides(shape)
        StridedCopy.copy(src: data, srcStrides: order.map { inStrides[$0] }, dst: out.data, shape: outShape)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return out.recording("permute", [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two dimensions.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizedDim(a), normalizedDim(b))
        return permuted(order)
    }

    /// Elements `start..<start+length` of dimension `d`. A view when every outer dimension has size 1.
    public func narrowed(_ d: Int, start: Int, length: Int) -> Tensor {
        let dd = normalizedDim(d)
        precondition(start >= 0 && length >= 0 && start + length <= shape[dd], "narrow \(start)+\(length) of dim \(d) of \(shape)")
        var outShape = shape
        outShape[dd] = length
        let inner = shape[(dd + 1)...].reduce(1, *)
        let outer = shape[..<dd].reduce(1, *)
        let out: Tensor
        if outer == 1 {
            out = Tensor(shape: outShape, storage: storage, offset: offset + start * inner)
        } else {
            out = Tensor(zeros: outShape, zeroed: false)
            let src = data, dst = out.data, n = shape[dd]
            for o in 0..<outer {
                (dst + o * length * inner).update(from: src + (o * n + start) * inner, count: length * inner)
            }
        }
        let inShape = shape
        return out.recording("narrow", [self]) { g in
            var pads = [(Int, Int)](repeating: (0, 0), count: inShape.count)
            pads[dd] = (start, inShape[dd] - start - length)
            return [g.padded(pads)]
        }
    }

    /// Element `index` of dimension `d`, with that dimension removed.
    public func selected(_ d: Int, _ index: Int) -> Tensor { narrowed(d, start: index, length: 1).squeezed(d) }

    /// Zero padding: `pads[d] = (before, after)` for every dimension.
    public func padded(_ pads: [(Int, Int)]) -> Tensor {
        precondition(pads.count == rank, "padding for \(pads.count) dims of \(shape)")
        if pads.allSatisfy({ $0.0 == 0 && $0.1 == 0 }) { return self }
        let outShape = zip(shape, pads).map { $0 + $1.0 + $1.1 }
        let out = Tensor(zeros: outShape)
        let outStrides = contiguousStrides(outShape)
        let start = zip(pads, outStrides).reduce(0) { $0 + $1.0.0 * $1.1 }
        StridedCopy.copy(src: data, srcStrides: contiguousStrides(shape), dst: out.data + start,
                         shape: shape, dstStrides: outStrides)
        let inShape = shape
        return out.recording("pad", [self]) { g in
            var r = g
            for (d, p) in pads.enumerated() where p.0 != 0 || p.1 != 0 { r = r.narrowed(d, start: p.0, length: inShape[d]) }
            return [r]
        }
    }

    /// Concatenation along dimension `d`.
    public static func concat(_ tensors: [Tensor], dim d: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat of no tensors")
        let first = tensors[0]
        let dd = first.normalizedDim(d)
        for t in tensors {
            precondition(t.rank == first.rank && (0..<first.rank).allSatisfy { $0 == dd || t.shape[$0] == first.shape[$0] },
                         "concat: shape \(t.shape) vs \(first.shape) along \(d)")
        }
        var outShape = first.shape
        outShape[dd] = tensors.reduce(0) { $0 + $1.shape[dd] }
        let out = Tensor(zeros: outShape, zeroed: false)
        let outer = first.shape[..<dd].reduce(1, *)
        let inner = first.shape[(dd + 1)...].reduce(1, *)
        let rowOut = outShape[dd] * inner
        var at = 0
        for t in tensors {
            let rowIn = t.shape[dd] * inner
            let src = t.data, dst = out.data
            for o in 0..<outer { (dst + o * rowOut + at).update(from: src + o * rowIn, count: rowIn) }
            at += rowIn
        }
        let sizes = tensors.map { $0.shape[dd] }
        return out.recording("concat", tensors) { g in
            var start = 0
            return sizes.map { n in defer { start += n }; return g.narrowed(dd, start: start, length: n) }
        }
    }

    /// Stacks equally shaped tensors along a new dimension `d`.
    public static func stack(_ tensors: [Tensor], dim d: Int = 0) -> Tensor {
        concat(tensors.map { $0.unsqueezed(d) }, dim: d)
    }

    /// Broadcasts to `target` (NumPy rules), copying. Backward sums over the broadcast dimensions.
    public func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let out = Tensor(zeros: target, zeroed: false)
        let strides = broadcastStrides(of: shape, to: target)
        StridedCopy.copy(src: data, srcStrides: strides, dst: out.data, shape: target)
        let inShape = shape
        return out.recording("expand", [self]) { g in [g.summed(toShape: inShape)] }
    }

    /// Each slice along `d` repeated `repeats` times consecutively (torch.repeat_interleave).
    public func repeatInterleaved(_ repeats: Int, dim d: Int = 0) -> Tensor {
        let dd = normalizedDim(d)
        if repeats == 1 { return self }
        var outShape = shape
        outShape[dd] *= repeats
        let out = Tensor(zeros: outShape, zeroed: false)
        let outer = shape[..<dd].reduce(1, *), n = shape[dd], inner = shape[(dd + 1)...].reduce(1, *)
        let src = data, dst = out.data
        for o in 0..<outer {
            for i in 0..<n {
                let s = src + (o * n + i) * inner
                for r in 0..<repeats { (dst + ((o * n + i) * repeats + r) * inner).update(from: s, count: inner) }
            }
        }
        let inShape = shape
        return out.recording("repeat_interleave", [self]) { g in
            var gs = inShape
            gs.insert(repeats, at: dd + 1)
            return [g.reshaped(gs).sum(dims: [dd + 1])]
        }
    }

    /// Rows of dimension 0 picked by `indices` (embedding lookup / gather). Backward scatter-adds.
    public func indexSelect(_ indices: [Int]) -> Tensor {
        let inner = count / max(shape[0], 1)
        var outShape = shape
        outShape[0] = indices.count
        let out = Tensor(zeros: outShape, zeroed: false)
        for (r, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[0], "index \(i) out of range for \(shape[0]) rows")
            (out.data + r * inner).update(from: data + i * inner, count: inner)
        }
        let inShape = shape
        return out.recording("index_select", [self]) { g in
            let gi = Tensor(zeros: inShape)
            for (r, i) in indices.enumerated() {
                let d = gi.data + i * inner, s = g.data + r * inner
                for j in 0..<inner { d[j] += s[j] }
            }
            return [gi]
        }
    }
}

/// Strides that read a tensor of `shape` as if broadcast to `target` (0 along broadcast dimensions).
func broadcastStrides(of shape: [Int], to target: [Int]) -> [Int] {
    precondition(shape.count <= target.count, "cannot broadcast \(shape) to \(target)")
    let own = contiguousStrides(shape)
    let lead = target.count - shape.count
    return (0..<target.count).map { d in
        if d < lead { return 0 }
        let s = shape[d - lead]
        precondition(s == target[d] || s == 1, "cannot broadcast \(shape) to \(target)")
        return s == 1 ? 0 : own[d - lead]
    }
}

/// Broadcast result shape of two shapes (NumPy rules).
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let n = max(a.count, b.count)
    return (0..<n).map { i in
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast")
        return max(x, y)
    }
}

/// Strided element copies with the innermost dimension as a tight loop (memcpy when unit stride).
enum StridedCopy {
    static func copy(src: UnsafePointer<Float>, srcStrides: [Int], dst: UnsafeMutablePointer<Float>,
                     shape: [Int], dstStrides: [Int]? = nil) {
        let n = shape.reduce(1, *)
        if n == 0 { return }
        let dStrides = dstStrides ?? contiguousStrides(shape)
        if shape.isEmpty { dst[0] = src[0]; return }
        let r = shape.count
        let last = shape[r - 1], ss = srcStrides[r - 1], ds = dStrides[r - 1]
        let rows = n / last
        let outerShape = Array(shape[..<(r - 1)])
        Parallel.forRange(rows, costPerItem: last) { range in
            var idx = [Int](repeating: 0, count: r - 1)
            // Decompose range.lowerBound into a multi-index over the outer dims.
            var rem = range.lowerBound
            for d in stride(from: r - 2, through: 0, by: -1) { idx[d] = rem % outerShape[d]; rem /= outerShape[d] }
            var so = 0, dof = 0
            for d in 0..<(r - 1) { so += idx[d] * srcStrides[d]; dof += idx[d] * dStrides[d] }
            for _ in range {
                let s = src + so, dd = dst + dof
                if ss == 1 && ds == 1 { dd.update(from: s, count: last) }
                else { for j in 0..<last { dd[j * ds] = s[j * ss] } }
                // Increment the multi-index.
                var d = r - 2
                while d >= 0 {
                    idx[d] += 1
                    so += srcStrides[d]; dof += dStrides[d]
                    if idx[d] < outerShape[d] { break }
                    so -= srcStrides[d] * outerShape[d]; dof -= dStrides[d] * outerShape[d]
                    idx[d] = 0
                    d -= 1
                }
            }
        }
    }
}
