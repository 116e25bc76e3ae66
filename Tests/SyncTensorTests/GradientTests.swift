import XCTest
@testable import SyncTensor

/// Finite-difference checks of every differentiable op's backward rule.
final class GradientTests: XCTestCase {
    func testElementwiseAndBroadcast() {
        let a = randn([2, 3], seed: 1), b = randn([3], seed: 2)
        assertGradients([a, b]) { $0[0] + $0[1] }
        assertGradients([a, b]) { $0[0] - $0[1] }
        assertGradients([a, b]) { $0[0] * $0[1] }
        let pos = randn([2, 1], seed: 3).abs() + 0.5
        assertGradients([a, pos]) { $0[0] / $0[1] }
    }

    func testUnary() {
        let x = randn([7], seed: 4)
        for op in [UnaryOp.relu, .gelu, .sigmoid, .exp, .sin, .cos, .square, .tanh] {
            assertGradients([x]) { $0[0].unary(op) }
        }
        let p = randn([5], seed: 5).abs() + 0.5
        assertGradients([p]) { $0[0].log() }
        assertGradients([p]) { $0[0].sqrt() }
        assertGradients([x]) { $0[0].affine(scale: -2, shift: 1) }
    }

    func testMatmulVariants() {
        let a = randn([2, 3, 4], seed: 6), b = randn([2, 4, 5], seed: 7), s = randn([4, 5], seed: 8)
        assertGradients([a, b]) { $0[0].matmul($0[1]) }
        assertGradients([a, s]) { $0[0].matmul($0[1]) }
        let bt = randn([2, 5, 4], seed: 9)
        assertGradients([a, bt]) { $0[0].matmul($0[1], transposeOther: true) }
        let at = randn([2, 4, 3], seed: 10)
        assertGradients([at, b]) { $0[0].matmul($0[1], transposeSelf: true) }
        assertGradients([at, s]) { $0[0].matmul($0[1], transposeSelf: true) }
        let st = randn([5, 4], seed: 11)
        assertGradients([at, st]) { $0[0].matmul($0[1], transposeSelf: true, transposeOther: true) }
        let w = randn([6, 4], seed: 12), bias = randn([6], seed: 13)
        assertGradients([a, w, bias]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
    }

    func testConvolutions() {
        let x = randn([2, 3, 5, 5], seed: 14), w = randn([4, 3, 3, 3], seed: 15), b = randn([4], seed: 16)
        assertGradients([x, w, b]) { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
        let w1 = randn([4, 3, 1, 1], seed: 17)
        assertGradients([x, w1]) { $0[0].conv2d(weight: $0[1], bias: nil) }
        let wt = randn([3, 2, 2, 2], seed: 18), bt = randn([2], seed: 19)
        assertGradients([x, wt, bt]) { $0[0].convTranspose2d(weight: $0[1], bias: $0[2], stride: 2) }
        let wt3 = randn([3, 2, 3, 3], seed: 20)
        assertGradients([x, wt3]) { $0[0].convTranspose2d(weight: $0[1], bias: nil, stride: 2, padding: 1, outputPadding: 1) }
        assertGradients([x]) { $0[0].maxPool2d(kernel: 3, stride: 2, padding: 1) }
    }

    func testNormalisations() {
        let x = randn([3, 6], seed: 21), w = randn([6], seed: 22), b = randn([6], seed: 23)
        assertGradients([x, w, b]) { $0[0].layerNorm(weight: $0[1], bias: $0[2], eps: 1e-5) }
        let y = randn([2, 4, 3, 2], seed: 24), w2 = randn([4], seed: 25), b2 = randn([4], seed: 26)
        assertGradients([y, w2, b2]) { $0[0].layerNorm2d(weight: $0[1], bias: $0[2]) }
        for training in [true, false] {
            assertGradients([y, w2, b2]) {
                $0[0].batchNorm2d(weight: $0[1], bias: $0[2], runningMean: Tensor(zeros: [4]),
                                  runningVar: Tensor(filled: 1, shape: [4]), training: training)
            }
        }
    }

    func testSoftmaxReductionsAndLayout() {
        let x = randn([2, 3, 4], seed: 27)
        assertGradients([x]) { $0[0].softmax() }
        assertGradients([x]) { $0[0].sum(dims: [1]) }
        assertGradients([x]) { $0[0].mean(dims: [0, 2], keepDims: true) }
        assertGradients([x]) { $0[0].permuted([2, 0, 1]) }
        assertGradients([x]) { $0[0].narrowed(2, start: 1, length: 2) }
        assertGradients([x]) { $0[0].padded([(0, 0), (1, 2), (0, 1)]) }
        assertGradients([x]) { $0[0].repeatInterleaved(3, dim: 1) }
        assertGradients([x]) { $0[0].indexSelect([1, 0, 1]) }
        assertGradients([x]) { $0[0].expanded(to: [2, 2, 3, 4]) }
        let y = randn([2, 1, 4], seed: 28)
        assertGradients([x, y]) { Tensor.concat([$0[0], $0[1]], dim: 1) }
    }

    func testInterpolation() {
        let x = randn([1, 2, 3, 4], seed: 29)
        assertGradients([x]) { $0[0].bilinearResized(height: 7, width: 5) }
        assertGradients([x]) { $0[0].bilinearResized(height: 2, width: 2) }
        assertGradients([x]) { $0[0].nearestResized(height: 6, width: 8) }
    }

    func testAccumulationAndNoGrad() {
        let w = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        (w * w).sum().backward()
        (w * w).sum().backward()
        assertClose(w.grad!, [4, 8])  // two passes of 2w accumulate
        let y = withNoGrad { w * w }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(y.isLeaf)
    }
}
