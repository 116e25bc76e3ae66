/// Matrix products on BLAS sgemm: `matmul` (2-D and batched, optional transposes, a 2-D right operand shared
/// across the batch) and `linear` (PyTorch `F.linear`: `x W^T + b` with the bias folded into the GEMM).
extension Tensor {
    /// `op(self) · op(other)`: self [..., M, K] (or [..., K, M] when `transposeSelf`), other [..., K, N]
    /// (or [..., N, K] when `transposeOther`), or a 2-D other shared by every batch entry.
    /// Leading batch dimensions must be equal. Returns [..., M, N].
    public func matmul(_ other: Tensor, transposeSelf ta: Bool = false, transposeOther tb: Bool = false) -> Tensor {
        precondition(rank >= 2 && other.rank >= 2, "matmul needs rank >= 2: \(shape) x \(other.shape)")
        let m = ta ? shape[rank - 1] : shape[rank - 2]
        let k = ta ? shape[rank - 2] : shape[rank - 1]
        let k2 = tb ? other.shape[other.rank - 1] : other.shape[other.rank - 2]
        let n = tb ? other.shape[other.rank - 2] : other.shape[other.rank - 1]
        precondition(k == k2, "matmul inner sizes differ: \(shape) x \(other.shape) (transposes \(ta), \(tb))")
        let batchShape = Array(shape[..<(rank - 2)])
        let batch = batchShape.reduce(1, *)
        let shared = other.rank == 2
        precondition(shared || Array(other.shape[..<(other.rank - 2)]) == batchShape,
                     "matmul batch dimensions differ: \(shape) x \(other.shape)")
        let out = Tensor(zeros: batchShape + [m, n], zeroed: false)
        let lda = ta ? m : k, ldb = tb ? k : n
        if shared && !ta {
            // Fold the batch into M: one large GEMM.
            BLAS.sgemm(transA: false, transB: tb, m: batch * m, n: n, k: k, a: data, lda: lda,
                       b: other.data, ldb: ldb, c: out.data, ldc: n)
        } else {
            // Batch entries split over the workers, one single-threaded GEMM each (never nested in BLAS threads).
            let bStride = shared ? 0 : k * n
            let a = UncheckedSendableBox(UnsafePointer(data)), b = UncheckedSendableBox(UnsafePointer(other.data))
            let c = UncheckedSendableBox(out.data)
            Parallel.forRange(batch, costPerItem: batch > 1 ? m * n * k : 1) { range in
                for i in range {
                    BLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a.value + i * m * k, lda: lda,
                               b: b.value + i * bStride, ldb: ldb, c: c.value + i * m * n, ldc: n)
                }
            }
        }
        let a = self, b = other
        return out.recording("matmul", [a, b]) { g in
            var ga: Tensor? = nil, gb: Tensor? = nil
            if a.requiresGrad {
                // C = op(A) op(B): for op(A) = A, dA = dC op(B)^T; for op(A) = A^T, dA = op(B) dC^T.
                ga = ta ? Tensor.gradTransposedA(g: g, b: b, tb: tb, shared: shared, aShape: a.shape)
                        : g.matmul(b, transposeOther: !tb)
            }
            if b.requiresGrad {
                // dop(B) = op(A)^T dC, summed over the batch when B is shared.
                if shared {
                    let a2 = a.reshaped([batch * (ta ? k : m), ta ? m : k])
                    let g2 = g.reshaped([batch * m, n])
                    if ta {
                        // op(A) per batch is A_i^T; accumulate A_i g_i over the batch.
                        let acc = Tensor(zeros: [k, n])
                        for i in 0..<batch {
                            BLAS.sgemm(transA: false, transB: false, m: k, n: n, k: m, a: a.data + i * k * m, lda: m,
                                       b: g.data + i * m * n, ldb: n, beta: 1, c: acc.data, ldc: n)
                        }
                        gb = tb ? acc.transposed() : acc
                    } else {
                        gb = tb ? g2.matmul(a2, transposeSelf: true) : a2.matmul(g2, transposeSelf: true)
                    }
                } else {
                    gb = tb ? g.matmul(a, transposeSelf: true, transposeOther: ta)
                            : a.matmul(g, transposeSelf: !ta)
                }
            }
            return [ga, gb]
        }
    }

    /// dA for C = A^T op(B): dA = op(B) dC^T, i.e. [K, M] per batch.
    static func gradTransposedA(g: Tensor, b: Tensor, tb: Bool, shared: Bool, aShape: [Int]) -> Tensor {
        let r = aShape.count
        let k = aShape[r - 2], m = aShape[r - 1]
        let batch = aShape[..<(r - 2)].reduce(1, *)
        let n = g.shape[g.rank - 1]
        let out = Tensor(zeros: aShape, zeroed: false)
        let bStride = shared ? 0 : k * n
        for i in 0..<batch {
            BLAS.sgemm(transA: tb, transB: true, m: k, n: m, k: n, a: b.data + i * bStride, lda: tb ? k : n,
                       b: g.data + i * m * n, ldb: n, c: out.data + i * k * m, ldc: m)
        }
        return out
    }

    /// `x W^T + b` over the last dimension: self [..., in], weight [out, in], bias [out] -> [..., out].
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        let inF = shape[rank - 1], outF = weight.shape[0]
        precondition(weight.rank == 2 && weight.shape[1] == inF, "linear: input \(shape) vs weight \(weight.shape)")
        let rows = count / max(inF, 1)
        let out = Tensor(zeros: Array(shape[..<(rank - 1)]) + [outF], zeroed: bias == nil)
        if let bias {
            precondition(bias.count == outF, "linear: bias \(bias.shape) for \(outF) outputs")
            // Bias rows written by both workers (a serial fill of [tokens, out] costs as much as a tenth of the GEMM).
            let dst = UncheckedSendableBox(out.data), src = UncheckedSendableBox(UnsafePointer(bias.data))
            Parallel.forRange(rows, costPerItem: outF) { range in
                for r in range { (dst.value + r * outF).update(from: src.value, count: outF) }
            }
        }
        BLAS.sgemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: data, lda: inF,
                   b: weight.data, ldb: inF, beta: bias == nil ? 0 : 1, c: out.data, ldc: outF)
        let x = self
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        // Capture the input only when the weight needs its gradient (frozen layers keep no activation).
        let needInputGrad = x.requiresGrad, inputShape = x.shape
        let savedInput: Tensor? = weight.requiresGrad ? x : nil
        return out.recording("linear", inputs) { g in
            var gx: Tensor? = nil, gw: Tensor? = nil, gbias: Tensor? = nil
            if needInputGrad {
                let t = Tensor(zeros: inputShape, zeroed: false)
                BLAS.sgemm(transA: false, transB: false, m: rows, n: inF, k: outF, a: g.data, lda: outF,
                           b: weight.data, ldb: inF, c: t.data, ldc: inF)
                gx = t
            }
            if let x = savedInput {
                let t = Tensor(zeros: weight.shape, zeroed: false)
                BLAS.sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: g.data, lda: outF,
                           b: x.data, ldb: inF, c: t.data, ldc: inF)
                gw = t
            }
            if let bias, bias.requiresGrad { gbias = g.reshaped([rows, outF]).sum(dims: [0]).reshaped(bias.shape) }
            return [gx, gw, gbias]
        }
    }
}
