import XCTest
@testable import SyncIO

/// Every `*.weights.pth` under fixtures/ against its `*.weights.safetensors` twin, discovered by listing folders.
final class FixtureWeightsTests: XCTestCase {
    func testPthAndSafetensorsTwinsAreEqual() throws {
        var pairs = 0
        for folder in try SharedFolder.list("fixtures") {
            let files = (try? SharedFolder.list("fixtures/" + folder)) ?? []
            for file in files where file.hasSuffix(".weights.pth") {
                let twin = String(file.dropLast(4)) + ".safetensors"
                guard files.contains(twin) else { continue }
                let pth = try Checkpoint.load(path: try SharedFolder.file("fixtures/\(folder)/\(file)"))
                let safetensors = try Checkpoint.load(path: try SharedFolder.file("fixtures/\(folder)/\(twin)"))
                XCTAssertEqual(pth.format, .pthZip)
                XCTAssertEqual(safetensors.format, .safetensors)
                XCTAssertEqual(Set(pth.tensors.names), Set(safetensors.tensors.names), "\(folder)/\(file)")
                XCTAssertGreaterThan(pth.tensors.count, 10)
                for name in safetensors.tensors.names {
                    assertSameTensor(pth.tensors[name], safetensors.tensors[name]!, "\(folder)/\(file): \(name)")
                }
                pairs += 1
            }
        }
        XCTAssertGreaterThanOrEqual(pairs, 4, "expected the tiny and tiny12 sam/syncsam pairs at least")
    }

    func testLiteMedSAMHalfPrecisionWeights() throws {
        let checkpoint = try Checkpoint.load(path: try SharedFolder.file("fixtures/litemedsam/tiny.weights.pth"))
        XCTAssertEqual(checkpoint.format, .pthZip)
        XCTAssertGreaterThan(checkpoint.tensors.count, 50)
        var halves = 0
        for (name, tensor) in checkpoint.tensors.entries where tensor.dtype == .float16 {
            let values = tensor.floats()
            XCTAssertEqual(values.count, tensor.elementCount, name)
            XCTAssertTrue(values.allSatisfy(\.isFinite), name)
            halves += 1
        }
        XCTAssertGreaterThan(halves, 50)
    }
}
