import XCTest
@testable import SyncTensor

/// Forward values against hand-computed results (PyTorch semantics).
final class OpValueTests: XCTestCase {
    func testBroadcastArithmetic() {
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], values: [10, 20, 30])
        assertClose(a + b, [11, 22, 33, 14, 25, 36])
        let c = Tensor(shape: [2, 1], values: [2, 4])
        assertClose(a / c, [0.5, 1, 1.5, 1, 1.25, 1.5])
        let d = Tensor(shape: [1, 2, 1], values: [1, -1])
        let e = Tensor(shape: [3, 1, 2], values: [1, 2, 3, 4, 5, 6])
        let r = d * e
        XCTAssertEqual(r.shape, [3, 2, 2])
        assertClose(r, [1, 2, -1, -2, 3, 4, -3, -4, 5, 6, -5, -6])
    }

    func testMatmulAndLinear() {
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], values: [7, 8, 9, 10, 11, 12])
        assertClose(a.matmul(b), [58, 64, 139, 154])
        assertClose(a.matmul(a, transposeOther: true), [14, 32, 32, 77])
        assertClose(a.matmul(a, transposeSelf: true), [17, 22, 27, 22, 29, 36, 27, 36, 45])
        let w = Tensor(shape: [2, 3], values: [1, 0, -1, 0.5, 0.5, 0.5])
        let bias = Tensor(shape: [2], values: [1, -1])
        assertClose(a.linear(weight: w, bias: bias), [-1, 2, -1, 6.5])
    }

    func testConv2dHandComputed() {
        // 1x1x3x3 input, 1x1x2x2 kernel of ones, stride 1, padding 0 -> sums of 2x2 blocks.
        let x = Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = Tensor(filled: 1, shape: [1, 1, 2, 2])
        assertClose(x.conv2d(weight: w, bias: Tensor(shape: [1], values: [0.5])), [12.5, 16.5, 24.5, 28.5])
        // padding 1, stride 2 with a centre-only 3x3 kernel picks every other pixel.
        var k = [Float](repeating: 0, count: 9); k[4] = 1
        let y = x.conv2d(weight: Tensor(shape: [1, 1, 3, 3], values: k), bias: nil, stride: 2, padding: 1)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        assertClose(y, [1, 3, 7, 9])
    }

    func testConvTransposeStride2Kernel2() {
        // k = s = 2: out[2i + a, 2j + b] = in[i, j] * W[a, b] + bias.
        let x = Tensor(shape: [1, 1, 1, 2], values: [1, 2])
        let w = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        let y = x.convTranspose2d(weight: w, bias: Tensor(shape: [1], values: [1]), stride: 2)
        XCTAssertEqual(y.shape, [1, 1, 2, 4])
        assertClose(y, [2, 3, 3, 5, 4, 5, 7, 9])
        // General case, overlapping windows: k = 3, s = 2, p = 1 on a 2x2 input of ones with a ones kernel.
        let z = Tensor(filled: 1, shape: [1, 1, 2, 2]).convTranspose2d(weight: Tensor(filled: 1, shape: [1, 1, 3, 3]), bias: nil, stride: 2, padding: 1)
        XCTAssertEqual(z.shape, [1, 1, 3, 3])
        assertClose(z, [1, 2, 1, 2, 4, 2, 1, 2, 1])
    }

    func testMaxPoolResNetStem() {
        let x = Tensor(shape: [1, 1, 4, 4], values: (0..<16).map { Float($0) })
        let y = x.maxPool2d(kernel: 3, stride: 2, padding: 1)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        assertClose(y, [5, 7, 13, 15])
    }

    func testLayerNormsAndSoftmax() {
        let x = Tensor(shape: [1, 4], values: [1, 2, 3, 4])
        // mean 2.5, var 1.25 -> (x - 2.5) / sqrt(1.25 + eps)
        let s = 1 / Float(1.25 + 1e-5).squareRoot()
        assertClose(x.layerNorm(weight: nil, bias: nil, eps: 1e-5), [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s], tol: 1e-5)
        // LayerNorm2d normalises over C at each pixel: [1, 2, 1, 1] with values (0, 2) -> (-1, 1).
        let y = Tensor(shape: [1, 2, 1, 1], values: [0, 2]).layerNorm2d(weight: Tensor(shape: [2], values: [2, 3]), bias: Tensor(shape: [2], values: [0, 1]), eps: 0)
        assertClose(y, [-2, 4])
        let p = Tensor(shape: [2], values: [0, Float(2).squareRoot().squareRoot()]).softmax()
        XCTAssertEqual(p.toArray().reduce(0, +), 1, accuracy: 1e-6)
        assertClose(Tensor(shape: [3], values: [1, 1, 1]).softmax(), [1 / 3, 1 / 3, 1 / 3])
    }

    func testBatchNormTrainingUpdatesRunningStats() {
        // One channel, values 1..4: mean 2.5, biased var 1.25, unbiased 5/3.
        let x = Tensor(shape: [2, 1, 1, 2], values: [1, 2, 3, 4])
        let rm = Tensor(shape: [1], values: [0]), rv = Tensor(shape: [1], values: [1])
        let y = x.batchNorm2d(weight: Tensor(shape: [1], values: [1]), bias: Tensor(shape: [1], values: [0]),
                              runningMean: rm, runningVar: rv, training: true)
        let s = 1 / Float(1.25 + 1e-5).squareRoot()
        assertClose(y, [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s])
        XCTAssertEqual(rm.data[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(rv.data[0], 0.9 + 0.1 * 5 / 3, accuracy: 1e-6)
        let e = x.batchNorm2d(weight: Tensor(shape: [1], values: [2]), bias: Tensor(shape: [1], values: [1]),
                              runningMean: Tensor(shape: [1], values: [1]), runningVar: Tensor(shape: [1], values: [4]), training: false, eps: 0)
        assertClose(e, [1, 2, 3, 4])
    }

    func testGELUIsExactErf() {
        let y = Tensor(shape: [3], values: [-1, 0, 1]).gelu()
        // 0.5 x (1 + erf(x / sqrt 2)): gelu(1) = 0.8413447, gelu(-1) = -0.1586553
        assertClose(y, [-0.15865526, 0, 0.84134475], tol: 1e-6)
    }

    func testBilinearAlignCornersFalse() {
        // 1x2 -> 1x4: src = (i + .5) / 2 - .5 -> [0 (clamped), .25, .75, 1.25 -> i0 = 1, i1 = 1]
        let y = Tensor(shape: [1, 1, 1, 2], values: [0, 4]).bilinearResized(height: 1, width: 4)
        assertClose(y, [0, 1, 3, 4])
        // 4 -> 2 downsampling averages pairs at factor 2 (src = 2i + 0.5).
        let z = Tensor(shape: [1, 1, 1, 4], values: [0, 2, 4, 6]).bilinearResized(height: 1, width: 2)
        assertClose(z, [1, 5])
        let n = Tensor(shape: [1, 1, 1, 2], values: [1, 2]).nearestResized(height: 1, width: 4)
        assertClose(n, [1, 1, 2, 2])
    }

    func testShapeOps() {
        let x = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        assertClose(x.transposed(), [1, 4, 2, 5, 3, 6])
        assertClose(x.narrowed(1, start: 1, length: 2), [2, 3, 5, 6])
        assertClose(Tensor.concat([x, x.narrowed(0, start: 0, length: 1)], dim: 0), [1, 2, 3, 4, 5, 6, 1, 2, 3])
        assertClose(x.padded([(0, 1), (1, 0)]), [0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0])
        assertClose(x.repeatInterleaved(2, dim: 0), [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        assertClose(x.indexSelect([1, 1, 0]), [4, 5, 6, 4, 5, 6, 1, 2, 3])
        assertClose(x.sum(dims: [0]), [5, 7, 9])
        assertClose(x.mean(dims: [1]), [2, 5])
        assertClose(Tensor.stack([x, x], dim: 1).reshaped([-1]).narrowed(0, start: 0, length: 6), [1, 2, 3, 1, 2, 3])
    }

    func testSeededRandomIsReproducible() {
        var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7)
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
        var r = SeededRandom(seed: 1)
        let t = Tensor.randomNormal([20_000], using: &r)
        XCTAssertEqual(t.mean().item(), 0, accuracy: 0.03)
        XCTAssertEqual((t * t).mean().item(), 1, accuracy: 0.05)
    }
}
