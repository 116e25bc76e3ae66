import SyncNN
import SyncTensor
import XCTest
@testable import SyncSAM

/// Hand-computed checks of the trickiest ViT pieces: window partition with padding, get_rel_pos, and the
/// agreement of the differentiable and the fused attention paths.
final class AttentionTests: XCTestCase {
    func testWindowPartitionZeroPadsBottomRightInRowMajorWindowOrder() {
        // 5x5 grid of 0...24, window 3 -> padded to 6x6, 2x2 windows.
        let x = Tensor(shape: [1, 5, 5, 1], values: (0..<25).map(Float.init))
        let windows = WindowPartition.partition(x, window: 3)
        XCTAssertEqual(windows.shape, [4, 3, 3, 1])
        let w = windows.toArray()
        XCTAssertEqual(Array(w[0..<9]), [0, 1, 2, 5, 6, 7, 10, 11, 12])
        XCTAssertEqual(Array(w[9..<18]), [3, 4, 0, 8, 9, 0, 13, 14, 0])
        XCTAssertEqual(Array(w[18..<27]), [15, 16, 17, 20, 21, 22, 0, 0, 0])
        XCTAssertEqual(Array(w[27..<36]), [18, 19, 0, 23, 24, 0, 0, 0, 0])
        let back = WindowPartition.unpartition(windows, window: 3, height: 5, width: 5)
        XCTAssertEqual(back.shape, [1, 5, 5, 1])
        XCTAssertEqual(back.toArray(), x.toArray())
    }

    func testRelativePositionIndices() {
        // q = k = 3: qi - kj + 2.
        XCTAssertEqual(RelativePosition.indices(querySize: 3, keySize: 3), [2, 1, 0, 3, 2, 1, 4, 3, 2])
        // q = 2, k = 4: 2·qi − kj + 3.
        XCTAssertEqual(RelativePosition.indices(querySize: 2, keySize: 4), [3, 2, 1, 0, 5, 4, 3, 2])
    }

    func testRelativePositionTableIsInterpolatedLinearlyWithoutAlignedCorners() {
        // 5 rows -> 3 rows: src(i) = (i + 0.5)·5/3 − 0.5 = 1/3, 2, 11/3.
        let table = Tensor(shape: [5, 2], values: [0, 1, 10, 2, 20, 3, 30, 4, 40, 5])
        let r = RelativePosition.resized(table, length: 3).toArray()
        let expected: [Float] = [10.0 / 3, 1 + 1.0 / 3, 20, 3, 30 + 20.0 / 3, 4 + 2.0 / 3]
        for (a, b) in zip(r, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // get_rel_pos(2, 2) on that 5-row table: resized to 3 rows, gathered with indices [1, 0, 2, 1].
        let g = RelativePosition.gathered(querySize: 2, keySize: 2, table: table)
        XCTAssertEqual(g.shape, [2, 2, 2])
        let gv = g.toArray()
        for (a, b) in zip(gv, [20, 3, 10.0 / 3, 1 + 1.0 / 3, 30 + 20.0 / 3, 4 + 2.0 / 3, 20, 3] as [Float]) {
            XCTAssertEqual(a, b, accuracy: 1e-5)
        }
        // 127 -> 31 rows (SAM 1024 global tables at 256): src(0) = 1.548..., src(15) = 63, src(30) = 124.45...
        let long = Tensor(shape: [127, 1], values: (0..<127).map(Float.init))
        let short = RelativePosition.resized(long, length: 31).toArray()
        XCTAssertEqual(short[0], 127.0 / 62 - 0.5, accuracy: 1e-4)
        XCTAssertEqual(short[15], 63, accuracy: 1e-4)
        XCTAssertEqual(short[30], 30.5 * 127 / 31 - 0.5, accuracy: 1e-4)
    }

    func testDifferentiablePathMatchesFusedPathAndPassesGradients() {
        let store = ParameterStore(seed: 7)
        // Tables sized for 4 used on a 5x5 grid: exercises the interpolation inside get_rel_pos too.
        let attn = RelPosAttention(store.root, dim: 8, numHeads: 2, inputSize: 4)
        var rng = SeededRandom(seed: 3)
        attn.relPosH.assign(Tensor.randomNormal(attn.relPosH.shape, std: 0.5, using: &rng))
        attn.relPosW.assign(Tensor.randomNormal(attn.relPosW.shape, std: 0.5, using: &rng))
        let x = Tensor.randomNormal([2, 5, 5, 8], using: &rng)
        let fused = withNoGrad { attn(x) }
        x.requiresGrad = true
        let taped = attn(x)
        XCTAssertTrue(taped.requiresGrad)
        let a = fused.toArray(), b = taped.toArray()
        XCTAssertEqual(a.count, b.count)
        let maxError = zip(a, b).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(maxError, 1e-5)
        taped.sum().backward()
        XCTAssertNotNil(x.grad)
        XCTAssertGreaterThan(x.grad!.toArray().map(abs).max()!, 0)
    }

    func testWindowedAttentionSkipsPaddingExactly() {
        let store = ParameterStore(seed: 11)
        let attn = RelPosAttention(store.root, dim: 8, numHeads: 2, inputSize: 3)
        var rng = SeededRandom(seed: 5)
        attn.relPosH.assign(Tensor.randomNormal(attn.relPosH.shape, std: 0.5, using: &rng))
        attn.relPosW.assign(Tensor.randomNormal(attn.relPosW.shape, std: 0.5, using: &rng))
        attn.qkv.bias!.assign(Tensor.randomNormal(attn.qkv.bias!.shape, using: &rng))
        let x = Tensor.randomNormal([2, 5, 4, 8], using: &rng)
        let (fast, reference) = withNoGrad {
            (attn.windowed(x, window: 3),
             WindowPartition.unpartition(attn(WindowPartition.partition(x, window: 3)), window: 3, height: 5, width: 4))
        }
        XCTAssertEqual(fast.shape, [2, 5, 4, 8])
        let maxError = zip(fast.toArray(), reference.toArray()).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(maxError, 1e-5)
        // The taped path (input requiring gradients) gives the same values.
        x.requiresGrad = true
        let taped = attn.windowed(x, window: 3)
        XCTAssertLessThan(zip(taped.toArray(), reference.toArray()).map { abs($0 - $1) }.max()!, 1e-5)
    }
}
