/// Branch-free scalar math that LLVM vectorises inside plain `for` loops (no libm calls, no per-element
/// closures), plus SIMD reductions that a strict-FP compiler cannot vectorise on its own (sum, max).
/// Kernels call these inside their chunk loops; see `UnaryKernel`, `SoftmaxKernel` and `normalize`.
public enum VectorMath {
    /// erf(x) as an odd/even rational minimax fit on [0, 4] (numerator x^1..x^11, denominator 1 + x^2..x^10),
    /// evaluated in Double so float rounding of the coefficients does not add error: max abs error vs the
    /// exact erf is 5.2e-8 over all floats (glibc `erff`: 5.6e-8). |x| >= 4 returns +-(1 - 1.5e-8) -> +-1.
    @inlinable @inline(__always)
    public static func erf(_ a: Float) -> Float {
        let x = Double(Swift.min(Swift.max(a, -4), 4))
        let x2 = x * x
        var p: Double = 1.9746291654377444e-06
        p = p * x2 + 2.8801524482926876e-04
        p = p * x2 + 4.003345911551289e-03
        p = p * x2 + 5.346658686898129e-02
        p = p * x2 + 1.962446666796442e-01
        p = p * x2 + 1.128378977382369
        var q: Double = 3.7477359892416955e-05
        q = q * x2 + 1.2162485512285368e-03
        q = q * x2 + 1.5443874254019415e-02
        q = q * x2 + 1.164743408613803e-01
        q = q * x2 + 5.072484752677193e-01
        q = q * x2 + 1
        return Float(x * p / q)
    }

    /// `erf` of four lanes at once, bit-identical to the scalar `erf` (same clamp, same Double Horner steps and
    /// division): the scalar form does not vectorise on the SSE2 baseline (its Double division stays scalar), so
    /// GELU runs this one.
    @inlinable @inline(__always)
    public static func erf(_ a: SIMD4<Float>) -> SIMD4<Float> {
        // Clamp like Swift.min/max (NaN stays NaN) with masks: the generic pointwiseMin/Max are not inlined.
        var c = a
        c.replace(with: -4, where: a .< -4)
        c.replace(with: 4, where: a .> 4)
        let x = SIMD4<Double>(Double(c[0]), Double(c[1]), Double(c[2]), Double(c[3]))
        let x2 = x * x
        var p = SIMD4<Double>(repeating: 1.9746291654377444e-06)
        p = p * x2 + 2.8801524482926876e-04
        p = p * x2 + 4.003345911551289e-03
        p = p * x2 + 5.346658686898129e-02
        p = p * x2 + 1.962446666796442e-01
        p = p * x2 + 1.128378977382369
        var q = SIMD4<Double>(repeating: 3.7477359892416955e-05)
        q = q * x2 + 1.2162485512285368e-03
        q = q * x2 + 1.5443874254019415e-02
        q = q * x2 + 1.164743408613803e-01
        q = q * x2 + 5.072484752677193e-01
        q = q * x2 + 1
        let r = x * p / q
        return SIMD4(Float(r[0]), Float(r[1]), Float(r[2]), Float(r[3]))
    }

    /// exp(x) for x <= 88 (Cody-Waite reduction by ln 2, degree-6 Cephes polynomial, exponent by bit
    /// arithmetic): max relative error 8e-8 on [-87.3, 88]; 0 below -87.3 (and for -inf); x > 88 gives exp(88).
    /// NaN propagates. Used where inputs are bounded above (softmax after max subtraction, sigmoid, GELU').
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let xc = Swift.min(Swift.max(x, -87.33654), 88)
        // Round xc / ln2 to an integer with the 1.5 * 2^23 trick; its low mantissa bits then hold n.
        let t = xc * 1.44269504088896341 + 12_582_912
        let n = t - 12_582_912
        var r = xc - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * (r * r) + r + 1
        let scale = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return x < -87.33654 ? 0 : y * scale
    }

    @inlinable @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Sum of `n` floats with 16 float lanes (pairwise-like accuracy for rows up to a few thousand).
    @inlinable
    public static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD8<Float>(repeating: 0), b = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 16 <= n { a += load8(p + j); b += load8(p + j + 8); j += 16 }
        if j + 8 <= n { a += load8(p + j); j += 8 }
        var s = (a + b).sum()
        while j < n { s += p[j]; j += 1 }
        return s
    }

    /// Sum of squared deviations from `mean`.
    @inlinable
    public static func sumSquaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
        let m = SIMD8<Float>(repeating: mean)
        var a = SIMD8<Float>(repeating: 0), b = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 16 <= n {
            let d0 = load8(p + j) - m, d1 = load8(p + j + 8) - m
            a += d0 * d0; b += d1 * d1; j += 16
        }
        if j + 8 <= n { let d = load8(p + j) - m; a += d * d; j += 8 }
        var s = (a + b).sum()
        while j < n { let d = p[j] - mean; s += d * d; j += 1 }
        return s
    }

    /// Dot product of two rows.
    @inlinable
    public static func dot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD8<Float>(repeating: 0), b = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 16 <= n { a += load8(p + j) * load8(q + j); b += load8(p + j + 8) * load8(q + j + 8); j += 16 }
        if j + 8 <= n { a += load8(p + j) * load8(q + j); j += 8 }
        var s = (a + b).sum()
        while j < n { s += p[j] * q[j]; j += 1 }
        return s
    }

    /// Largest of `n >= 1` floats (NaN-free input; eight independent lanes so the loop vectorises).
    @inlinable
    public static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
        var j = 0
        while j + 8 <= n {
            m0 = p[j] > m0 ? p[j] : m0; m1 = p[j + 1] > m1 ? p[j + 1] : m1
            m2 = p[j + 2] > m2 ? p[j + 2] : m2; m3 = p[j + 3] > m3 ? p[j + 3] : m3
            m4 = p[j + 4] > m4 ? p[j + 4] : m4; m5 = p[j + 5] > m5 ? p[j + 5] : m5
            m6 = p[j + 6] > m6 ? p[j + 6] : m6; m7 = p[j + 7] > m7 ? p[j + 7] : m7
            j += 8
        }
        var m = Swift.max(Swift.max(Swift.max(m0, m1), Swift.max(m2, m3)), Swift.max(Swift.max(m4, m5), Swift.max(m6, m7)))
        while j < n { if p[j] > m { m = p[j] }; j += 1 }
        return m
    }
}
