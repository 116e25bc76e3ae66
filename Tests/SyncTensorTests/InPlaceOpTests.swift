import XCTest
@testable import SyncTensor

/// In-place inference ops give exactly the values of their allocating counterparts, in the same storage.
final class InPlaceOpTests: XCTestCase {
    func testGELUInPlaceEqualsGELUAndKeepsStorage() {
        var rng = SeededRandom(seed: 11)
        let x = Tensor.randomNormal([3, 70_001], std: 3, using: &rng)
        let expected = x.gelu().toArray()
        let storage = x.storage
        let y = withNoGrad { x.geluInPlace() }
        XCTAssertTrue(y === x)
        XCTAssertTrue(y.storage === storage)
        XCTAssertEqual(y.toArray(), expected)
        XCTAssertEqual(Tensor(shape: [2], values: [1, -1]).geluInPlace().toArray(), [0.8413447, -0.15865526], accuracy: 1e-7)
    }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: accuracy, file: file, line: line) }
}
