import Foundation
import XCTest
@testable import SyncTensor

/// The vectorised kernels against straightforward references: `VectorMath.erf`/`exp` over dense grids,
/// reductions at lengths that exercise the SIMD tails, and softmax / layer norms at sizes that split across
/// workers and pixel blocks.
final class VectorKernelTests: XCTestCase {
    func testErfMatchesLibmOverDenseGrid() {
        var worstVsExact = 0.0, worstVsErff = 0.0
        var x: Float = -6
        while x <= 6 {
            let e = Double(VectorMath.erf(x))
            worstVsExact = max(worstVsExact, Swift.abs(e - Foundation.erf(Double(x))))
            worstVsErff = max(worstVsErff, Swift.abs(e - Double(erff(x))))
            x += 1.0 / 8192 + x.ulp  // ~98k points, not aligned to the float grid
        }
        XCTAssertLessThanOrEqual(worstVsExact, 1e-7, "erf vs exact")
        XCTAssertLessThanOrEqual(worstVsErff, 1.2e-7, "erf vs glibc erff")
        XCTAssertEqual(VectorMath.erf(0), 0)
        XCTAssertEqual(VectorMath.erf(30), 1, accuracy: 1e-7)
        XCTAssertEqual(VectorMath.erf(-.infinity), -1, accuracy: 1e-7)
        XCTAssertTrue(VectorMath.erf(.nan).isNaN)
    }

    func testFourLaneErfIsBitIdenticalToScalar() {
        var values: [Float] = [0, -0, 4, -4, 30, -30, .infinity, -.infinity, .nan, 1e-30, -1e-30, 3.9999998]
        var x: Float = -6
        while x <= 6 { values.append(x); x += 1.0 / 1024 + x.ulp }
        while values.count % 4 != 0 { values.append(0.5) }
        for i in stride(from: 0, to: values.count, by: 4) {
            let lanes = VectorMath.erf(SIMD4(values[i], values[i + 1], values[i + 2], values[i + 3]))
            for l in 0..<4 {
                let scalar = VectorMath.erf(values[i + l])
                if scalar.isNaN { XCTAssertTrue(lanes[l].isNaN, "erf(\(values[i + l]))"); continue }
                XCTAssertEqual(lanes[l].bitPattern, scalar.bitPattern, "erf(\(values[i + l]))")
            }
        }
    }

    func testExpRelativeErrorAndLimits() {
        var worst = 0.0
        var x: Float = -87
        while x <= 88 {
            let exact = Foundation.exp(Double(x))
            worst = max(worst, Swift.abs(Double(VectorMath.exp(x)) - exact) / exact)
            x += 1.0 / 512 + x.ulp
        }
        XCTAssertLessThanOrEqual(worst, 2e-7)
        XCTAssertEqual(VectorMath.exp(0), 1)
        XCTAssertEqual(VectorMath.exp(-100), 0)
        XCTAssertEqual(VectorMath.exp(-.infinity), 0)
        XCTAssertTrue(VectorMath.exp(.nan).isNaN)
    }

    func testReductionsAtEveryTailLength() {
        var rng = SeededRandom(seed: 3)
        let t = Tensor.randomNormal([70], using: &rng), u = Tensor.randomNormal([70], using: &rng)
        for n in [1, 7, 8, 9, 15, 16, 17, 31, 33, 70] {
            let p = UnsafePointer(t.data), q = UnsafePointer(u.data)
            var s = 0.0, d = 0.0, m = -Float.infinity
            for i in 0..<n { s += Double(p[i]); d += Double(p[i]) * Double(q[i]); m = max(m, p[i]) }
            let mean = Float(s / Double(n))
            var ss = 0.0
            for i in 0..<n { ss += Double(p[i] - mean) * Double(p[i] - mean) }
            XCTAssertEqual(Double(VectorMath.sum(p, n)), s, accuracy: 1e-5, "sum n=\(n)")
            XCTAssertEqual(Double(VectorMath.dot(p, q, n)), d, accuracy: 1e-5, "dot n=\(n)")
            XCTAssertEqual(VectorMath.max(p, n), m, "max n=\(n)")
            XCTAssertEqual(Double(VectorMath.sumSquaredDeviations(p, n, mean: mean)), ss, accuracy: 1e-5, "ssd n=\(n)")
        }
    }

    func testGELUMatchesErffReferenceOnLargeTensor() {
        var rng = SeededRandom(seed: 4)
        let x = Tensor.randomNormal([100_003], std: 3, using: &rng)  // odd count: uneven worker chunks
        let y = x.gelu()
        for i in 0..<x.count {
            let v = x.data[i]
            let ref = Double(v) * 0.5 * (1 + Foundation.erf(Double(v) / 2.0.squareRoot()))
            if Swift.abs(Double(y.data[i]) - ref) > 2e-7 * max(1, Swift.abs(ref)) {
                XCTFail("gelu(\(v)) = \(y.data[i]), reference \(ref)"); return
            }
        }
    }

    func testSoftmaxMatchesNaiveRowsAndMaskedEntries() {
        var rng = SeededRandom(seed: 5)
        for c in [1, 5, 196, 257] {
            let x = Tensor.randomNormal([300, c], std: 4, using: &rng)
            if c > 1 { x.data[c + 1] = -.infinity }  // a masked entry in row 1
            let y = x.softmax()
            for r in 0..<300 {
                let row = (0..<c).map { Double(x.data[r * c + $0]) }
                let m = row.max()!
                let e = row.map { Foundation.exp($0 - m) }
                let s = e.reduce(0, +)
                for j in 0..<c where Swift.abs(Double(y.data[r * c + j]) - e[j] / s) > 1e-6 {
                    XCTFail("softmax c=\(c) row \(r) col \(j): \(y.data[r * c + j]) vs \(e[j] / s)"); return
                }
            }
            if c > 1 { XCTAssertEqual(y.data[c + 1], 0) }
        }
    }

    func testLayerNormsMatchDoubleReference() {
        var rng = SeededRandom(seed: 6)
        // Rows (nn.LayerNorm) with and without affine, a length with a SIMD tail.
        let x = Tensor.randomNormal([37, 771], std: 2, using: &rng)
        let w = Tensor.randomNormal([771], using: &rng), b = Tensor.randomNormal([771], using: &rng)
        for (wt, bt) in [(w, b), (nil, nil), (w, nil), (nil, b)] as [(Tensor?, Tensor?)] {
            let y = x.layerNorm(weight: wt, bias: bt, eps: 1e-6)
            XCTAssertLessThanOrEqual(maxLayerNormError(x, y, outer: 37, c: 771, inner: 1, w: wt, b: bt), 2e-5)
        }
        // Channels of NCHW (LayerNorm2d): pixel count not a multiple of the 512-pixel block, two images.
        let z = Tensor.randomNormal([2, 24, 33, 35], std: 2, using: &rng)
        let w2 = Tensor.randomNormal([24], using: &rng), b2 = Tensor.randomNormal([24], using: &rng)
        let y2 = z.layerNorm2d(weight: w2, bias: b2)
        XCTAssertLessThanOrEqual(maxLayerNormError(z, y2, outer: 2, c: 24, inner: 33 * 35, w: w2, b: b2), 2e-5)
    }

    func testSumOverLeadingDimSplitsInnerBlocks() {
        // [rows, C] summed over rows with C spanning several 1024-column blocks (bias-gradient shape), and a
        // middle-dimension sum with several outer slices.
        var rng = SeededRandom(seed: 7)
        let g = Tensor.randomNormal([33, 2500], using: &rng)
        let s = g.sum(dims: [0])
        for j in 0..<2500 {
            var ref = 0.0
            for i in 0..<33 { ref += Double(g.data[i * 2500 + j]) }
            if Swift.abs(Double(s.data[j]) - ref) > 1e-5 { XCTFail("column \(j): \(s.data[j]) vs \(ref)"); return }
        }
        let h = Tensor.randomNormal([3, 5, 1100], using: &rng)
        let t = h.sum(dims: [1])
        XCTAssertEqual(t.shape, [3, 1100])
        for o in 0..<3 { for j in 0..<1100 {
            var ref = 0.0
            for i in 0..<5 { ref += Double(h.data[(o * 5 + i) * 1100 + j]) }
            if Swift.abs(Double(t.data[o * 1100 + j]) - ref) > 1e-5 { XCTFail("(\(o), \(j))"); return }
        } }
        // Long rows (inner == 1) through the vectorised block sums.
        let r = h.sum(dims: [2])
        for o in 0..<15 {
            var ref = 0.0
            for j in 0..<1100 { ref += Double(h.data[o * 1100 + j]) }
            XCTAssertEqual(Double(r.data[o]), ref, accuracy: 1e-4)
        }
    }

    func testComparisonsAndClampGradient() {
        let x = Tensor(shape: [5], values: [-1, 0, 0.5, 1, 2])
        XCTAssertEqual(x.greater(than: 0.5).toArray(), [0, 0, 0, 1, 1])
        XCTAssertEqual(x.greaterOrEqual(0.5).toArray(), [0, 0, 1, 1, 1])
        XCTAssertEqual(x.less(than: 0.5).toArray(), [1, 1, 0, 0, 0])
        // Points away from the kinks (finite differences with h = 0.01 must not straddle them).
        let p = Tensor(shape: [6], values: [-1.3, -0.8, -0.2, 0.1, 0.6, 1.5])
        assertGradients([p]) { $0[0].clamped(min: -0.5, max: 0.7) }
        XCTAssertEqual(p.grad.map { $0.toArray().map { $0 != 0 } }, [false, false, true, true, true, false])
    }

    /// Largest |y - reference| of a layer norm over groups of `c` at stride `inner`, reference in Double.
    private func maxLayerNormError(_ x: Tensor, _ y: Tensor, outer: Int, c: Int, inner: Int, w: Tensor?, b: Tensor?) -> Double {
        var worst = 0.0
        for o in 0..<outer { for j in 0..<inner {
            let idx = (0..<c).map { o * c * inner + $0 * inner + j }
            let v = idx.map { Double(x.data[$0]) }
            let mu = v.reduce(0, +) / Double(c)
            let varc = v.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(c)
            for (k, i) in idx.enumerated() {
                let ref = (v[k] - mu) / (varc + 1e-6).squareRoot() * Double(w?.data[k] ?? 1) + Double(b?.data[k] ?? 0)
                worst = max(worst, Swift.abs(Double(y.data[i]) - ref))
            }
        } }
        return worst
    }
}
