import Foundation

/// Elementwise unary functions and scalar affine maps, each with its derivative.
public enum UnaryOp: Sendable { case relu, gelu, sigmoid, exp, log, sqrt, sin, cos, abs, square, tanh }

extension Tensor {
    public func relu() -> Tensor { unary(.relu) }
    /// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)) (PyTorch `nn.GELU()` default; erf from `VectorMath.erf`, 5e-8 abs).
    public func gelu() -> Tensor { unary(.gelu) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    public func sin() -> Tensor { unary(.sin) }
    public func cos() -> Tensor { unary(.cos) }
    public func abs() -> Tensor { unary(.abs) }
    public func square() -> Tensor { unary(.square) }
    public func tanh() -> Tensor { unary(.tanh) }

    /// `scale * x + shift` elementwise.
    public func affine(scale: Float, shift: Float) -> Tensor {
        let out = Tensor(zeros: shape, zeroed: false)
        let x = data, y = out.data
        Parallel.forRange(count) { r in for i in r { y[i] = scale * x[i] + shift } }
        return out.recording("affine", [self]) { g in [scale == 1 ? g : g * scale] }
    }

    /// Elementwise clamp to [lo, hi]; the gradient passes where the input is inside.
    public func clamped(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        let out = Tensor(zeros: shape, zeroed: false)
        let x = data, y = out.data
        Parallel.forRange(count) { r in for i in r { y[i] = Swift.min(Swift.max(x[i], lo), hi) } }
        let input = self
        return out.recording("clamp", [self]) { g in
            let m = Tensor(zeros: input.shape, zeroed: false)
            let xi = input.data, gp = g.data, d = m.data
            Parallel.forRange(input.count) { r in for i in r { d[i] = (xi[i] >= lo && xi[i] <= hi) ? gp[i] : 0 } }
            return [m]
        }
    }

    /// 1 where `x > threshold`, else 0 (no gradient).
    public func greater(than threshold: Float) -> Tensor { compare(.greater, threshold) }
    /// 1 where `x >= threshold`, else 0 (no gradient).
    public func greaterOrEqual(_ threshold: Float) -> Tensor { compare(.greaterOrEqual, threshold) }
    /// 1 where `x < threshold`, else 0 (no gradient).
    public func less(than threshold: Float) -> Tensor { compare(.less, threshold) }

    private enum Comparison { case greater, greaterOrEqual, less }

    /// One tight loop per comparison (no per-element closure), split over the workers.
    private func compare(_ op: Comparison, _ t: Float) -> Tensor {
        let out = Tensor(zeros: shape, zeroed: false)
        let x = data, y = out.data
        Parallel.forRange(count) { r in
            switch op {
            case .greater: for i in r { y[i] = x[i] > t ? 1 : 0 }
            case .greaterOrEqual: for i in r { y[i] = x[i] >= t ? 1 : 0 }
            case .less: for i in r { y[i] = x[i] < t ? 1 : 0 }
            }
        }
        return out
    }

    func unary(_ op: UnaryOp) -> Tensor {
        let out = Tensor(zeros: shape, zeroed: false)
        UnaryKernel.forward(op, data, out.data, count)
        // Keep only what the derivative reads: the output's storage for relu, sigmoid, exp, sqrt and tanh (a
        // storage, not the tensor, so the tape holds no cycle), the input otherwise.
        let outputOnly: Bool
        switch op {
        case .relu, .sigmoid, .exp, .sqrt, .tanh: outputOnly = true
        default: outputOnly = false
        }
        let y = out.storage, n = count, inShape = shape
        let savedInput: Tensor? = outputOnly ? nil : self
        return out.recording("unary", [self]) { g in
            let gi = Tensor(zeros: inShape, zeroed: false)
            // relu's derivative tests x > 0, equivalently y > 0.
            let x = savedInput.map { UnsafePointer($0.data) } ?? UnsafePointer(y.base)
            UnaryKernel.backward(op, x, y.base, g.data, gi.data, n)
            return [gi]
        }
    }
}

enum UnaryKernel {
    static let invSqrt2: Float = 0.70710678118654752
    static let invSqrt2Pi: Float = 0.39894228040143268

    static func forward(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forRange(n, costPerItem: op == .relu || op == .abs || op == .square ? 1 : 8) { r in
            switch op {
            case .relu: for i in r { y[i] = x[i] > 0 ? x[i] : 0 }
            case .gelu:
                // Four lanes per step (the scalar erf's Double division does not vectorise), scalar tail.
                var i = r.lowerBound
                while i + 4 <= r.upperBound {
                    let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD4<Float>.self)
                    let e = VectorMath.erf(v * invSqrt2)
                    UnsafeMutableRawPointer(y + i).storeBytes(of: 0.5 * v * (1 + e), as: SIMD4<Float>.self)
                    i += 4
                }
                for j in i..<r.upperBound { let v = x[j]; y[j] = 0.5 * v * (1 + VectorMath.erf(v * invSqrt2)) }
            case .sigmoid: for i in r { y[i] = 1 / (1 + VectorMath.exp(-x[i])) }
            case .exp: for i in r { y[i] = expf(x[i]) }
            case .log: for i in r { y[i] = logf(x[i]) }
            case .sqrt: for i in r { y[i] = sqrtf(x[i]) }
            case .sin: for i in r { y[i] = sinf(x[i]) }
            case .cos: for i in r { y[i] = cosf(x[i]) }
            case .abs: for i in r { y[i] = Swift.abs(x[i]) }
            case .square: for i in r { y[i] = x[i] * x[i] }
            case .tanh: for i in r { y[i] = tanhf(x[i]) }
            }
        }
    }

    /// gi = g * f'(x), using the saved output y where cheaper.
    static func backward(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                         _ g: UnsafePointer<Float>, _ gi: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forRange(n, costPerItem: 8) { r in
            switch op {
            case .relu: for i in r { gi[i] = x[i] > 0 ? g[i] : 0 }
            case .gelu:
                for i in r {
                    let v = x[i]
                    let cdf = 0.5 * (1 + VectorMath.erf(v * invSqrt2))
                    let pdf = invSqrt2Pi * VectorMath.exp(-0.5 * v * v)
                    gi[i] = g[i] * (cdf + v * pdf)
                }
            case .sigmoid: for i in r { gi[i] = g[i] * y[i] * (1 - y[i]) }
            case .exp: for i in r { gi[i] = g[i] * y[i] }
            case .log: for i in r { gi[i] = g[i] / x[i] }
            case .sqrt: for i in r { gi[i] = g[i] * 0.5 / y[i] }
            case .sin: for i in r { gi[i] = g[i] * cosf(x[i]) }
            case .cos: for i in r { gi[i] = -g[i] * sinf(x[i]) }
            case .abs: for i in r { gi[i] = x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : 0) }
            case .square: for i in r { gi[i] = 2 * x[i] * g[i] }
            case .tanh: for i in r { gi[i] = g[i] * (1 - y[i] * y[i]) }
            }
        }
    }
}
