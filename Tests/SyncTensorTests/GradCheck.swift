import XCTest
@testable import SyncTensor

/// Central finite-difference gradient check: the analytic gradient of `sum(f(inputs) * w)` (w a fixed random
/// weighting, so every output element matters) against (L(x + h) - L(x - h)) / 2h, per input element.
func assertGradients(_ inputs: [Tensor], h: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3,
                     file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
    for t in inputs { t.requiresGrad = true; t.grad = nil }
    let probe = withNoGrad { f(inputs) }
    var rng = SeededRandom(seed: 99)
    let w = Tensor.randomNormal(probe.shape, using: &rng)
    func loss() -> Double {
        withNoGrad {
            let y = f(inputs)
            var acc: Double = 0
            for i in 0..<y.count { acc += Double(y.data[i]) * Double(w.data[i]) }
            return acc
        }
    }
    let y = f(inputs)
    (y * w).sum().backward()
    for (k, t) in inputs.enumerated() {
        guard let g = t.grad else { XCTFail("input \(k) got no gradient", file: file, line: line); continue }
        XCTAssertEqual(g.shape, t.shape, file: file, line: line)
        for i in 0..<t.count {
            let old = t.data[i]
            t.data[i] = old + h; let lp = loss()
            t.data[i] = old - h; let lm = loss()
            t.data[i] = old
            let numeric = Float((lp - lm) / Double(2 * h))
            let analytic = g.data[i]
            if Swift.abs(numeric - analytic) > atol + rtol * Swift.abs(numeric) {
                XCTFail("input \(k) element \(i): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
                return
            }
        }
    }
}

func randn(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = SeededRandom(seed: seed)
    return Tensor.randomNormal(shape, std: scale, using: &rng)
}

func assertClose(_ a: Tensor, _ b: [Float], tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "element count", file: file, line: line)
    for (i, (x, y)) in zip(a.toArray(), b).enumerated() where Swift.abs(x - y) > tol * max(1, Swift.abs(y)) {
        XCTFail("element \(i): \(x) vs \(y)", file: file, line: line)
        return
    }
}
