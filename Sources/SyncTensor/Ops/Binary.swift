/// Broadcasting elementwise arithmetic (add, sub, mul, div) with fast paths for equal shapes, scalars and
/// trailing-vector broadcasts (bias rows, channel scales). Backward reduces over broadcast dimensions.
enum BinaryOp { case add, sub, mul, div }

extension Tensor {
    public func adding(_ o: Tensor) -> Tensor { binary(.add, o) }
    public func subtracting(_ o: Tensor) -> Tensor { binary(.sub, o) }
    public func multiplying(_ o: Tensor) -> Tensor { binary(.mul, o) }
    public func dividing(_ o: Tensor) -> Tensor { binary(.div, o) }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(.div, b) }
    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

    /// In-place `self += o` (same element count), outside the tape: used for gradient accumulation.
    public func addInPlace(_ o: Tensor, scale: Float = 1) {
        precondition(o.count == count, "addInPlace \(o.shape) into \(shape)")
        let d = data, s = o.data
        Parallel.forRange(count) { r in
            if scale == 1 { for i in r { d[i] += s[i] } } else { for i in r { d[i] += scale * s[i] } }
        }
    }

    func binary(_ op: BinaryOp, _ o: Tensor) -> Tensor {
        let outShape = shape == o.shape ? shape : broadcastShape(shape, o.shape)
        let out = Tensor(zeros: outShape, zeroed: false)
        BinaryKernel.run(op, self, o, out)
        let a = self, b = o
        return out.recording("binary", [a, b]) { g in
            var ga: Tensor? = nil, gb: Tensor? = nil
            switch op {
            case .add:
                if a.requiresGrad { ga = g.summed(toShape: a.shape) }
                if b.requiresGrad { gb = g.summed(toShape: b.shape) }
            case .sub:
                if a.requiresGrad { ga = g.summed(toShape: a.shape) }
                if b.requiresGrad { gb = (-g).summed(toShape: b.shape) }
            case .mul:
                if a.requiresGrad { ga = g.binary(.mul, b).summed(toShape: a.shape) }
                if b.requiresGrad { gb = g.binary(.mul, a).summed(toShape: b.shape) }
            case .div:
                if a.requiresGrad { ga = g.binary(.div, b).summed(toShape: a.shape) }
                if b.requiresGrad { gb = (-(g * a)).binary(.div, b * b).summed(toShape: b.shape) }
            }
            return [ga, gb]
        }
    }

    /// Sums a broadcast gradient back to `target` (the shape before broadcasting).
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var dims: [Int] = Array(0..<lead)
        for (i, s) in target.enumerated() where s == 1 && shape[lead + i] != 1 { dims.append(lead + i) }
        let r = dims.isEmpty ? self : sum(dims: dims, keepDims: true)
        return r.reshaped(target)
    }
}

enum BinaryKernel {
    @inline(__always)
    static func apply(_ op: BinaryOp, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                      _ z: UnsafeMutablePointer<Float>, _ n: Int, xs: Int, ys: Int) {
        switch op {
        case .add: for i in 0..<n { z[i] = x[i * xs] + y[i * ys] }
        case .sub: for i in 0..<n { z[i] = x[i * xs] - y[i * ys] }
        case .mul: for i in 0..<n { z[i] = x[i * xs] * y[i * ys] }
        case .div: for i in 0..<n { z[i] = x[i * xs] / y[i * ys] }
        }
    }

    static func run(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor) {
        let n = out.count
        if n == 0 { return }
        let x = UnsafePointer(a.data), y = UnsafePointer(b.data), z = out.data
        if a.count == n && b.count == n {
            Parallel.forRange(n) { r in apply(op, x + r.lowerBound, y + r.lowerBound, z + r.lowerBound, r.count, xs: 1, ys: 1) }
            return
        }
        if b.count == 1 || a.count == 1 {
            let xs = a.count == 1 ? 0 : 1, ys = b.count == 1 ? 0 : 1
            Parallel.forRange(n) { r in
                apply(op, x + r.lowerBound * xs, y + r.lowerBound * ys, z + r.lowerBound, r.count, xs: xs, ys: ys)
            }
            return
        }
        // Trailing broadcast: the smaller operand repeats as whole rows (e.g. [N, C] + [C]).
        if a.count == n && n % b.count == 0 && trailingMatch(b.shape, out.shape) {
            let m = b.count
            Parallel.forRange(n / m, costPerItem: m) { r in
                for row in r { apply(op, x + row * m, y, z + row * m, m, xs: 1, ys: 1) }
            }
            return
        }
        if b.count == n && n % a.count == 0 && trailingMatch(a.shape, out.shape) {
            let m = a.count
            Parallel.forRange(n / m, costPerItem: m) { r in
                for row in r { apply(op, x, y + row * m, z + row * m, m, xs: 1, ys: 1) }
            }
            return
        }
        // General case: iterate rows of the innermost output dimension with per-operand strides.
        let sa = broadcastStrides(of: a.shape, to: out.shape), sb = broadcastStrides(of: b.shape, to: out.shape)
        let shape = out.shape, r = shape.count
        let last = shape[r - 1]
        let rows = n / last
        Parallel.forRange(rows, costPerItem: last) { range in
            for row in range {
                var rem = row, oa = 0, ob = 0
                for d in stride(from: r - 2, through: 0, by: -1) {
                    let i = rem % shape[d]; rem /= shape[d]
                    oa += i * sa[d]; ob += i * sb[d]
                }
                apply(op, x + oa, y + ob, z + row * last, last, xs: sa[r - 1], ys: sb[r - 1])
            }
        }
    }

    /// True when `small`, left-padded with 1s, equals the trailing dimensions of `big` exactly after its leading 1s.
    static func trailingMatch(_ small: [Int], _ big: [Int]) -> Bool {
        var s = small
        while let f = s.first, f == 1, s.count > 0 { s.removeFirst() }
        if s.count > big.count { return false }
        return Array(big.suffix(s.count)) == s
    }
}
