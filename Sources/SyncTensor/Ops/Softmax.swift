import Foundation

/// Softmax over the last dimension (max-subtracted), backward `y * (g - sum(g * y))`.
extension Tensor {
    public func softmax() -> Tensor {
        let c = shape[rank - 1], rows = count / max(c, 1)
        let out = Tensor(zeros: shape, zeroed: false)
        SoftmaxKernel.rows(data, out.data, rows: rows, c: c)
        // The output's storage (not the tensor: no cycle through its tape node) is all the backward needs.
        let saved = out.storage, outShape = shape
        return out.recording("softmax", [self]) { g in
            let gi = Tensor(zeros: outShape, zeroed: false)
            let y = saved.base, gp = g.data, d = gi.data
            Parallel.forRange(rows, costPerItem: c * 2) { r in
                for row in r {
                    let yy = y + row * c, gg = gp + row * c, dd = d + row * c
                    let dot = VectorMath.dot(yy, gg, c)
                    for j in 0..<c { dd[j] = yy[j] * (gg[j] - dot) }
                }
            }
            return [gi]
        }
    }

    /// Softmax computed in place over the last dimension (inference helper for attention scores; no tape).
    public func softmaxInPlace() {
        let c = shape[rank - 1]
        SoftmaxKernel.rows(data, data, rows: count / max(c, 1), c: c)
    }
}

public enum SoftmaxKernel {
    /// Row-wise softmax from `x` to `y` (may alias): vectorised max, `VectorMath.exp`, sum and scale.
    public static func rows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, c: Int) {
        if c == 0 { return }
        Parallel.forRange(rows, costPerItem: c * 4) { r in
            for row in r {
                let xx = x + row * c, yy = y + row * c
                let m = VectorMath.max(xx, c)
                for j in 0..<c { yy[j] = VectorMath.exp(xx[j] - m) }
                let inv = 1 / VectorMath.sum(yy, c)
                for j in 0..<c { yy[j] *= inv }
            }
        }
    }
}
