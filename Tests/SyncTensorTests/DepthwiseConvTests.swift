import XCTest
@testable import SyncTensor

/// Depthwise convolution: values by hand and against the dense `conv2d` with a block-diagonal weight (what
/// `groups = C` means), and finite-difference gradients for every stride/padding/kernel combination TinyViT uses.
final class DepthwiseConvTests: XCTestCase {
    func testHandComputed3x3() {
        // One channel, 3x3 input 1...9, kernel of ones except a centre 2, padding 1: each output is the sum of
        // its 3x3 neighbourhood (zeros outside) plus the centre value once more.
        let x = Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = Tensor(shape: [1, 1, 3, 3], values: [1, 1, 1, 1, 2, 1, 1, 1, 1])
        let y = x.depthwiseConv2d(weight: w, bias: Tensor(shape: [1], values: [0.5]), padding: 1)
        XCTAssertEqual(y.shape, [1, 1, 3, 3])
        assertClose(y, [13.5, 23.5, 19.5, 31.5, 50.5, 39.5, 31.5, 47.5, 37.5])
        // Stride 2 picks outputs (0,0), (0,2), (2,0), (2,2) of the stride-1 result.
        let y2 = x.depthwiseConv2d(weight: w, bias: nil, stride: 2, padding: 1)
        assertClose(y2, [13, 19, 31, 37])
    }

    func testMatchesDenseConvolutionWithBlockDiagonalWeight() {
        for (k, stride, padding, size) in [(3, 1, 1, 7), (3, 1, 1, 1), (3, 1, 1, 2), (3, 2, 1, 7), (3, 2, 1, 8), (1, 1, 0, 5), (2, 1, 0, 6), (5, 3, 2, 9)] {
            let c = 3
            let x = randn([2, c, size, size + 1], seed: 40), w = randn([c, 1, k, k], seed: 41), b = randn([c], seed: 42)
            let dense = Tensor(zeros: [c, c, k, k])
            for ch in 0..<c { (dense.data + (ch * c + ch) * k * k).update(from: w.data + ch * k * k, count: k * k) }
            let expected = x.conv2d(weight: dense, bias: b, stride: stride, padding: padding)
            let got = x.depthwiseConv2d(weight: w, bias: b, stride: stride, padding: padding)
            XCTAssertEqual(got.shape, expected.shape, "k \(k) stride \(stride) padding \(padding)")
            assertClose(got, expected.toArray(), tol: 1e-5)
        }
    }

    func testGradients() {
        let x = randn([2, 3, 5, 6], seed: 43), w = randn([3, 1, 3, 3], seed: 44), b = randn([3], seed: 45)
        assertGradients([x, w, b]) { $0[0].depthwiseConv2d(weight: $0[1], bias: $0[2], stride: 1, padding: 1) }
        assertGradients([x, w, b]) { $0[0].depthwiseConv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
        assertGradients([x, w]) { $0[0].depthwiseConv2d(weight: $0[1], bias: nil) }
        let w2 = randn([3, 1, 2, 3], seed: 46)
        assertGradients([x, w2]) { $0[0].depthwiseConv2d(weight: $0[1], bias: nil, stride: 2, padding: 0) }
    }

    func testNoTapeUnderNoGrad() {
        let x = randn([1, 2, 4, 4], seed: 47), w = randn([2, 1, 3, 3], seed: 48)
        w.requiresGrad = true
        let y = withNoGrad { x.depthwiseConv2d(weight: w, bias: nil, padding: 1) }
        XCTAssertFalse(y.requiresGrad)
    }
}
